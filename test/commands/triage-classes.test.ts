/**
 * triage on a real death of each class (the triage cases of samples/build.ts: our crash module's NULL dereference,
 * BUG(), general protection fault, soft lockup and hung task, an out-of-memory panic, and a sysrq crash on Debian's
 * 6.12 kernel): `tscrash triage --json` names the class from the kernel's wording, gives crash's sys PANIC, the
 * CPU and task crash's bt names, a culprit crash's backtrace shows (our module's function where the module crashed
 * the kernel), the same signature in every dump format, and a different one for every crash.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import type { PanicClass } from '../../helpers/triage.js';
import {
  loadSample,
  type Manifest,
  oracleText,
  SAMPLE_NAMES,
  TRIAGE_SAMPLE_NAMES,
  type TriageSampleName,
} from '../lib/samples.js';

const root = join(import.meta.dirname, '..', '..');

/** What each case is, from how it was made: the class of its death and the function that caused it. */
const EXPECTED: Record<TriageSampleName, { class: PanicClass; culprit?: string }> = {
  oops: { class: 'null-dereference', culprit: 'tscrash_null_deref' },
  bug: { class: 'bug', culprit: 'tscrash_bug' },
  gpf: { class: 'general-protection-fault', culprit: 'tscrash_gpf' },
  softlockup: { class: 'soft-lockup', culprit: 'tscrash_spin' },
  hung: { class: 'hung-task', culprit: 'tscrash_hang' },
  oom: { class: 'out-of-memory' },
  k612: { class: 'sysrq', culprit: 'sysrq_handle_crash' },
};

/** The triage result as `tscrash triage --json` prints it (64-bit values as hex strings). */
interface TriageJson {
  signature: string;
  panic: {
    class: string;
    message: string;
    sysPanic: string;
    cpu?: number;
    task?: { pid: number; task: string; cpu: number; comm: string };
  };
  culprit?: {
    frame: number;
    symbol: string;
    offset?: number;
    module?: string;
    ip: string;
    task?: { pid: number; task: string; comm: string };
  };
  blocked: { task: { pid: number; task: string; comm: string }; functions: string[] }[];
  backtrace?: { frames: { symbol?: string }[] };
  taint?: { flags: string; set: { letter: string; modules: string[] }[] };
}

const validate = new Ajv({ allErrors: true }).compile(
  JSON.parse(readFileSync(join(root, 'schemas', 'TriageResult.json'), 'utf8')) as object,
);

/** tscrash triage --json on several dumps: one result per dump, in order, each valid against its schema. */
function triage(vmlinux: string, dumps: string[]): TriageJson[] {
  const r = spawnSync(join(root, 'bin', 'tscrash'), ['triage', '--json', vmlinux, ...dumps], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const docs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { dump?: string; ok: boolean; result?: TriageJson })
    .filter((d) => d.dump !== undefined);
  assert.equal(docs.length, dumps.length);
  return docs.map((d) => {
    assert.ok(d.ok, d.dump);
    assert.ok(validate(d.result), JSON.stringify(validate.errors));
    return d.result!;
  });
}

/** crash's sys PANIC text (inside its quotes). */
function crashPanic(m: Manifest): string {
  const line = /^ +PANIC: (.*)$/m.exec(oracleText(m, 'crash-sys'))?.[1] ?? '';
  return /^"(.*)"/.exec(line)?.[1] ?? line;
}

/** The header of crash's bt of one task: PID, TASK, CPU, COMMAND. */
function crashBtHeader(text: string): { pid: number; task: string; cpu: number; comm: string } {
  const m = /^PID: (\d+) +TASK: ([0-9a-f]+) +CPU: (\d+) +COMMAND: "(.*)"$/m.exec(text);
  assert.ok(m, `no bt header in\n${text.slice(0, 300)}`);
  return { pid: Number(m[1]), task: `0x${m[2]}`, cpu: Number(m[3]), comm: m[4]! };
}

/** crash's bt shows the function as a frame or as the exception RIP of an exception frame (with its offset). */
function crashShows(bt: string, symbol: string, offset?: number): boolean {
  return (
    bt.includes(` ${symbol} at `) ||
    bt.includes(`[exception RIP: ${symbol}${offset !== undefined ? `+${offset}]` : ''}`)
  );
}

