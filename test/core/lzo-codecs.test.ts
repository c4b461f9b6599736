/**
 * The two LZO1X codecs of core/compress/lzo.ts (the `lzo` addon, miniLZO; our own, the fallback) on every page of
 * the sysrq sample's makedumpfile -l dump: both decode makedumpfile's frames to the same page, the addon's
 * compressor gives makedumpfile's frames byte for byte, each decodes the other's frames, both refuse hostile
 * frames with an LzoError; a -l dump written and read with ours alone gives makedumpfile's --dump-dmesg, and with
 * the addon tsmakedumpfile -l writes makedumpfile -l's file byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadLzoCodec } from '../../core/compress/lzo.js';
import { lzo1xBound } from '../../core/compress/lzo-compress.js';
import { LzoError } from '../../core/compress/lzo-decompress.js';
import type { KdumpDump } from '../../core/formats/kdump.js';
import { openDump } from '../../core/open.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tscrash-lzo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** The LZO-compressed page data of a kdump file, as makedumpfile wrote it. */
function lzoFrames(path: string): { frames: Buffer[]; pageSize: number } {
  const d = openDump(path) as KdumpDump;
  const fd = openSync(path, 'r');
  const frames: Buffer[] = [];
  for (let pfn = 0; pfn < d.maxPfn; pfn++) {
    if (d.pageState(pfn) !== 'dumped') continue;
    const desc = d.descriptor(pfn)!;
    if (!(desc.flags & 2)) continue; // DUMP_DH_COMPRESSED_LZO
    const b = Buffer.alloc(desc.size);
    readSync(fd, b, 0, desc.size, desc.offset);
    frames.push(b);
  }
  closeSync(fd);
  const pageSize = d.pageSize;
  d.close();
  return { frames, pageSize };
}

test('lzo addon and our LZO1X on makedumpfile -l’s pages: same pages, the addon gives makedumpfile’s bytes', (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const { frames, pageSize } = lzoFrames(m.files['kdump-l-d31']!.path);
  assert.ok(frames.length > 1000, `${frames.length} LZO pages`);
  const native = loadLzoCodec('lzo');
  const js = loadLzoCodec('js');
  const nc = native.newCompressor();
  const jc = js.newCompressor();
  const out = new Uint8Array(lzo1xBound(pageSize));
  let identical = 0;
  for (const f of frames) {
    const a = new Uint8Array(pageSize);
    const b = new Uint8Array(pageSize);
    assert.equal(native.decompress(f, a), pageSize);
    assert.equal(js.decompress(f, b), pageSize);
    assert.ok(same(a, b), 'both decoders give the same page');
    const n = nc.compressInto(a, 0, pageSize, out, 0);
    if (same(out.subarray(0, n), f)) identical++;
    const c = new Uint8Array(pageSize);
    const k = jc.compressInto(a, 0, pageSize, out, 0);
    assert.equal(native.decompress(out.subarray(0, k), c), pageSize);
    assert.ok(same(c, a), 'the addon decodes our frames');
  }
  assert.equal(identical, frames.length, 'the addon compresses each page to makedumpfile’s frame');
  // Hostile frames: an LzoError from both, and each still decodes afterwards.
  const f = frames[1]!;
  for (const c of [native, js]) {
    assert.throws(() => c.decompress(f.subarray(0, f.length - 2), new Uint8Array(pageSize)), LzoError, c.name);
    assert.throws(() => c.decompress(f, new Uint8Array(pageSize / 2)), LzoError, c.name);
    const junk = Buffer.alloc(64, 0x55);
    assert.throws(() => c.decompress(junk, new Uint8Array(pageSize)), LzoError, c.name);
    assert.equal(c.decompress(f, new Uint8Array(pageSize)), pageSize);
  }
  assert.throws(() => nc.compressInto(new Uint8Array(pageSize), 0, pageSize, new Uint8Array(pageSize), 0), RangeError);
});

test('a -l dump written and read with our LZO1X alone gives makedumpfile’s --dump-dmesg', { timeout: 120_000 }, (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const env = { ...process.env, TSCRASH_NATIVE: '0' };
  const l = join(dir, 'sysrq-l-d31');
  const w = spawnSync(process.execPath, [join(ROOT, 'bin/tsmakedumpfile'), '-l', '-d', '31', m.files.elf!.path, l], {
    env,
    encoding: 'utf8',
  });
  assert.equal(w.status, 0, w.stderr);
  assert.doesNotMatch(w.stderr, /note: /, 'no note when the fallback is chosen');
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tscrash'), '--dump-dmesg', l], { env, maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(readFileSync(m.files.dmesg!.path)), 'the log as makedumpfile --dump-dmesg gives it');
});

for (const name of SAMPLE_NAMES)
  test(`${name}: with the lzo addon, tsmakedumpfile -l -d 31 is byte-identical to makedumpfile -l -d 31`, {
    timeout: 120_000,
  }, (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const l = join(dir, `${name}-l-d31-native`);
    const w = spawnSync(process.execPath, [join(ROOT, 'bin/tsmakedumpfile'), '-l', '-d', '31', m.files.elf!.path, l], {
      encoding: 'utf8',
    });
    assert.equal(w.status, 0, w.stderr);
    assert.doesNotMatch(w.stderr, /note: /, 'the addon is in use');
    assert.ok(readFileSync(l).equals(readFileSync(m.files['kdump-l-d31']!.path)), 'the same bytes as makedumpfile');
  });
