/**
 * Dumps of big machines (1 TiB and 16 TiB of RAM: kdump bitmaps of 32 MiB and 512 MiB each) made from the sysrq
 * sample's real kdump file, its pages as they are plus a few pages and excluded pfns at the top of memory. What
 * is read, and the memory it takes, must follow what is asked, not the machine's size: info's figures, the log
 * and the pages must be the small dump's, a session must work, and the memory (bigmem-rss.test.ts) stays bounded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dumpDmesg } from '../../core/dmesg.js';
import { FaultError } from '../../core/errors.js';
import type { KdumpDump } from '../../core/formats/kdump.js';
import { describeDump } from '../../core/info.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { Program } from '../../program/index.js';
import { loadSample, oracleText } from '../lib/samples.js';
import { runOk } from '../lib/session.js';
import { buildElfCore, patternPage, tempFile, tempPath, writeBigKdump } from '../lib/synth-dump.js';

const TiB = 2 ** 40;
const CLI = fileURLToPath(new URL('../../cli/tsmakedumpfile.ts', import.meta.url));
const REPORT_RSS = fileURLToPath(new URL('../lib/report-rss.mjs', import.meta.url));

function bitmapBytesRead(d: KdumpDump): number {
  return d.present.bytesRead + d.dumped.bytesRead;
}

for (const [label, ram] of [
  ['1 TiB', TiB],
  ['16 TiB', 16 * TiB],
] as const) {
  describe(`a kdump file of a ${label} machine (the sysrq sample's pages)`, () => {
    const maxPfn = ram / 4096;
    const high = maxPfn - 2;
    const excluded = [maxPfn - 1, maxPfn / 2, maxPfn / 2 + 12345];
    let built: string | undefined;
    const big = (
      t: Parameters<typeof loadSample>[1],
    ): { small: string; big: string; m: NonNullable<ReturnType<typeof loadSample>> } | undefined => {
      const m = loadSample('sysrq', t);
      if (!m) return undefined;
      const small = m.files['kdump-c-d31']!.path;
      built ??= tempPath(`big-${ram / TiB}t.kdump`);
      writeBigKdump(small, built, { maxPfn, excluded, pages: new Map([[high, patternPage(high)]]) });
      return { small, big: built, m };
    };

    test("opening reads none of the 1st bitmap and the 2nd once (the damage checks count its pages); --dump-dmesg equals makedumpfile's and reads only the 1st bitmap's first chunks", (t) => {
      const f = big(t);
      if (!f) return;
      const d = openDump(f.big) as KdumpDump;
      try {
        assert.equal(d.maxPfn, maxPfn);
        assert.equal(d.present.bytesRead, 0, 'nothing of the 1st bitmap read at open');
        // The 2nd bitmap is counted once at open, a chunk at a time (kdump.ts checks the descriptors against it).
        const once = d.dumped.bytesRead;
        assert.ok(once <= maxPfn / 8, `the 2nd bitmap read at open: ${once}`);
        const log = dumpDmesg(new KernelMemory(d));
        assert.equal(Buffer.from(log).toString('latin1'), readFileSync(f.m.files.dmesg!.path, 'latin1'));
        assert.ok(
          bitmapBytesRead(d) - once <= 2 * 64 * 1024,
          `bitmap bytes read for the log: ${bitmapBytesRead(d) - once}`,
        );
      } finally {
        d.close();
      }
    });

    test("info's figures are the small dump's plus what was added at the top", (t) => {
      const f = big(t);
      if (!f) return;
      const a = openDump(f.small);
      const b = openDump(f.big);
      try {
        const fa = describeDump(a);
        const fb = describeDump(b);
        assert.equal(fb.maxPfn, maxPfn);
        assert.equal(fb.pagesPresent, fa.pagesPresent! + excluded.length + 1);
        assert.equal(fb.pagesDumped, fa.pagesDumped! + 1);
        assert.equal(fb.pagesExcluded, fa.pagesExcluded! + excluded.length);
        for (const k of [
          'release',
          'buildId',
          'kaslrOffset',
          'physBase',
          'pageOffsetBase',
          'panic',
          'crashTime',
        ] as const)
          assert.equal(fb[k], fa[k], k);
        assert.equal(fb.truncated, undefined);
        assert.deepEqual(fb.warnings, []);
      } finally {
        a.close();
        b.close();
      }
    });

    test('every page reads back as the small dump has it; the pages at the top as written, or excluded', (t) => {
      const f = big(t);
      if (!f) return;
      const a = openDump(f.small);
      const b = openDump(f.big);
      try {
        let n = 0;
        for (const pfn of a.presentPfns()) {
          assert.equal(b.pageState(pfn), a.pageState(pfn));
          if (Buffer.compare(a.readPage(pfn), b.readPage(pfn)) !== 0) assert.fail(`pfn 0x${pfn.toString(16)} differs`);
          n++;
        }
        assert.ok(n > 10000, `${n} pages compared`);
        assert.equal(Buffer.compare(b.readPage(high), patternPage(high)), 0, 'the page at the top');
        for (const p of excluded) {
          assert.equal(b.pageState(p), 'excluded');
          assert.throws(
            () => b.readPage(p),
            (e: unknown) => e instanceof FaultError && e.reason === 'excluded',
          );
        }
        assert.equal(b.pageState(maxPfn / 4), 'absent');
        assert.throws(
          () => b.readPage(maxPfn),
          (e: unknown) => e instanceof FaultError && e.reason === 'not-in-dump',
        );
      } finally {
        a.close();
        b.close();
      }
    });

    test("a session with the vmlinux: log is crash's, bt and ps are the small dump's", async (t) => {
      const f = big(t);
      if (!f) return;
      const pa = await Program.load({ vmcore: f.small, vmlinux: f.m.vmlinux });
      const pb = await Program.load({ vmcore: f.big, vmlinux: f.m.vmlinux });
      try {
        assert.equal(await runOk(pb, 'log'), oracleText(f.m, 'crash-log'));
        for (const cmd of ['bt', 'ps', 'kmem -i']) assert.equal(await runOk(pb, cmd), await runOk(pa, cmd), cmd);
        const d = pb.dump as KdumpDump;
        // Beyond the 2nd bitmap's one pass at open (the damage checks), a few chunks.
        const open = maxPfn / 8;
        assert.ok(
          bitmapBytesRead(d) <= open + 4 * 64 * 1024,
          `bitmap bytes read by the session: ${bitmapBytesRead(d)}`,
        );
      } finally {
        pa.close();
        pb.close();
      }
    });
  });
}

for (const tib of [1, 16])
  test(`tsmakedumpfile -c -d 31 of the ${tib} TiB file: the small dump's pages at the big max_mapnr, under 1 GiB of RSS`, (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const maxPfn = (tib * TiB) / 4096;
    const high = maxPfn - 2;
    const small = m.files['kdump-c-d31']!.path;
    const input = tempPath(`writer-${tib}t.kdump`);
    const output = tempPath(`writer-${tib}t.out`);
    writeBigKdump(small, input, { maxPfn, excluded: [maxPfn - 1], pages: new Map([[high, patternPage(high)]]) });
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', REPORT_RSS, CLI, '-c', '-d', '31', input, output],
      { encoding: 'latin1', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    assert.equal(r.status, 0, r.stderr);
    const peak = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1]) * 1024;
    t.diagnostic(`tsmakedumpfile peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(peak > 0 && peak < 2 ** 30, `peak RSS ${peak}`);
    const a = openDump(small);
    const b = openDump(output);
    try {
      assert.equal(b.maxPfn, maxPfn);
      assert.deepEqual([...b.presentPfns()], [...a.presentPfns(), high]);
      assert.equal(Buffer.compare(b.readPage(high), patternPage(high)), 0, 'the page at the top');
      for (const pfn of a.presentPfns())
        if (Buffer.compare(a.readPage(pfn), b.readPage(pfn)) !== 0) assert.fail(`pfn 0x${pfn.toString(16)} differs`);
      assert.equal(b.pageState(maxPfn - 1), 'excluded');
    } finally {
      a.close();
      b.close();
      // The output's bitmaps are written out (1 GiB at 16 TiB): not left in the temporary directory.
      rmSync(output, { force: true });
      rmSync(input, { force: true });
    }
  });

test('an ELF core of 70000 PT_LOADs (PN_XNUM) over 4 TiB: every segment found, pages and holes told apart', () => {
  const n = 70000;
  const stride = 2 ** 26;
  const loads = Array.from({ length: n }, (_, i) => ({
    paddr: i * stride,
    data: i % 1000 === 0 ? patternPage(i) : new Uint8Array(0),
    memsz: stride / 2,
  }));
  const d = openDump(tempFile('many-loads.elf', buildElfCore(loads)));
  try {
    assert.equal(d.info.segments, n);
    assert.equal(d.maxPfn, ((n - 1) * stride + stride / 2) / 4096);
    for (let i = 0; i < n; i += 997) {
      const pfn = (i * stride) / 4096;
      if (i % 1000 === 0) assert.deepEqual(d.readPage(pfn), patternPage(i));
      else assert.equal(d.pageState(pfn), 'zero');
      assert.equal(d.pageState(pfn + stride / 2 / 4096), 'absent', `the hole after segment ${i}`);
    }
    assert.deepEqual(d.readPage((69000 * stride) / 4096), patternPage(69000));
  } finally {
    d.close();
  }
});
