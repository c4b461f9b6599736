/**
 * tsmakedumpfile on the real sample cores, against makedumpfile 1.7.2's own
 * outputs made from the same ELF core in the capture kernel:
 *  - same 1st and 2nd bitmaps as makedumpfile's for -d 31 (-c, -l, none) and -d 0;
 *  - same header facts (utsname, time, CPUs, phys_base, notes, VMCOREINFO);
 *  - every dumped page equal to the ELF core's page (LZO pages through liblzo2);
 *  - -F | -R equals the direct output; -R of makedumpfile's flat file is
 *    byte-identical to makedumpfile's -R;
 *  - makedumpfile --dump-dmesg on our output equals the oracle dmesg.
 * crash sessions on the outputs are in samples-crash.test.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bitmapBit, type KdumpFile, readElfPages, readKdump } from './kdump-read.js';
import { runCli } from './run-cli.js';
import { sample, sampleFile } from './sample-lib.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmkd-samples-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLE_CASES = ['sysrq', 'mce'] as const;
const LZO_CHECK = new URL('./lzo-check.py', import.meta.url).pathname;

function sameHeader(ours: KdumpFile, theirs: KdumpFile): void {
  assert.equal(ours.blockSize, theirs.blockSize);
  assert.equal(ours.maxPfn, theirs.maxPfn, 'max_mapnr');
  assert.equal(ours.nrCpus, theirs.nrCpus, 'nr_cpus');
  assert.equal(ours.utsRelease, theirs.utsRelease);
  assert.ok(ours.raw.subarray(12, 402).equals(theirs.raw.subarray(12, 402)), 'utsname');
  assert.equal(ours.timestamp, theirs.timestamp, 'timestamp');
  assert.equal(ours.physBase, theirs.physBase, 'phys_base');
  assert.equal(ours.dumpLevel, theirs.dumpLevel);
  assert.ok(ours.notes.equals(theirs.notes), 'ELF notes');
  assert.equal(ours.vmcoreinfo, theirs.vmcoreinfo);
  // the fixed header fields makedumpfile writes, byte for byte (0..464 except status)
  assert.ok(ours.raw.subarray(0, 424).equals(theirs.raw.subarray(0, 424)), 'disk_dump_header');
  assert.ok(ours.raw.subarray(428, 464).equals(theirs.raw.subarray(428, 464)), 'disk_dump_header tail');
  const bs = ours.blockSize;
  assert.ok(ours.raw.subarray(bs, bs + 104).equals(theirs.raw.subarray(bs, bs + 104)), 'kdump_sub_header');
}

function phdrs(path: string): string[] {
  const raw = readFileSync(path);
  const phoff = Number(raw.readBigUInt64LE(32));
  const n = raw.readUInt16LE(56);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const o = phoff + i * 56;
    const type = raw.readUInt32LE(o);
    const f = (k: number) => raw.readBigUInt64LE(o + k).toString(16);
    out.push(
      type === 1 ? `LOAD vaddr=${f(16)} paddr=${f(24)} filesz=${f(32)} memsz=${f(40)}` : `type ${type} filesz=${f(32)}`,
    );
  }
  return out;
}

function bitmapDiff(a: Buffer, b: Buffer, n: number): string {
  const diffs: number[] = [];
  for (let p = 0; p < n && diffs.length < 10; p++) if (bitmapBit(a, p) !== bitmapBit(b, p)) diffs.push(p);
  return diffs.map((p) => `0x${p.toString(16)}:${bitmapBit(a, p)}/${bitmapBit(b, p)}`).join(' ');
}

function samePages(out: string, elf: ReturnType<typeof readElfPages>): void {
  const k = readKdump(out);
  const lzoDir = join(dir, `lzo-${Math.random().toString(36).slice(2)}`);
  let nLzo = 0;
  for (let p = 0; p < k.maxPfn; p++) {
    const d = k.desc(p);
    if (!d) continue;
    const want = elf.page(p);
    assert.ok(want, `pfn 0x${p.toString(16)} dumped but absent from the ELF core`);
    if (d.flags & 2) {
      if (!nLzo) mkdirSync(lzoDir);
      writeFileSync(join(lzoDir, `${p}.lzo`), k.raw.subarray(d.offset, d.offset + d.size));
      writeFileSync(join(lzoDir, `${p}.raw`), want);
      nLzo++;
      continue;
    }
    const got = k.page(p)!;
    assert.ok(got.equals(want), `pfn 0x${p.toString(16)} differs from the ELF core`);
  }
  if (nLzo) {
    const r = spawnSync('python3', [LZO_CHECK, lzoDir], { encoding: 'utf8' });
    assert.equal(r.status, 0, `liblzo2: ${r.stdout}${r.stderr}`);
    rmSync(lzoDir, { recursive: true, force: true });
  }
}

function zeroOffset(k: KdumpFile): number {
  // the shared zero page is the first data after the descriptor table
  const subBlocks = k.raw.readInt32LE(432);
  const bmBlocks = k.raw.readUInt32LE(436);
  let n = 0;
  for (let p = 0; p < k.maxPfn; p++) n += bitmapBit(k.bitmap2, p);
  return (1 + subBlocks + bmBlocks) * k.blockSize + n * 24;
}

for (const CASE of SAMPLE_CASES) {
  const cdir = join(dir, CASE);
  mkdirSync(cdir);
  for (const [flag, key] of [
    ['-c', 'kdump-c-d31'],
    ['-l', 'kdump-l-d31'],
    ['', 'kdump-d31'],
  ] as const) {
    test(`${CASE}: ${flag || 'uncompressed'} -d 31 has makedumpfile's bitmaps, header and the ELF core's pages`, async (t) => {
      const m = await sample(CASE, t);
      if (!m) return;
      const elf = sampleFile(m, 'elf', t);
      const theirsPath = sampleFile(m, key, t);
      if (!elf || !theirsPath) return;
      const out = join(cdir, `ours${flag}-d31`);
      const r = runCli([...(flag ? [flag] : []), '-d', '31', elf, out]);
      assert.equal(r.status, 0, r.stderr);
      const ours = readKdump(out);
      const theirs = readKdump(theirsPath);
      sameHeader(ours, theirs);
      assert.equal(ours.status, theirs.status, 'status (compression flag)');
      assert.ok(
        ours.bitmap1.equals(theirs.bitmap1),
        `1st bitmap: ${bitmapDiff(ours.bitmap1, theirs.bitmap1, ours.maxPfn)}`,
      );
      assert.ok(
        ours.bitmap2.equals(theirs.bitmap2),
        `2nd bitmap: ${bitmapDiff(ours.bitmap2, theirs.bitmap2, ours.maxPfn)}`,
      );
      samePages(out, readElfPages(elf));
      if (flag === '')
        assert.ok(readFileSync(out).equals(readFileSync(theirsPath)), 'byte-identical to makedumpfile -d 31');
      // same zero-page decisions: a page uses the shared zero page in ours iff in theirs
      const zOurs = zeroOffset(ours);
      const zTheirs = zeroOffset(theirs);
      for (let p = 0; p < ours.maxPfn; p++) {
        const a = ours.desc(p);
        if (!a) continue;
        const b = theirs.desc(p)!;
        const zeroA = a.flags === 0 && a.size === ours.blockSize && a.offset === zOurs;
        const zeroB = b.flags === 0 && b.size === theirs.blockSize && b.offset === zTheirs;
        assert.equal(zeroA, zeroB, `pfn 0x${p.toString(16)} zero page`);
      }
    });
  }

  test(`${CASE}: -c -d 0 has makedumpfile's bitmaps`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const theirsPath = sampleFile(m, 'kdump-c-d0', t);
    if (!elf || !theirsPath) return;
    const out = join(cdir, 'ours-c-d0');
    const r = runCli(['-c', '-d', '0', elf, out]);
    assert.equal(r.status, 0, r.stderr);
    const ours = readKdump(out);
    const theirs = readKdump(theirsPath);
    sameHeader(ours, theirs);
    assert.ok(ours.bitmap1.equals(theirs.bitmap1));
    assert.ok(
      ours.bitmap2.equals(theirs.bitmap2),
      `2nd bitmap: ${bitmapDiff(ours.bitmap2, theirs.bitmap2, ours.maxPfn)}`,
    );
  });

  test(`${CASE}: -E -d 31 has makedumpfile's PT_LOAD layout and the ELF core's pages`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const theirs = sampleFile(m, 'elf-d31', t);
    if (!elf || !theirs) return;
    const out = join(cdir, 'ours-E-d31');
    const r = runCli(['-E', '-d', '31', elf, out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(phdrs(out), phdrs(theirs));
    assert.ok(readFileSync(out).equals(readFileSync(theirs)), 'byte-identical to makedumpfile -E -d 31');
    const a = readElfPages(out);
    const b = readElfPages(theirs);
    const k = readKdump(sampleFile(m, 'kdump-d31', t)!);
    for (let p = 0; p < k.maxPfn; p++) {
      const pa = a.page(p);
      const pb = b.page(p);
      assert.equal(!!pa, !!pb, `pfn 0x${p.toString(16)} presence`);
      if (pa && pb) assert.ok(pa.equals(pb), `pfn 0x${p.toString(16)} differs`);
    }
    rmSync(out);
  });

  test(`${CASE}: -p and -z outputs read back with the ELF core's pages`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const ref = sampleFile(m, 'kdump-c-d31', t);
    if (!elf || !ref) return;
    const pages = readElfPages(elf);
    for (const [flag, status] of [
      ['-p', 4],
      ['-z', 0x20],
    ] as const) {
      const out = join(cdir, `ours${flag}`);
      const r = runCli([flag, '-d', '31', elf, out]);
      assert.equal(r.status, 0, r.stderr);
      const k = readKdump(out);
      assert.equal(k.status, status);
      assert.ok(k.bitmap2.equals(readKdump(ref).bitmap2));
      samePages(out, pages);
      rmSync(out);
    }
  });

  test(`${CASE}: -F | -R equals the direct output; -R of makedumpfile's flat file equals makedumpfile -R`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const flatTheirs = sampleFile(m, 'flat-c-d31', t);
    const reassembled = sampleFile(m, 'reassembled-c-d31', t);
    if (!elf || !flatTheirs || !reassembled) return;
    const direct = join(cdir, 'direct-c');
    assert.equal(runCli(['-c', '-d', '31', elf, direct]).status, 0);
    const flat = join(cdir, 'flat-c');
    const fd = openSync(flat, 'w');
    const r = runCli(['-F', '-c', '-d', '31', elf], { stdoutFile: fd });
    closeSync(fd);
    assert.equal(r.status, 0, r.stderr);
    const re = join(cdir, 're-c');
    let fin = openSync(flat, 'r');
    assert.equal(runCli(['-R', re], { input: fin }).status, 0);
    closeSync(fin);
    assert.ok(readFileSync(re).equals(readFileSync(direct)), '-F | -R == direct');
    const re2 = join(cdir, 're-theirs');
    fin = openSync(flatTheirs, 'r');
    const r2 = runCli(['-R', re2], { input: fin });
    closeSync(fin);
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(readFileSync(re2).equals(readFileSync(reassembled)), 'byte-identical to makedumpfile -R');
    for (const f of [direct, flat, re, re2]) rmSync(f);
  });

  test(`${CASE}: makedumpfile --dump-dmesg reads our -l output like the ELF core`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const dmesg = sampleFile(m, 'dmesg', t);
    if (!elf || !dmesg) return;
    const out = join(cdir, 'dmesg-src');
    assert.equal(runCli(['-l', '-d', '31', elf, out]).status, 0);
    const log = join(cdir, 'dmesg.txt');
    const r = spawnSync('makedumpfile', ['--dump-dmesg', out, log], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(readFileSync(log).equals(readFileSync(dmesg)));
    rmSync(out);
    rmSync(log);
  });
  test(`${CASE}: --dump-dmesg (ELF and kdump inputs) equals makedumpfile's`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const kl = sampleFile(m, 'kdump-l-d31', t);
    const dmesg = sampleFile(m, 'dmesg', t);
    if (!elf || !kl || !dmesg) return;
    for (const input of [elf, kl]) {
      const log = join(cdir, 'our-dmesg');
      const r = runCli(['--dump-dmesg', input, log]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(readFileSync(log).equals(readFileSync(dmesg)), `dmesg of ${input}`);
      rmSync(log);
    }
  });

  test(`${CASE}: re-filtering makedumpfile's kdump-d31 gives its -c -d 31 bitmaps`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const input = sampleFile(m, 'kdump-d31', t);
    const ref = sampleFile(m, 'kdump-c-d31', t);
    if (!input || !ref) return;
    const out = join(cdir, 'refiltered');
    const r = runCli(['-c', '-d', '31', input, out]);
    assert.equal(r.status, 0, r.stderr);
    const a = readKdump(out);
    const b = readKdump(ref);
    sameHeader(a, b);
    assert.ok(a.bitmap2.equals(b.bitmap2));
    rmSync(out);
  });
  test(`${CASE}: kdump -> ELF conversion (-E of makedumpfile's kdump-c-d31) reads in makedumpfile`, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const input = sampleFile(m, 'kdump-c-d31', t);
    const dmesg = sampleFile(m, 'dmesg', t);
    if (!input || !dmesg) return;
    const out = join(cdir, 'converted.elf');
    const r = runCli(['-E', '-d', '31', input, out]);
    assert.equal(r.status, 0, r.stderr);
    const log = join(cdir, 'converted-dmesg');
    const d = spawnSync('makedumpfile', ['--dump-dmesg', out, log], { encoding: 'utf8' });
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assert.ok(readFileSync(log).equals(readFileSync(dmesg)));
    rmSync(out);
    rmSync(log);
  });
}