/** The culprit the case was made to have: our module's function (and its taint) where the module crashed it. */
function expectedCulprit(r: TriageJson, culprit: string | undefined): void {
  if (!culprit) return;
  assert.equal(r.culprit?.symbol, culprit);
  if (culprit.startsWith('tscrash_')) {
    assert.equal(r.culprit?.module, 'tscrash_crash');
    // Our module is out of tree and unsigned: the kernel says so in its taint, and names the module.
    for (const letter of ['O', 'E'])
      assert.deepEqual(r.taint?.set.find((s) => s.letter === letter)?.modules, ['tscrash_crash'], letter);
  }
}

/**
 * A case crash cannot read (the manifest's noCrash says why): the panic line of makedumpfile's log, drgn's crashed
 * task, and the call trace the kernel itself printed at the panic, whose reliable entries (those without "?") are
 * tscrash's frames from the first of them on.
 */
function withoutCrash(m: Manifest, r: TriageJson): void {
  assert.ok(m.facts.noCrash, 'a case without crash oracles says why');
  const dmesg = readFileSync(m.files.dmesg!.path, 'latin1');
  assert.equal(r.panic.sysPanic, m.facts.panic);
  assert.ok(r.panic.message.length > 0 && dmesg.includes(r.panic.message), r.panic.message);
  const facts = JSON.parse(oracleText(m, 'drgn-facts')) as {
    crashed_pid: number;
    crashed_cpu: number;
    crashed_task: string;
  };
  const tasks = JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; comm: string }[];
  assert.equal(r.panic.cpu, facts.crashed_cpu);
  assert.equal(r.panic.task?.pid, facts.crashed_pid);
  assert.equal(r.panic.task?.task, facts.crashed_task);
  assert.equal(r.panic.task?.comm, tasks.find((x) => x.pid === facts.crashed_pid)?.comm);
  const at = dmesg.indexOf('Kernel panic - not syncing');
  const trace = dmesg.slice(dmesg.indexOf('<TASK>', at), dmesg.indexOf('</TASK>', at));
  const logged = [...trace.matchAll(/^\[[ \d.]+\] +([\w.]+)\+0x/gm)].map((x) => x[1]!);
  assert.ok(logged.length > 3, trace);
  const ours = (r.backtrace?.frames ?? []).map((f) => f.symbol);
  assert.deepEqual(ours.slice(ours.indexOf(logged[0]!)), logged);
  if (r.culprit) assert.ok(logged.includes(r.culprit.symbol), `${r.culprit.symbol} in the kernel's call trace`);
}

