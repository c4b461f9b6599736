/** A bitmap over pfns (bit i = byte[i >> 3] & (1 << (i & 7))) with O(1) rank. */

const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = (i & 1) + POP8[i >> 1]!;

/** Bytes per rank block. */
const BLOCK = 64;

export class RankedBitmap {
  /** ranks[k] = number of set bits in bytes [0, k*BLOCK). */
  private readonly ranks: Uint32Array;
  readonly total: number;

  constructor(readonly bits: Uint8Array) {
    const nblocks = Math.ceil(bits.length / BLOCK);
    this.ranks = new Uint32Array(nblocks + 1);
    let acc = 0;
    for (let k = 0; k < nblocks; k++) {
      this.ranks[k] = acc;
      const end = Math.min((k + 1) * BLOCK, bits.length);
      for (let i = k * BLOCK; i < end; i++) acc += POP8[bits[i]!]!;
    }
    this.ranks[nblocks] = acc;
    this.total = acc;
  }

  get length(): number {
    return this.bits.length * 8;
  }

  test(i: number): boolean {
    const byte = i >>> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (i & 7))) !== 0;
  }

  /** Number of set bits below bit i. */
  rank(i: number): number {
    const byte = i >>> 3;
    if (byte >= this.bits.length) return this.total;
    const k = Math.floor(byte / BLOCK);
    let r = this.ranks[k]!;
    for (let j = k * BLOCK; j < byte; j++) r += POP8[this.bits[j]!]!;
    return r + POP8[this.bits[byte]! & ((1 << (i & 7)) - 1)]!;
  }

  /** Set bits in [0, n). */
  countBelow(n: number): number {
    return this.rank(n);
  }

  /** Set bits, in increasing order. */
  *ones(limit = this.length): Iterable<number> {
    const bytes = Math.min(this.bits.length, Math.ceil(limit / 8));
    for (let b = 0; b < bytes; b++) {
      let v = this.bits[b]!;
      while (v) {
        const low = v & -v;
        const i = b * 8 + 31 - Math.clz32(low);
        if (i >= limit) return;
        yield i;
        v ^= low;
      }
    }
  }
}
