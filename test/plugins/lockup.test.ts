/**
 * The lockup plugin on the real samples: the blocked tasks are the D tasks drgn found (none on sysrq and mce),
 * and on the hung sample (a task waiting uninterruptibly until the kernel's hung-task detector panics) they are
 * the tasks the kernel's own report names, with its timeout, at least as long blocked as it says, and the same
 * stack as the kernel's call trace and drgn's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import * as tscrash from 'tscrash';
import lockup, { type LockupResult } from '../../plugins/lockup.js';
import { drgnLive } from '../lib/drgn-live.js';
import { loadSample, type Manifest, oracleText, SAMPLE_NAMES, samplesDir } from '../lib/samples.js';

const DRGN_RQ_CLOCK = new URL('./drgn/rq-clock.py', import.meta.url).pathname;

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const validate = new Ajv({ strict: false }).compile(
  JSON.parse(readFileSync(new URL('../../schemas/LockupResult.json', import.meta.url), 'utf8')) as object,
);

function lockupJson(m: Manifest, args: string[]): LockupResult[] {
  const r = spawnSync(
    process.execPath,
    [BIN, '--json', m.vmlinux, m.files['kdump-c-d31']!.path, '--plugin', 'lockup', ...args.flatMap((a) => ['-c', a])],
    { encoding: 'latin1' },
  );
  assert.equal(r.stderr, '');
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => {
      const doc = JSON.parse(l) as { ok: boolean; result: LockupResult };
      assert.equal(doc.ok, true, l);
      assert.ok(validate(doc.result), JSON.stringify(validate.errors));
      return doc.result;
    });
}

let registered = false;
for (const name of SAMPLE_NAMES) {
  test(`lockup on ${name}: the blocked tasks are drgn's D tasks`, async (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const drgnD = (JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; state: string }[])
      .filter((x) => x.state === 'D')
      .map((x) => x.pid)
      .sort((a, b) => a - b);
    const [all, dflt] = lockupJson(m, ['lockup -a', 'lockup']);
    assert.deepEqual(
      all!.tasks.map((x) => x.task.pid).sort((a, b) => a - b),
      drgnD,
    );
    assert.equal(all!.timeoutFrom, 'all');
    // The kernel's own timeout (hung_task_timeout_secs, 120 s unless changed) is the default threshold.
    const prog = await tscrash.open({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
    try {
      assert.equal(dflt!.timeout, prog.variable('sysctl_hung_task_timeout_secs').num());
      assert.equal(dflt!.timeoutFrom, 'hung_task_timeout_secs');
      // "now" is the latest run-queue clock of the online CPUs, as drgn reads them. (It need not follow the last
      // log record: a machine check's report is printed with the ticks stopped.)
      const drgnNow = (drgnLive(m.vmlinux, m.files['kdump-c-d31']!.path, DRGN_RQ_CLOCK) as { now: number | string })
        .now;
      assert.equal(BigInt(dflt!.now), BigInt(drgnNow));
      // Through the API: the plugin module registers its command on a Program of a script.
      if (!registered) lockup(tscrash);
      registered = true;
      const { text, ok } = await tscrash.runCommand(prog, 'lockup -a');
      assert.equal(ok, true);
      if (drgnD.length === 0) assert.equal(text, 'no task is blocked (D)\n');
      const bad = await tscrash.runCommand(prog, 'lockup -t soon');
      assert.deepEqual(bad, { ok: false, text: 'lockup: -t needs a number of seconds\n' });
    } finally {
      prog.close();
    }
  });
}

test("lockup on the hung sample: the tasks, timeout and stacks of the kernel's hung-task report", (t) => {
  const path = join(samplesDir(), 'hung', 'manifest.json');
  if (!existsSync(path)) {
    t.skip('the hung sample is not built');
    return;
  }
  const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const log = readFileSync(m.files.dmesg!.path, 'latin1');
  // INFO: task init:1 blocked for more than 5 seconds.
  const reports = [...log.matchAll(/^\[ *(\d+\.\d+)\] INFO: task (.+):(\d+) blocked for more than (\d+) seconds\.$/gm)];
  assert.ok(reports.length >= 1, 'the kernel reported a hung task');
  const panicAt = Number(/^\[ *(\d+\.\d+)\] Kernel panic - not syncing: hung_task: blocked tasks$/m.exec(log)![1]);
  const [r] = lockupJson(m, ['lockup']);
  assert.equal(r!.timeoutFrom, 'hung_task_timeout_secs');
  assert.equal(r!.timeout, Number(reports[0]![4]));
  for (const rep of reports) {
    const [, at, comm, pid, secs] = rep;
    const ours = r!.tasks.find((x) => x.task.pid === Number(pid));
    assert.ok(ours, `pid ${pid} is blocked`);
    assert.equal(ours.task.comm, comm);
    // Blocked at least as long as the kernel said when it reported, and no longer than since boot.
    assert.ok(ours.blockedSeconds >= Number(secs) + (panicAt - Number(at)) - 0.01, `${ours.blockedSeconds} s`);
    assert.ok(ours.blockedSeconds <= panicAt + 0.01);
    // The stack: the functions of the kernel's call trace for the task (its "? " guesses left out).
    const trace = log.slice(rep.index).split('\n');
    const from = trace.findIndex((l) => l.endsWith(' <TASK>'));
    const names: string[] = [];
    for (const l of trace.slice(from + 1)) {
      const f = /^\[ *\d+\.\d+\] {2}(\?)? ?([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+( \[(\w+)\])?$/.exec(l);
      if (!f) break;
      if (!f[1]) names.push(f[4] ? `${f[2]} [${f[4]}]` : f[2]!);
    }
    assert.ok(names.length >= 4, trace.slice(from, from + 5).join('\n'));
    assert.deepEqual(
      ours.frames.map((f) => (f.module ? `${f.name} [${f.module}]` : f.name)),
      names,
    );
    // And drgn's stack (the stored oracle of this build): the same pcs, its inlined frames folded.
    const drgn = (JSON.parse(oracleText(m, 'drgn-stacks')) as { pid: number; frames: { pc: string }[] }[]).find(
      (s) => s.pid === Number(pid),
    )!;
    const pcs = drgn.frames
      .filter((f, i) => !(i + 1 < drgn.frames.length && drgn.frames[i + 1]!.pc === f.pc))
      .filter((f) => BigInt(f.pc) >= 0xffff800000000000n)
      .map((f) => BigInt(f.pc));
    assert.deepEqual(
      ours.frames.map((f) => BigInt(f.pc)), // "0x..." in JSON
      pcs,
    );
    // wchan: the first of those functions outside the scheduler's text.
    assert.ok(ours.wchan && names.includes(ours.wchan), ours.wchan);
  }
});
