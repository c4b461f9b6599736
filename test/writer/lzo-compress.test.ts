import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { Lzo1xCompressor, lzo1xBound } from '../../core/compress/lzo-compress.js';

const LIBLZO = [
  '/usr/lib/x86_64-linux-gnu/liblzo2.so.2',
  '/usr/lib/liblzo2.so.2',
  '/lib/x86_64-linux-gnu/liblzo2.so.2',
];
const CHECK = new URL('./lzo-check.py', import.meta.url).pathname;

function corpus(): Uint8Array[] {
  let s = 7;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  const out: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([1]),
    new Uint8Array([1, 2, 3]),
    new Uint8Array(4096),
    new Uint8Array(70000),
  ];
  for (let i = 0; i < 200; i++) {
    const n = i < 60 ? rnd() % 3000 : i < 180 ? 4096 : 60000 + (rnd() % 60000);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) {
      const mode = i % 6;
      b[j] =
        mode === 0
          ? rnd() & 255
          : mode === 1
            ? 65 + (rnd() % 4)
            : mode === 2
              ? j % ((i % 37) + 1)
              : mode === 3
                ? rnd() % 10
                  ? 0
                  : rnd() & 255
                : mode === 4 && j > 20 && rnd() % 4
                  ? b[j - 1 - (rnd() % Math.min(j - 1, 50000))]!
                  : (j * 7) & 255;
    }
    out.push(b);
  }
  return out;
}

test('LZO1X-1 output decompresses with Debian liblzo2 (lzo1x_decompress_safe)', (t) => {
  if (!LIBLZO.some(existsSync)) {
    if (process.env.CI === 'true') assert.fail('liblzo2.so.2 missing (apt-get install -y liblzo2-2)');
    t.skip('liblzo2.so.2 not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lzo-'));
  try {
    const c = new Lzo1xCompressor();
    corpus().forEach((b, i) => {
      const z = c.compress(b);
      assert.ok(z.length <= lzo1xBound(b.length));
      writeFileSync(join(dir, `${String(i).padStart(4, '0')}.raw`), b);
      writeFileSync(join(dir, `${String(i).padStart(4, '0')}.lzo`), z);
    });
    const r = spawnSync('python3', [CHECK, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok \d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LZO1X-1 compresses redundant pages well and never exceeds the bound', () => {
  const c = new Lzo1xCompressor();
  const page = new Uint8Array(4096);
  for (let i = 0; i < page.length; i++) page[i] = i % 64 < 16 ? i & 0xff : 0;
  assert.ok(c.compress(page).length < 600);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 9000 }), (b) => c.compress(b).length <= lzo1xBound(b.length)),
    { numRuns: 200 },
  );
});

test('LZO1X-1 round-trips through the project decompressor (core/compress/lzo-decompress.ts)', async () => {
  const { lzo1xDecompress } = await import('../../core/compress/lzo-decompress.js');
  const c = new Lzo1xCompressor();
  for (const b of corpus()) {
    const dst = new Uint8Array(b.length);
    const n = lzo1xDecompress(c.compress(b), dst);
    assert.equal(n, b.length);
    assert.deepEqual(Buffer.from(dst), Buffer.from(b));
  }
});
