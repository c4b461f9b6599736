/**
 * A bitmap over pfns (bit i = byte[i >> 3] & (1 << (i & 7))) with rank, read from its file a chunk at a time.
 *
 * A kdump file of a 16 TiB machine has two bitmaps of 512 MiB; opening it must not read them. Nothing is read at
 * construction: a chunk (64 KiB of bitmap, 2 GiB of RAM at 4 KiB pages) is read when a bit in it is tested, and
 * kept in a small LRU with its own rank table (one count per 64 bytes). Rank needs the set bits of every chunk
 * below: those counts are made in order, once, on demand, by streaming the bitmap through one buffer (nothing of
 * it is kept but one number per chunk). So a session that reads low memory reads the low chunks only; `total`
 * (what `tscrash info` prints) streams the whole bitmap once in bounded memory.
 */

/** The bytes a bitmap is read from: a file or flattened stream (ByteSource.read's contract). */
export interface BitmapBytes {
  read(buf: Uint8Array, offset: number, length: number, position: number): number;
}

/** Bytes of bitmap per chunk. */
const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT;
/** Bytes per rank block inside a chunk (16 words). */
const BLOCK_SHIFT = 6;
/** Chunks kept decoded. */
const CACHED = 32;
/** Chunks read at once when counting. */
const STREAM_CHUNKS = 16;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function pop32(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

const ZEROS = Buffer.alloc(CHUNK);

/** Whether bytes [from, from + CHUNK) of buf are all zero (memcmp: a big machine's bitmap is mostly zeros). */
function zeroChunk(buf: Uint8Array, from: number): boolean {
  return Buffer.compare(Buffer.from(buf.buffer, buf.byteOffset + from, CHUNK), ZEROS) === 0;
}

/** Set bits of words [from, to). */
function popWords(w: Int32Array, from: number, to: number): number {
  let n = 0;
  for (let j = from; j < to; j++) {
    const v = w[j]!;
    if (v !== 0) n += pop32(v);
  }
  return n;
}

interface Chunk {
  bytes: Uint8Array;
  words: Int32Array;
  /** ranks[b] = set bits in blocks [0, b) of this chunk. */
  ranks: Uint32Array;
}

class ArrayBytes implements BitmapBytes {
  constructor(private readonly b: Uint8Array) {}
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.b.length - position));
    buf.set(this.b.subarray(position, position + n), offset);
    return n;
  }
}

export class RankedBitmap {
  /** Bytes of bitmap. */
  readonly byteLength: number;
  private readonly nchunks: number;
  /** Set bits per chunk, -1 while unknown. */
  private readonly counts: Int32Array;
  /** prefix[k] = set bits in chunks [0, k), known for k <= prefixDone. */
  private readonly prefix: Float64Array;
  private prefixDone = 0;
  private readonly cache = new Map<number, Chunk>();
  private scratch: Uint8Array | undefined;
  /** Bytes read from the source so far (for the big-machine tests and bench). */
  bytesRead = 0;

  /**
   * The bitmap of `byteLength` bytes at `position` in `src`; or, with a Uint8Array alone, that array. Bytes the
   * source does not have (a short read) count as zeros.
   */
  constructor(bits: Uint8Array);
  constructor(src: BitmapBytes, position: number, byteLength: number);
  constructor(
    src: BitmapBytes | Uint8Array,
    private readonly position = 0,
    byteLength?: number,
  ) {
    if (src instanceof Uint8Array) {
      this.src = new ArrayBytes(src);
      this.byteLength = src.length;
    } else {
      this.src = src;
      this.byteLength = byteLength ?? 0;
    }
    this.nchunks = Math.ceil(this.byteLength / CHUNK);
    this.counts = new Int32Array(this.nchunks).fill(-1);
    this.prefix = new Float64Array(this.nchunks + 1);
  }

  private readonly src: BitmapBytes;

  get length(): number {
    return this.byteLength * 8;
  }

  /** Read bytes [byte, byte + len) of the bitmap into buf (zeros past the end or on a short read). */
  private readInto(buf: Uint8Array, byte: number, len: number): void {
    const want = Math.max(0, Math.min(len, this.byteLength - byte));
    const n = want > 0 ? this.src.read(buf, 0, want, this.position + byte) : 0;
    this.bytesRead += n;
    if (n < len) buf.fill(0, n, len);
  }

  /** The chunk asked for last (already the most recent in the LRU): a scan asks for the same one again and again. */
  private lastC = -1;
  private last: Chunk | undefined;

