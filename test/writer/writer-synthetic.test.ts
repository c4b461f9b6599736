/**
 * Writer behaviour on small synthetic ELF cores: every format reads back with
 * the input's pages, -F | -R equals the direct output (and makedumpfile -R
 * agrees), split + reassemble, -E, 0600 + no overwrite, truncated input, ENOSPC.
 * Page filtering (-d 2..31) needs a real kernel and is tested on the samples.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bitmapBit, readElfPages, readKdump } from './kdump-read.js';
import { runCli } from './run-cli.js';
import { buildElfCore, mixedFill } from './synthetic.js';

let dir = '';
let core = '';
const VI = 'OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\nCRASHTIME=1700000000\n';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsmkd-'));
  core = join(dir, 'vmcore');
  buildElfCore(
    core,
    [
      { paddr: 0x1000, pages: 0x9e, fill: mixedFill },
      { paddr: 0x100000, pages: 2000, fill: mixedFill },
      { paddr: 0x1000000, pages: 100, fill: mixedFill, filesz: 60 * 4096 },
    ],
    VI,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function checkPages(out: string, opts: { zeroExcluded: boolean }): number {
  const k = readKdump(out);
  const e = readElfPages(core);
  let n = 0;
  for (let p = 0; p < k.maxPfn; p++) {
    const ep = e.page(p);
    assert.equal(bitmapBit(k.bitmap1, p), ep ? 1 : 0, `1st bitmap pfn ${p}`);
    const d = k.desc(p);
    if (!d) continue;
    if (d.flags & 2) continue; // LZO pages: checked against liblzo2 in lzo-compress.test.ts
    const kp = k.page(p)!;
    assert.ok(ep, `pfn ${p} dumped but not in the input`);
    assert.ok(kp.equals(ep), `pfn 0x${p.toString(16)} differs`);
    if (opts.zeroExcluded && ep.every((b) => b === 0)) assert.equal(d.offset, k.desc(p)!.offset);
    n++;
  }
  // pages past p_filesz are not dumpable
  for (let p = 0x1000 + 60; p < 0x1000 + 100; p++) assert.equal(bitmapBit(k.bitmap2, p), 0);
  return n;
}

for (const [flag, status] of [
  ['', 0],
  ['-c', 1],
  ['-l', 2],
  ['-p', 4],
  ['-z', 0x20],
] as const) {
  test(`kdump ${flag || 'uncompressed'} -d 1 reads back with the input's pages`, () => {
    const out = join(dir, `out${flag}`);
    const r = runCli([...(flag ? [flag] : []), '-d', '1', core, out]);
    assert.equal(r.status, 0, r.stderr);
    const k = readKdump(out);
    assert.equal(k.status, status);
    assert.equal(k.dumpLevel, 1);
    assert.equal(k.nrCpus, 2);
    assert.equal(k.utsRelease, '6.1.0-synthetic');
    assert.equal(k.timestamp, 1700000000n);
    assert.match(k.vmcoreinfo, /^OSRELEASE=6\.1\.0-synthetic\n/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.ok(checkPages(out, { zeroExcluded: true }) > 0);
  });
}

test('--num-threads 2 gives the same file as one thread', () => {
  const a = join(dir, 't1');
  const b = join(dir, 't2');
  assert.equal(runCli(['-c', '-d', '1', '--num-threads', '1', core, a]).status, 0);
  assert.equal(runCli(['-c', '-d', '1', '--num-threads', '2', core, b]).status, 0);
  assert.ok(readFileSync(a).equals(readFileSync(b)));
});

test('-F | -R equals the direct output; makedumpfile -R agrees byte for byte', () => {
  const direct = join(dir, 'direct');
  const flat = join(dir, 'flat');
  const re = join(dir, 're');
  assert.equal(runCli(['-l', '-d', '1', core, direct]).status, 0);
  const fd = openSync(flat, 'w');
  const r = runCli(['-F', '-l', '-d', '1', core], { stdoutFile: fd });
  closeSync(fd);
  assert.equal(r.status, 0, r.stderr);
  const fin = openSync(flat, 'r');
  const r2 = runCli(['-R', re], { input: fin });
  closeSync(fin);
  assert.equal(r2.status, 0, r2.stderr);
  assert.ok(readFileSync(re).equals(readFileSync(direct)));
  const which = spawnSync('makedumpfile', ['-v']);
  if (which.status === 0) {
    const re2 = join(dir, 're-mdf');
    const m = spawnSync('sh', ['-c', `makedumpfile -R ${re2} < ${flat}`]);
    assert.equal(m.status, 0, m.stderr?.toString());
    assert.ok(readFileSync(re).equals(readFileSync(re2)));
  }
});

test('-R rejects a truncated or foreign stream', () => {
  const bad = join(dir, 'bad-flat');
  writeFileSync(bad, Buffer.alloc(100));
  const fd = openSync(bad, 'r');
  const r = runCli(['-R', join(dir, 're-bad')], { input: fd });
  closeSync(fd);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /flattened/);
  assert.ok(!existsSync(join(dir, 're-bad')));
});

test('--split into 3 files and --reassemble gives the single-file dump', () => {
  const s = [1, 2, 3].map((i) => join(dir, `split${i}`));
  const r = runCli(['--split', '-c', '-d', '1', '--splitblock-size', String(1 << 22), core, ...s]);
  assert.equal(r.status, 0, r.stderr);
  const parts = s.map(readKdump);
  assert.deepEqual(
    parts.map((p) => p.split),
    [1, 1, 1],
  );
  assert.equal(parts[0]!.startPfn, 0);
  assert.equal(parts[2]!.endPfn, parts[2]!.maxPfn);
  const whole = join(dir, 'whole');
  assert.equal(runCli(['-c', '-d', '1', core, whole]).status, 0);
  const ra = join(dir, 'reassembled');
  const r2 = runCli(['--reassemble', ...s, ra]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.ok(readFileSync(ra).equals(readFileSync(whole)));
});

test('-E writes an ELF core with the input pages', () => {
  const out = join(dir, 'elf-out');
  const r = runCli(['-E', '-d', '1', core, out]);
  assert.equal(r.status, 0, r.stderr);
  const a = readElfPages(core);
  const b = readElfPages(out);
  for (let p = 0; p < 0x1000 + 60; p++) {
    const pa = a.page(p);
    const pb = b.page(p);
    if (!pa) continue;
    assert.ok(pb, `pfn ${p} missing`);
    assert.ok(pa.equals(pb), `pfn ${p} differs`);
  }
});

test('an existing file is not overwritten without -f; bad options fail like makedumpfile', () => {
  const out = join(dir, 'exists');
  writeFileSync(out, 'keep');
  const r = runCli(['-d', '1', core, out]);
  assert.equal(r.status, 1);
  // makedumpfile's check_dump_file() wording
  assert.ok(r.stderr.includes(`check_dump_file: Can't open the dump file (${out}). File exists\n`), r.stderr);
  assert.equal(readFileSync(out, 'utf8'), 'keep');
  assert.equal(runCli(['-f', '-d', '1', core, out]).status, 0);
  assert.equal(runCli(['--no-such-option', core, out]).status, 1);
  assert.equal(runCli(['-g', 'x', core, out]).status, 1);
  assert.equal(runCli(['-d', '32', core, out]).status, 1);
  assert.equal(runCli(['-c', '-E', core, join(dir, 'x')]).status, 1);
});

test('a truncated input is finished with the INCOMPLETE flag and exit code 1', () => {
  const t = join(dir, 'truncated');
  writeFileSync(t, readFileSync(core));
  truncateSync(t, statSync(core).size - 1500 * 4096);
  const out = join(dir, 'trunc-out');
  const r = runCli(['-c', '-d', '1', t, out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /truncated/);
  const k = readKdump(out);
  assert.equal(k.status & 8, 8, 'INCOMPLETE flag');
  // every descriptor written points at correct data; the rest are zero
  const e = readElfPages(core);
  let good = 0;
  for (let p = 0; p < k.maxPfn; p++) {
    const d = k.desc(p);
    if (!d || (d.offset === 0 && d.size === 0)) continue;
    assert.ok(k.page(p)!.equals(e.page(p)!), `pfn ${p}`);
    good++;
  }
  assert.ok(good > 100);
});

test('ENOSPC: the dump is kept, flagged INCOMPLETE, exit code 1', (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'tsmkd-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  if (m.status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip(`cannot mount a small tmpfs: ${m.stderr?.toString().trim()}`);
    return;
  }
  try {
    const out = join(mnt, 'dump');
    const r = runCli(['-d', '1', core, out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /No space left|ENOSPC/);
    assert.ok(existsSync(out), 'incomplete dump kept');
    const k = readKdump(out);
    assert.equal(k.status & 8, 8);
    const e = readElfPages(core);
    for (let p = 0; p < k.maxPfn; p++) {
      const d = k.desc(p);
      if (!d || (d.offset === 0 && d.size === 0)) continue;
      assert.ok(k.page(p)!.equals(e.page(p)!), `pfn ${p}`);
    }
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
