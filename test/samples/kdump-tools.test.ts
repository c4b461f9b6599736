import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { openDump } from '../../core/open.js';
import { crashLive } from '../lib/crash-live.js';
import { loadSample, oracleText } from '../lib/samples.js';
import { runOk, sampleProgram } from '../lib/session.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;

/** crash's sys less the DUMPFILE line (the file differs, nothing else may). */
const noDumpfile = (s: string): string => s.replace(/^ +DUMPFILE: .*\n/m, '');

/** sys's fields by name, as tscrash and crash print them. */
function sysFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const x = /^\s*([A-Z ]+): (.*)$/.exec(line);
    if (x) m.set(x[1]!.trim(), x[2]!.trim());
  }
  return m;
}

/**
 * The kdump-tools case (samples/kdumptools.ts): Debian's kdump-tools on a debootstrap'd bookworm, crashed by sysrq
 * with crashkernel=256M, saved its /var/crash/STAMP/dump.STAMP (MAKEDUMP_ARGS' default -F -c -d 31: a flattened
 * stream) and dmesg.STAMP once with tsmakedumpfile diverted into makedumpfile's place (ts-) and once with
 * makedumpfile itself (mdf-). Each run's raw /proc/vmcore was saved too; both collectors are held to the same bar.
 */
for (const [key, collector] of [
  ['ts', 'tsmakedumpfile'],
  ['mdf', 'makedumpfile'],
] as const) {
  describe(`kdump-tools with ${collector} as the core collector (kdump-tools sample)`, () => {
    test("every page in kdump-tools' dump equals the raw /proc/vmcore's", (t) => {
      const m = loadSample('kdump-tools', t);
      if (!m) return;
      const ours = openDump(m.files[`${key}-dump`]!.path);
      const elf = openDump(m.files[`${key}-vmcore.elf`]!.path);
      try {
        assert.equal(ours.info.format, 'flattened-kdump');
        let compared = 0;
        for (const pfn of ours.presentPfns()) {
          if (ours.pageState(pfn) !== 'dumped') continue;
          if (Buffer.compare(ours.readPage(pfn), elf.readPage(pfn)) !== 0)
            assert.fail(`pfn 0x${pfn.toString(16)} differs`);
          compared++;
        }
        assert.ok(compared > 10000, `${compared} pages`);
      } finally {
        ours.close();
        elf.close();
      }
    });

    test("kdump-tools' dmesg file, and tscrash --dump-dmesg of the dump, equal makedumpfile --dump-dmesg of the raw core", (t) => {
      const m = loadSample('kdump-tools', t);
      if (!m) return;
      const want = readFileSync(m.files[`${key}-raw-dmesg`]!.path, 'latin1');
      assert.match(want, /Kernel panic - not syncing: sysrq triggered crash/);
      assert.equal(readFileSync(m.files[`${key}-dmesg`]!.path, 'latin1'), want);
      const log = spawnSync(BIN, ['--dump-dmesg', m.files[`${key}-dump`]!.path], { encoding: 'latin1' });
      assert.equal(log.status, 0, log.stderr);
      assert.equal(log.stdout, want);
    });

    test('crash gives the log, bt and sys on the dump that it gives on the raw core', (t) => {
      const m = loadSample('kdump-tools', t);
      if (!m) return;
      const [log, bt, sys] = crashLive(m.vmlinux, m.files[`${key}-dump`]!.path, ['log', 'bt', 'sys']);
      assert.equal(log, oracleText(m, `crash-${key}-log`), 'log');
      assert.equal(bt, oracleText(m, `crash-${key}-bt`), 'bt');
      assert.equal(noDumpfile(sys!), noDumpfile(oracleText(m, `crash-${key}-sys`)), 'sys');
    });

    test("tscrash gives the log, bt and sys on the dump that it gives on the raw core, and crash's log and sys", async (t) => {
      const dump = await sampleProgram('kdump-tools', t, `${key}-dump`);
      const raw = await sampleProgram('kdump-tools', t, `${key}-vmcore.elf`);
      if (!dump || !raw) return;
      for (const cmd of ['log', 'bt', 'sys']) {
        const a = await runOk(dump.prog, cmd);
        const b = await runOk(raw.prog, cmd);
        assert.equal(cmd === 'sys' ? noDumpfile(a) : a, cmd === 'sys' ? noDumpfile(b) : b, cmd);
      }
      assert.equal(await runOk(dump.prog, 'log'), oracleText(dump.m, `crash-${key}-log`));
      const ours = sysFields(await runOk(dump.prog, 'sys'));
      const crash = sysFields(oracleText(dump.m, `crash-${key}-sys`));
      for (const k of ['CPUS', 'DATE', 'NODENAME', 'RELEASE', 'VERSION', 'PANIC'])
        assert.equal(ours.get(k), crash.get(k), k);
      assert.equal(crash.get('NODENAME'), 'kdump-tools');
      // The panic task's frames, as crash numbers them, are ours (crash also lists stale return addresses the
      // kernel's own trace marks "?": every frame of ours is one of crash's, in order).
      const frames = (s: string): string[] =>
        [...s.matchAll(/^ *#\d+ (\[[0-9a-f]+\] [\w.]+ at [0-9a-f]+)$/gm)].map((x) => x[1]!);
      const mine = frames(await runOk(dump.prog, 'bt'));
      const theirs = frames(oracleText(dump.m, `crash-${key}-bt`));
      assert.ok(mine.length > 5, `${mine.length} frames`);
      let i = 0;
      for (const f of mine) {
        while (i < theirs.length && theirs[i] !== f) i++;
        assert.ok(i < theirs.length, `frame ${f} not in crash's bt`);
      }
    });
  });
}

test("kdump-tools sample facts: both runs captured in the reservation the case asked for, from kdump-tools' own initrd", (t) => {
  const m = loadSample('kdump-tools', t);
  if (!m) return;
  assert.equal(m.facts.crashkernel, '256M');
  assert.equal(m.facts.tsPanic, 'Kernel panic - not syncing: sysrq triggered crash');
  assert.equal(m.facts.mdfPanic, m.facts.tsPanic);
  assert.ok(Number(m.facts.kdumpInitrdUnpackedBytes) > Number(m.facts.kdumpInitrdBytes));
  // The tsmakedumpfile run's log shows the wrapper ran (node's banner line), the other's Debian's binary.
  const tsSerial = readFileSync(m.files['ts-dump']!.path.replace(/ts-dump$/, 'ts-serial.log'), 'latin1');
  const mdfSerial = readFileSync(m.files['mdf-dump']!.path.replace(/mdf-dump$/, 'mdf-serial.log'), 'latin1');
  assert.match(tsSerial, /tsmakedumpfile Completed/);
  assert.doesNotMatch(mdfSerial, /tsmakedumpfile/);
  assert.match(mdfSerial, /makedumpfile Completed/);
});