  private chunk(c: number): Chunk | undefined {
    if (c === this.lastC) return this.last;
    if (this.counts[c] === 0) return undefined;
    const hit = this.cache.get(c);
    if (hit) {
      this.cache.delete(c);
      this.cache.set(c, hit);
      this.lastC = c;
      this.last = hit;
      return hit;
    }
    const bytes = new Uint8Array(CHUNK);
    this.readInto(bytes, c * CHUNK, CHUNK);
    const words = new Int32Array(bytes.buffer);
    const nblocks = CHUNK >> BLOCK_SHIFT;
    const ranks = new Uint32Array(nblocks + 1);
    const per = 1 << (BLOCK_SHIFT - 2);
    let acc = 0;
    for (let b = 0; b < nblocks; b++) {
      ranks[b] = acc;
      acc += popWords(words, b * per, (b + 1) * per);
    }
    ranks[nblocks] = acc;
    this.counts[c] = acc;
    if (acc === 0) return undefined;
    const ch = { bytes, words, ranks };
    this.cache.set(c, ch);
    if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.lastC = c;
    this.last = ch;
    return ch;
  }

  /** Set bits in chunks [0, c), counting the chunks not yet counted in one streaming pass. */
  private prefixTo(c: number): number {
    if (c <= this.prefixDone) return this.prefix[c]!;
    let k = this.prefixDone;
    let acc = this.prefix[k]!;
    while (k < c) {
      if (this.counts[k]! < 0) {
        // Read this chunk and the uncounted ones after it in one piece.
        let n = 1;
        while (n < STREAM_CHUNKS && k + n < c && this.counts[k + n]! < 0) n++;
        this.scratch ??= new Uint8Array(CHUNK * STREAM_CHUNKS);
        const buf = this.scratch.subarray(0, n * CHUNK);
        this.readInto(buf, k * CHUNK, n * CHUNK);
        const words = new Int32Array(this.scratch.buffer, 0, (n * CHUNK) >> 2);
        for (let j = 0; j < n; j++)
          this.counts[k + j] = zeroChunk(buf, j * CHUNK)
            ? 0
            : popWords(words, (j * CHUNK) >> 2, ((j + 1) * CHUNK) >> 2);
      }
      acc += this.counts[k]!;
      k++;
      this.prefix[k] = acc;
    }
    this.prefixDone = c;
    return acc;
  }

  /** Number of set bits. */
  get total(): number {
    return this.prefixTo(this.nchunks);
  }

  test(i: number): boolean {
    const byte = Math.floor(i / 8);
    if (i < 0 || byte >= this.byteLength) return false;
    const ch = this.chunk(Math.floor(byte / CHUNK));
    return ch !== undefined && (ch.bytes[byte % CHUNK]! & (1 << (i & 7))) !== 0;
  }

  /** Number of set bits below bit i. */
  rank(i: number): number {
    if (i <= 0) return 0;
    const byte = Math.floor(i / 8);
    if (byte >= this.byteLength) return this.total;
    const c = Math.floor(byte / CHUNK);
    const base = this.prefixTo(c);
    const ch = this.chunk(c);
    if (!ch) return base;
    const bitInChunk = i - c * CHUNK * 8;
    const word = bitInChunk >>> 5;
    const block = bitInChunk >>> (BLOCK_SHIFT + 3);
    let r = ch.ranks[block]! + popWords(ch.words, block << (BLOCK_SHIFT - 2), word);
    const b = bitInChunk & 31;
    if (b) {
      if (LITTLE_ENDIAN) r += pop32(ch.words[word]! & ((1 << b) - 1));
      else {
        const o = word << 2;
        const w = ch.bytes[o]! | (ch.bytes[o + 1]! << 8) | (ch.bytes[o + 2]! << 16) | (ch.bytes[o + 3]! << 24);
        r += pop32(w & ((1 << b) - 1));
      }
    }
    return base + r;
  }

  /** Set bits in [0, n). */
  countBelow(n: number): number {
    return this.rank(n);
  }

  /** Set bits, in increasing order, read a chunk at a time (chunks known to be empty are skipped unread). */
  *ones(limit = this.length): Iterable<number> {
    const end = Math.min(this.byteLength, Math.ceil(limit / 8));
    const buf = new Uint8Array(CHUNK);
    for (let c = 0; c * CHUNK < end; c++) {
      if (this.counts[c] === 0) continue;
      const cached = this.cache.get(c);
      let bytes: Uint8Array;
      if (cached) bytes = cached.bytes;
      else {
        this.readInto(buf, c * CHUNK, CHUNK);
        bytes = buf;
        if (zeroChunk(buf, 0)) {
          this.counts[c] = 0;
          continue;
        }
      }
      const words = cached ? cached.words : new Int32Array(buf.buffer);
      const stop = Math.min(CHUNK, end - c * CHUNK);
      const stopWord = (stop + 3) >> 2;
      let seen = 0;
      for (let o = 0; o < stopWord; o++) {
        let v = LITTLE_ENDIAN
          ? words[o]!
          : bytes[o * 4]! | (bytes[o * 4 + 1]! << 8) | (bytes[o * 4 + 2]! << 16) | (bytes[o * 4 + 3]! << 24);
        if (v === 0) continue;
        if (!cached) seen += pop32(v);
        const b = (c * CHUNK + o * 4) * 8;
        while (v) {
          const low = v & -v;
          const i = b + 31 - Math.clz32(low);
          if (i >= limit) return;
          yield i;
          v ^= low;
        }
      }
      if (!cached && stop === CHUNK) this.counts[c] = seen;
    }
  }
}