describe('triage on a real death of each class', () => {
  const results = new Map<string, TriageJson>();

  for (const name of TRIAGE_SAMPLE_NAMES) {
    test(`${name}: class, the PANIC, CPU and task, culprit in the oracles' backtrace, one signature in every format`, (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const want = EXPECTED[name];
      const keys = ['kdump-c-d31', 'elf', 'flat-c-d31', 'kdump-l-d31'].filter((k) => m.files[k]);
      const reports = triage(
        m.vmlinux,
        keys.map((k) => m.files[k]!.path),
      );
      const r = reports[0]!;
      results.set(name, r);
      assert.equal(r.panic.class, want.class, r.panic.message);
      for (const x of reports) assert.equal(x.signature, r.signature, 'the same crash in another format');
      expectedCulprit(r, want.culprit);
      if (!m.oracle['crash-sys']) {
        withoutCrash(m, r);
        return;
      }
      assert.equal(r.panic.sysPanic, crashPanic(m));
      // The headline is a line of the log crash read.
      assert.ok(r.panic.message.length > 0);
      assert.ok(oracleText(m, 'crash-log').includes(r.panic.message), r.panic.message);
      const bt = oracleText(m, 'crash-bt');
      const head = crashBtHeader(bt);
      assert.equal(r.panic.cpu, head.cpu);
      assert.equal(r.panic.task?.pid, head.pid);
      assert.equal(r.panic.task?.task, head.task);
      assert.equal(r.panic.task?.comm, head.comm);
      if (want.class === 'hung-task') {
        // khungtaskd panics; the culprit is where the task it reported sleeps. crash 8.0.2 does not find these
        // kernels' sleeping tasks (its ps has only the active ones), so drgn's stack of the task is the oracle,
        // with the call trace the kernel logged in its report.
        const log = oracleText(m, 'crash-log');
        const reported = /INFO: task (.+):(\d+) blocked for more than \d+ seconds/.exec(log);
        assert.ok(reported, 'the hung task report in the log');
        const pid = Number(reported[2]);
        assert.equal(r.culprit?.task?.pid, pid);
        assert.equal(r.culprit?.task?.comm, reported[1]);
        assert.ok(
          r.blocked.some((b) => b.task.pid === pid && b.functions.includes(r.culprit!.symbol)),
          'among the blocked tasks',
        );
        const stacks = JSON.parse(oracleText(m, 'drgn-stacks')) as { pid: number; frames: { name: string | null }[] }[];
        const drgn = stacks.find((x) => x.pid === pid);
        assert.ok(
          drgn?.frames.some((f) => f.name === r.culprit!.symbol),
          `drgn's stack of ${pid}: ${drgn?.frames.map((f) => f.name).join(' < ')}`,
        );
        const trace = log.slice(reported.index, log.indexOf('</TASK>', reported.index));
        assert.match(trace, new RegExp(`^\\[[ \\d.]+\\] +${r.culprit!.symbol}\\+0x`, 'm'));
        // The HTML report names the blocked task with the culprit, and marks no frame of khungtaskd's stack.
        const dir = mkdtempSync(join(tmpdir(), 'tscrash-hung-'));
        try {
          const file = join(dir, 'report.html');
          const h = spawnSync(join(root, 'bin', 'tscrash'), ['triage', '--html', file, m.vmlinux, m.files.elf!.path], {
            encoding: 'utf8',
            timeout: 300_000,
          });
          assert.equal(h.status, 0, h.stderr);
          const html = readFileSync(file, 'utf8');
          assert.ok(
            html.includes(`of the blocked task, PID ${pid} "${reported[1]}")`),
            'the culprit row names the task',
          );
          assert.ok(!html.includes('class="frame culprit"'), "no frame of khungtaskd's stack is the culprit");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      } else if (r.culprit) {
        assert.ok(crashShows(bt, r.culprit.symbol, r.culprit.offset), `${r.culprit.symbol} in crash's bt`);
      }
    });
  }

  test('every crash has its own signature; the sysrq crash on 6.12 is the sysrq crash on 6.1', (t) => {
    for (const name of SAMPLE_NAMES) {
      const m = loadSample(name, t);
      if (!m) return;
      results.set(name, triage(m.vmlinux, [m.files['kdump-c-d31']!.path])[0]!);
    }
    const got = TRIAGE_SAMPLE_NAMES.filter((n) => results.has(n));
    if (got.length < TRIAGE_SAMPLE_NAMES.length) {
      const why = `triage samples missing: ${TRIAGE_SAMPLE_NAMES.filter((n) => !results.has(n)).join(', ')}`;
      if (process.env.CI === 'true') assert.fail(why);
      t.diagnostic(why);
    }
    // The same crash on another kernel: the same class, message and culprit stack name it alike, as long as the two
    // kernels' stacks under the culprit are the same function for function.
    const k612 = results.get('k612');
    const sysrq = results.get('sysrq');
    if (k612 && sysrq) {
      const stack = (r: TriageJson): string[] => {
        const f = (r.backtrace?.frames ?? []).map((x) => x.symbol);
        return f.slice(r.culprit!.frame, r.culprit!.frame + 5) as string[];
      };
      assert.equal(k612.signature === sysrq.signature, String(stack(k612)) === String(stack(sysrq)));
      results.delete('k612');
    }
    const bySignature = new Map<string, string>();
    for (const [name, r] of results) {
      const other = bySignature.get(r.signature);
      assert.equal(other, undefined, `${name} and ${other} have the same signature ${r.signature}`);
      bySignature.set(r.signature, name);
    }
  });
});
