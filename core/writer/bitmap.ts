/**
 * A bit per page frame, in the kdump bitmap layout (bit i = byte[i >> 3] & (1 << (i & 7))).
 * One bit per page: 32 MiB covers 1 TiB of 4 KiB pages. Indexes are plain numbers, not int32 (bit 2 ** 31 is 8 TiB).
 */
export class Bitmap {
  readonly bytes: Uint8Array;
  private view: Buffer | undefined;

  constructor(readonly nbits: number) {
    this.bytes = new Uint8Array(Math.ceil(nbits / 8));
  }

  static from(bytes: Uint8Array, nbits: number): Bitmap {
    const b = new Bitmap(nbits);
    b.bytes.set(bytes.subarray(0, b.bytes.length));
    return b;
  }

  get(i: number): boolean {
    return (this.bytes[Math.floor(i / 8)]! & (1 << (i & 7))) !== 0;
  }

  set(i: number): void {
    this.bytes[Math.floor(i / 8)]! |= 1 << (i & 7);
  }

  clear(i: number): void {
    this.bytes[Math.floor(i / 8)]! &= ~(1 << (i & 7));
  }

  /** Set bits [from, to). */
  setRange(from: number, to: number): void {
    to = Math.min(to, this.nbits);
    let i = from;
    while (i < to && i & 7) this.set(i++);
    const fullEnd = to - (to % 8);
    if (i < fullEnd) {
      this.bytes.fill(0xff, i / 8, fullEnd / 8);
      i = fullEnd;
    }
    while (i < to) this.set(i++);
  }

  copy(): Bitmap {
    return Bitmap.from(this.bytes, this.nbits);
  }

  /** Number of set bits in [from, to). */
  count(from = 0, to = this.nbits): number {
    let n = 0;
    let i = from;
    while (i < to && i & 7) if (this.get(i++)) n++;
    const fullEnd = to - (to % 8);
    const b = this.bytes;
    const e = fullEnd / 8;
    let j = Math.ceil(i / 8);
    // A big machine's bitmap is mostly zeros: skip them a block at a time (memcmp), count the rest by bytes.
    const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    for (; j + ZERO_BLOCK <= e; j += ZERO_BLOCK) {
      if (view.compare(ZEROS, 0, ZERO_BLOCK, j, j + ZERO_BLOCK) === 0) continue;
      for (let k = j; k < j + ZERO_BLOCK; k++) n += POP[b[k]!]!;
    }
    for (; j < e; j++) n += POP[b[j]!]!;
    i = Math.max(i, fullEnd);
    while (i < to) if (this.get(i++)) n++;
    return n;
  }

  /** Next set bit at or after `i`, or -1. */
  nextSet(i: number): number {
    const b = this.bytes;
    const n = this.nbits;
    while (i < n) {
      const j = Math.floor(i / 8);
      const byte = b[j]!;
      if (byte === 0) {
        // A block of zeros at once (memcmp): a big machine's bitmap is mostly zeros.
        if (j % ZERO_BLOCK === 0 && j + ZERO_BLOCK <= b.length) {
          this.view ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength);
          if (this.view.compare(ZEROS, 0, ZERO_BLOCK, j, j + ZERO_BLOCK) === 0) {
            i = (j + ZERO_BLOCK) * 8;
            continue;
          }
        }
        i = (j + 1) * 8;
        continue;
      }
      if (byte & (1 << (i & 7))) return i;
      i++;
    }
    return -1;
  }
}

const ZERO_BLOCK = 1 << 16;
const ZEROS = Buffer.alloc(ZERO_BLOCK);
const POP = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP[i] = (i & 1) + POP[i >> 1]!;
