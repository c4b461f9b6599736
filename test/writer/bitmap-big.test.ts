import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitmap } from '../../core/writer/bitmap.js';

test("the writer's bitmap past bit 2 ** 31 (a machine over 8 TiB): set, get, count, nextSet", () => {
  const b = new Bitmap(2 ** 32 + 13);
  const ones = [0, 7, 8, 9, 65536 * 8 - 1, 65536 * 8, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 2, 2 ** 32 + 12];
  for (const i of ones) b.set(i);
  b.setRange(1000, 5000);
  b.setRange(2 ** 32 - 100, 2 ** 32 - 10);
  assert.equal(b.count(), ones.length + 4000 + 90);
  assert.equal(b.count(3, 2 ** 32 - 1), ones.length - 2 + 4000 + 90);
  assert.equal(b.count(2 ** 31 + 1, 2 ** 32 + 13), 3 + 90);
  assert.equal(b.nextSet(2 ** 31 - 5), 2 ** 31);
  assert.equal(b.nextSet(2 ** 31 + 2), 2 ** 32 - 100);
  assert.equal(b.nextSet(2 ** 32 - 1), 2 ** 32 + 12);
  assert.equal(b.get(2 ** 32 - 2), true);
  b.clear(2 ** 32 - 2);
  assert.equal(b.get(2 ** 32 - 2), false);
  assert.equal(b.get(2 ** 32 - 2 - 2 ** 31), false);
});
