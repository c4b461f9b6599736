/**
 * The machine-check records the kernel kept in memory, on the real samples.
 * On the mce sample the kernel panicked inside do_machine_check (mce_panic from
 * mce_no_way_out), so the injected record was never copied to mces_seen or the
 * genpool: it is do_machine_check's local struct mce, on the stack the handler
 * ran on. mces_seen holds the gathered context (MCG_STATUS, IP, TSC) with a zero
 * status. (Checked with drgn: per_cpu(mces_seen, 0).status == 0,
 * mce_event_llist.first == NULL, no mcelog symbol in this Debian kernel.)
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { mceRecordsInMemory } from '../../helpers/mce-records.js';
import { perCpu } from '../../helpers/percpu.js';
import { loadSample } from '../lib/samples.js';
import { closeSamples, openSample, run } from './kmem-lib.js';

after(closeSamples);

describe('in-memory machine-check records', () => {
  test('mce sample: the injected record is found on the handler stack and matches the log', async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const inj = m.facts.mce!;
    const prog = await openSample(m, 'kdump-c-d31');
    {
      const mem = mceRecordsInMemory(prog);
      const seen = perCpu(prog, 'mces_seen', inj.cpu);
      assert.equal(seen.member('status').value(), 0n, 'mces_seen has no bank record');
      assert.equal(seen.member('mcgstatus').value(), BigInt(inj.mcgStatus));
      const stack = mem.records.filter((r) => r.source === 'stack');
      assert.equal(stack.length, 1, JSON.stringify(mem.notes));
      const r = stack[0]!.record;
      assert.equal(r.status, BigInt(inj.status));
      assert.equal(r.addr, BigInt(inj.addr));
      assert.equal(r.misc, BigInt(inj.misc));
      assert.equal(r.bank, inj.bank);
      assert.equal(r.extcpu, inj.cpu);
      assert.equal(r.mcgstatus, BigInt(inj.mcgStatus));
      assert.equal(r.tsc, seen.member('tsc').value());
      // The handler ran on the task's kernel stack when the machine check came from user mode, on the CPU's #MC
      // exception stack when it interrupted the kernel (which one depends on the boot).
      assert.match(stack[0]!.where, r.cs % 4 === 0 ? /#MC exception stack of CPU \d+/ : /kernel stack of task/);
      assert.equal(mem.records.filter((x) => x.source === 'mces_seen').length, 0);
      assert.ok(mem.notes.some((n) => /stopped before its bank scan/.test(n)));

      const out = await run(prog, 'mce');
      assert.match(out, /MACHINE CHECK 1 of 1 \(kernel log\)/);
      assert.match(
        out,
        /MACHINE CHECK IN MEMORY 1 of 1 \(handler stack\): the same record as MACHINE CHECK 1 of the log/,
      );
      assert.match(
        out,
        /CPU 0 {2}BANK 1 .*\n.*MCG_STATUS 0x5: RIPV MCIP\n.*STATUS 0xbe00000000800090: VAL UC EN MISCV ADDRV PCC/,
      );
      assert.match(out, /ADDR 0x12345000\n {2}MISC 0x8c\n/);
      assert.match(out, /PANIC: "Kernel panic - not syncing: Fatal local machine check"/);
      const json = JSON.parse(await run(prog, 'mce --json')) as { memory: { source: string; matchesLog: number }[] };
      assert.deepEqual(
        json.memory.map((x) => [x.source, x.matchesLog]),
        [['stack', 1]],
      );
    }
  });

  test('sysrq sample: no machine check anywhere', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const prog = await openSample(m, 'kdump-c-d31');
    {
      // The cloud kernel is built without CONFIG_X86_MCE: no struct mce at all.
      const mem = mceRecordsInMemory(prog);
      assert.deepEqual(mem.records, []);
      assert.match(mem.notes.join('\n'), /no machine-check support/);
      const out = await run(prog, 'mce');
      assert.match(out, /^no machine check in the kernel log/);
      assert.doesNotMatch(out, /MACHINE CHECK/);
    }
  });
});
