/**
 * The memory a 16 TiB machine's dump takes (kdump bitmaps of 512 MiB each), measured as this test process's peak
 * RSS (node --test runs each file in a process of its own): building the file, info's counts over both bitmaps,
 * the log, every page read back, and a session with the vmlinux running log, bt and ps.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { dumpDmesg } from '../../core/dmesg.js';
import { describeDump } from '../../core/info.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { Program } from '../../program/index.js';
import { loadSample } from '../lib/samples.js';
import { runOk } from '../lib/session.js';
import { tempPath, writeBigKdump } from '../lib/synth-dump.js';

const MiB = 2 ** 20;

test('a 16 TiB dump: info, the log, every page and a session stay under 300 MiB of RSS', async (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const maxPfn = (16 * 2 ** 40) / 4096;
  const file = tempPath('rss-16t.kdump');
  writeBigKdump(m.files['kdump-c-d31']!.path, file, { maxPfn, excluded: [maxPfn - 1] });
  const d = openDump(file);
  try {
    const f = describeDump(d);
    assert.equal(f.maxPfn, maxPfn);
    assert.ok(f.pagesPresent! > 10000);
    assert.ok(dumpDmesg(new KernelMemory(d)).length > 1000);
    let n = 0;
    for (const pfn of d.presentPfns()) n += d.readPage(pfn).length > 0 ? 1 : 0;
    assert.equal(n, f.pagesDumped);
  } finally {
    d.close();
  }
  const dumpPeak = process.resourceUsage().maxRSS * 1024;
  t.diagnostic(`peak RSS before the session ${(dumpPeak / MiB).toFixed(0)} MiB`);
  const prog = await Program.load({ vmcore: file, vmlinux: m.vmlinux });
  try {
    for (const cmd of ['log', 'bt', 'ps']) assert.ok((await runOk(prog, cmd)).length > 0, cmd);
  } finally {
    prog.close();
    rmSync(file, { force: true });
  }
  const peak = process.resourceUsage().maxRSS * 1024;
  t.diagnostic(`peak RSS ${(peak / MiB).toFixed(0)} MiB`);
  assert.ok(peak < 300 * MiB, `peak RSS ${(peak / MiB).toFixed(0)} MiB`);
});
