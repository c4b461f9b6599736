/**
 * The two zstd codecs of core/compress/zstd.ts (zstd-napi, the native addon; @bokuweb/zstd-wasm, the fallback)
 * on the real pages of the sysrq sample: each decodes the other's frames to the page, both refuse hostile frames
 * with a ZstdError, and a -z dump written and read with the WebAssembly codec alone gives makedumpfile's
 * --dump-dmesg and crash's `log` of the ELF core.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadZstdCodec, ZstdError } from '../../core/compress/zstd.js';
import { openDump } from '../../core/open.js';
import { loadSample, oracleText } from '../lib/samples.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tscrash-zstd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every 7th dumped page of the sample's zlib dump (real kernel memory, a few thousand pages). */
function realPages(path: string): Uint8Array[] {
  const d = openDump(path);
  const pages: Uint8Array[] = [];
  let n = 0;
  for (let pfn = 0; pfn < d.maxPfn; pfn++)
    if (d.pageState(pfn) === 'dumped' && n++ % 7 === 0) pages.push(d.readPage(pfn));
  d.close();
  return pages;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

test('zstd-napi and WebAssembly decode each other’s frames of the real pages; both refuse hostile frames', (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const pages = realPages(m.files['kdump-c-d31']!.path);
  assert.ok(pages.length > 1000, `${pages.length} pages`);
  const codecs = [loadZstdCodec('zstd-napi'), loadZstdCodec('wasm')];
  const out = new Uint8Array(2 * pages[0]!.length);
  for (const enc of codecs) {
    const c = enc.newCompressor();
    let small = 0;
    for (const p of pages) {
      const n = c.compress(out, p, 1);
      assert.ok(n > 0, `${enc.name}: compress gave ${n}`);
      if (n < p.length) small++;
      const frame = out.slice(0, n);
      for (const dec of codecs) assert.ok(same(dec.decompress(frame, p.length), p), `${enc.name} -> ${dec.name}`);
    }
    assert.ok(small > pages.length / 2, `${enc.name}: ${small} of ${pages.length} pages compressed`);
    // A destination too small for the frame: -1, as zstd-napi's CCtx does (the writer stores the page raw).
    const noisy = new Uint8Array(4096).map((_, i) => (i * 2654435761) >>> 24);
    assert.equal(c.compress(new Uint8Array(64), noisy, 1), -1, `${enc.name}: small destination`);
  }
  const good = new Uint8Array(2 * 4096);
  const n = codecs[1]!.newCompressor().compress(good, pages[1]!, 1);
  const frame = good.slice(0, n);
  for (const dec of codecs) {
    assert.throws(() => dec.decompress(frame.subarray(0, n - 3), 4096), Error, `${dec.name}: truncated frame`);
    const bad = frame.slice();
    bad[0] = 0;
    assert.throws(() => dec.decompress(bad, 4096), Error, `${dec.name}: bad magic`);
    assert.throws(() => dec.decompress(frame, 4095), Error, `${dec.name}: wrong size`);
  }
  const wasm = codecs[1]!;
  assert.throws(() => wasm.decompress(frame, 2048), ZstdError);
  // After the refusals the codec still decodes.
  assert.ok(same(wasm.decompress(frame, 4096), pages[1]!));
});

test('a -z dump written and read with the WebAssembly codec alone: makedumpfile’s --dump-dmesg, crash’s log', {
  timeout: 300_000,
}, (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const env = { ...process.env, TSCRASH_NATIVE: '0' };
  const z = join(dir, 'sysrq-z-d31');
  const w = spawnSync(process.execPath, [join(ROOT, 'bin/tsmakedumpfile'), '-z', '-d', '31', m.files.elf!.path, z], {
    env,
    encoding: 'utf8',
  });
  assert.equal(w.status, 0, w.stderr);
  assert.doesNotMatch(w.stderr, /note: zstd/, 'no note when the WebAssembly codec is chosen');
  const info = spawnSync(process.execPath, [join(ROOT, 'bin/tscrash'), 'info', '--json', z], { env, encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  assert.deepEqual(JSON.parse(info.stdout).compression, ['zstd']);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tscrash'), '--dump-dmesg', z], { env, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(readFileSync(m.files.dmesg!.path)), 'the log as makedumpfile --dump-dmesg gives it');
  if (spawnSync('crash', ['--version']).status !== 0) {
    if (process.env.CI === 'true') assert.fail('crash is not installed');
    return;
  }
  const cmds = join(dir, 'cmds');
  // crash's start-up warnings of a -d 31 dump (tasks' pages excluded) come before the marker.
  writeFileSync(cmds, '!echo ==MARK==\nlog\nquit\n');
  const c = spawnSync('crash', ['-s', m.vmlinux, z, '-i', cmds], { encoding: 'latin1', maxBuffer: 1 << 28 });
  assert.equal(c.status, 0, c.stderr);
  assert.equal(
    c.stdout.split('==MARK==\n')[1],
    oracleText(m, 'crash-log'),
    'crash 8.0.2 reads the WebAssembly-compressed dump',
  );
});
