/**
 * zlib pages (core/compress/index.ts): one inflate stream reused for every page must decode each page exactly as
 * a fresh inflateSync does, and refuse what is not one page, before and after a refusal (the stream is reset).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { DecompressError, decompressPage } from '../../core/compress/index.js';

const PS = 4096;

/** Pages unlike each other: text-like, sparse, repetitive, pseudo-random. */
function pages(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seed = 7;
  for (let k = 0; k < 24; k++) {
    const p = new Uint8Array(PS);
    for (let i = 0; i < PS; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      p[i] =
        k % 4 === 0 ? seed >>> 24 : k % 4 === 1 ? (i % 97 === 0 ? k : 0) : k % 4 === 2 ? (i * k) & 0xff : 65 + (i % 26);
    }
    out.push(p);
  }
  return out;
}

test('zlib pages decode as inflateSync does, page after page, at levels 1 and 6', () => {
  for (const level of [1, 6]) {
    for (const p of pages()) {
      const z = deflateSync(p, { level });
      const got = decompressPage('zlib', z, PS);
      assert.equal(got.length, PS);
      assert.deepEqual(got, new Uint8Array(inflateSync(z)));
      assert.deepEqual(got, p);
    }
  }
});

test('a stream of more or less than a page, cut short or damaged, is a DecompressError; the next page still decodes', () => {
  const good = pages()[3]!;
  const zGood = deflateSync(good);
  const cases: [string, Uint8Array][] = [
    ['one byte more than a page', deflateSync(new Uint8Array(PS + 1).fill(5))],
    ['half a page', deflateSync(new Uint8Array(PS / 2).fill(9))],
    ['cut short', deflateSync(pages()[0]!).subarray(0, 100)],
    ['a bad header', Uint8Array.from([0x78, 0x00, ...deflateSync(good).subarray(2)])],
    ['garbage', new Uint8Array(64).fill(0xee)],
    ['empty', new Uint8Array(0)],
  ];
  for (const [what, z] of cases) {
    assert.throws(() => decompressPage('zlib', z, PS), DecompressError, what);
    assert.deepEqual(decompressPage('zlib', zGood, PS), good, `after ${what}`);
  }
});

test('each decoded page is its own memory (a later page does not change an earlier one)', () => {
  const [a, b] = [pages()[1]!, pages()[2]!];
  const da = decompressPage('zlib', deflateSync(a), PS);
  const db = decompressPage('zlib', deflateSync(b), PS);
  assert.deepEqual(da, a);
  assert.deepEqual(db, b);
  assert.equal(da.byteLength, PS);
  assert.equal(da.buffer.byteLength, PS);
});
