/**
 * The kdump bitmaps' reader (core/formats/bitmap.ts): read a 64 KiB chunk at a time, ranks from chunk counts.
 * Checked against the plain answer counted here bit by bit (a differential: test, rank, ones and countBelow must
 * agree with it for every bit the input has).
 */
import { RankedBitmap } from '../../core/formats/bitmap.js';
import { InvariantError, MemorySource, refused } from '../lib/harness.js';

export function fuzz(data: Buffer): void {
  if (data.length < 2) return;
  // The first two bytes say how far into a larger, zero-filled bitmap the input's bytes sit (to 125 KiB: across
  // the 64 KiB chunk edges; more costs this check's own plain counting, not the reader).
  const shift = (data.readUInt16LE(0) % 2048) * 61;
  const bytes = new Uint8Array(shift + data.length - 2);
  bytes.set(data.subarray(2), shift);
  const src = new MemorySource('bitmap', bytes);
  const r = refused(() => new RankedBitmap(src, 0, bytes.length));
  if (!r.ok) return;
  const bm = r.value;
  const bits = bytes.length * 8;
  // The plain answer: set bits below each byte.
  const below = new Int32Array(bytes.length + 1);
  for (let i = 0; i < bytes.length; i++) {
    let v = bytes[i]!;
    let c = 0;
    while (v) {
      c += v & 1;
      v >>= 1;
    }
    below[i + 1] = below[i]! + c;
  }
  const plainRank = (i: number): number => {
    let n = below[i >> 3]!;
    for (let k = i & ~7; k < i; k++) n += (bytes[k >> 3]! >> (k & 7)) & 1;
    return n;
  };
  // About 700 probes: spread over the bitmap, at the 64 KiB chunk edges, and at the first bits.
  const probes = new Set<number>();
  const step = Math.max(1, Math.floor(bits / 512));
  for (let i = 0; i < bits; i += step) probes.add(i + ((i / step) % 8));
  for (let c = 1; c * 65536 * 8 <= bits; c++) for (const d of [-1, 0, 1]) probes.add(c * 65536 * 8 + d);
  for (let i = 0; i < Math.min(bits, 64); i++) probes.add(i);
  for (const i of probes) {
    if (i < 0 || i >= bits) continue;
    const set = ((bytes[i >> 3]! >> (i & 7)) & 1) === 1;
    if (bm.test(i) !== set) throw new InvariantError(`bit ${i}: test says ${!set}`);
    const want = plainRank(i);
    if (bm.rank(i) !== want) throw new InvariantError(`bit ${i}: rank ${bm.rank(i)}, counted ${want}`);
  }
  const total = below[bytes.length]!;
  if (bm.total !== total) throw new InvariantError(`total ${bm.total}, counted ${total}`);
  if (bm.countBelow(bits) !== total) throw new InvariantError(`countBelow ${bm.countBelow(bits)}, counted ${total}`);
  let n = 0;
  let prev = -1;
  for (const i of bm.ones()) {
    if (i <= prev || ((bytes[i >> 3]! >> (i & 7)) & 1) !== 1)
      throw new InvariantError(`ones() lists bit ${i}, not set`);
    prev = i;
    n++;
  }
  if (n !== total) throw new InvariantError(`ones() lists ${n} bits, counted ${total}`);
}
