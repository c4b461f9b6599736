import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BitmapBytes, RankedBitmap } from '../../core/formats/bitmap.js';

/** A deterministic bitmap over several 64 KiB chunks: dense, sparse and empty stretches, ragged end. */
function bits(len: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = 12345;
  const rnd = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  for (let i = 0; i < len; i++) {
    const zone = Math.floor(i / 40000) % 4;
    if (zone === 0) b[i] = rnd() & 0xff;
    else if (zone === 1 && rnd() % 97 === 0) b[i] = 1 << (rnd() % 8);
    else if (zone === 3) b[i] = 0xff;
  }
  return b;
}

/** Reads counted, and a source that reads short past `short`. */
class Counting implements BitmapBytes {
  reads = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly short = Number.POSITIVE_INFINITY,
  ) {}
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    this.reads++;
    const n = Math.max(0, Math.min(length, this.b.length - position, this.short - position));
    buf.set(this.b.subarray(position, position + n), offset);
    return n;
  }
}

test('rank, test, total and ones agree with a plain count, from memory and from a file at an offset', () => {
  const raw = bits(300_001);
  // Whole chunks of zeros too (64 KiB each), as a big machine's bitmaps have.
  raw.fill(0, 65536, 131072);
  raw.fill(0, 196608, 262144);
  const file = new Uint8Array(raw.length + 777);
  file.set(raw, 777);
  const naiveRank = new Float64Array(raw.length * 8 + 1);
  for (let i = 0; i < raw.length * 8; i++) naiveRank[i + 1] = naiveRank[i]! + ((raw[i >> 3]! >> (i & 7)) & 1);
  for (const bm of [new RankedBitmap(raw), new RankedBitmap(new Counting(file), 777, raw.length)]) {
    // Out of order, so that ranks are asked before the chunks below them were counted.
    for (const i of [2_000_000, 5, 0, 1_200_001, 524_288, 524_287, 2_400_007, 1_048_576 + 31, 17, 2_400_008]) {
      assert.equal(bm.rank(i), naiveRank[Math.min(i, raw.length * 8)], `rank(${i})`);
    }
    for (let i = 0; i < raw.length * 8; i += 997) {
      assert.equal(bm.rank(i), naiveRank[i], `rank(${i})`);
      assert.equal(bm.test(i), naiveRank[i + 1]! > naiveRank[i]!, `test(${i})`);
    }
    assert.equal(bm.total, naiveRank[raw.length * 8]);
    const ones = [...bm.ones()];
    assert.equal(ones.length, bm.total);
    for (const i of ones.filter((_, k) => k % 101 === 0)) assert.equal(naiveRank[i + 1]! - naiveRank[i]!, 1);
    assert.deepEqual(
      [...bm.ones(1_000)],
      ones.filter((i) => i < 1_000),
    );
    assert.equal(bm.test(-1), false);
    assert.equal(bm.test(raw.length * 8 + 5), false);
  }
});

test('nothing is read at construction; a low bit reads one chunk; a short read counts as zeros', () => {
  const raw = bits(1 << 20);
  const src = new Counting(raw, 100_000);
  const bm = new RankedBitmap(src, 0, raw.length);
  assert.equal(src.reads, 0);
  bm.test(8);
  assert.equal(bm.bytesRead, 1 << 16);
  let want = 0;
  for (let i = 0; i < 100_000; i++) for (let v = raw[i]!; v; v &= v - 1) want++;
  assert.equal(bm.total, want);
  assert.equal(bm.rank(raw.length * 8 - 1), want);
});
