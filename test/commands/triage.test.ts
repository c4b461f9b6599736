/**
 * triage on the real samples: the class of each crash, its signature the same in every dump format of it and on
 * another boot of the same crash (the capture sample is the sysrq crash again), and different between crashes;
 * the culprit, the taint and the memory against what the kernel itself printed and crash computed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import type { TriageResult } from '../../commands/triage.js';
import { Program } from '../../program/index.js';
import { DUMP_KEYS, loadSample, type Manifest, oracleText } from '../lib/samples.js';

const root = join(import.meta.dirname, '..', '..');

async function triageOf(m: Manifest, key: string): Promise<TriageResult> {
  registerBuiltins();
  const prog = await Program.load({ vmcore: m.files[key]!.path, vmlinux: m.vmlinux });
  try {
    const { resolveCommand } = await import('../../commands/index.js');
    const cmd = (await resolveCommand('triage'))!;
    return (await cmd.run({ program: prog, out: () => {}, format: 'json' }, [])) as TriageResult;
  } finally {
    prog.close();
  }
}

/** The taint letters the kernel printed in its own oops or panic header ("Not tainted" is G). */
function loggedTaint(dmesg: string): string | undefined {
  const m = /(Not tainted|Tainted: ([A-Z ]+?)) \d/.exec(dmesg);
  if (!m) return undefined;
  return m[2] ? m[2].replace(/[ G]/g, '') || 'G' : 'G';
}

describe('triage on the real samples', () => {
  test('sysrq: class, culprit, signature in every format, taint and memory as the kernel and crash say', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const reports = [];
    for (const key of DUMP_KEYS) if (m.files[key]) reports.push(await triageOf(m, key));
    const r = reports[0]!;
    assert.equal(r.panic.class, 'sysrq');
    assert.match(r.panic.message, /sysrq triggered crash/);
    // echo c > /proc/sysrq-trigger: its handler is the function that crashes the machine.
    assert.equal(r.culprit?.symbol, 'sysrq_handle_crash');
    assert.match(oracleText(m, 'crash-bt'), / sysrq_handle_crash at /);
    for (const x of reports) assert.equal(x.signature, r.signature, x.dump);
    assert.equal(r.taint?.flags, loggedTaint(oracleText(m, 'drgn-dmesg')));
    const totalMem = /TOTAL MEM +(\d+)/.exec(oracleText(m, 'crash-kmem-i'))![1];
    assert.equal(String(r.memory?.total), totalMem);
    assert.match(r.logTail.at(-1)!, /^Kernel panic - not syncing: /);
    assert.ok(r.logTail.length <= 30 && r.logTail.length > 10);
    assert.equal(r.panic.task?.pid, Number(/^PID: (\d+)/m.exec(oracleText(m, 'crash-bt'))![1]));
  });

  test('another boot of the same crash has the same signature; a different crash another', async (t) => {
    const sysrq = loadSample('sysrq', t);
    const capture = loadSample('capture', t);
    const mce = loadSample('mce', t);
    if (!sysrq || !capture || !mce) return;
    const a = await triageOf(sysrq, 'kdump-c-d31');
    const b = await triageOf(capture, 'kdump-c-d31');
    const c = await triageOf(mce, 'kdump-c-d31');
    assert.equal(b.signature, a.signature, 'the capture sample is the sysrq crash on another boot');
    assert.notEqual(c.signature, a.signature);
    assert.equal(c.panic.class, 'machine-check');
    // The hardware is the culprit: the code a machine check interrupts differs from boot to boot.
    assert.equal(c.culprit, undefined);
    assert.equal(c.machineChecks?.logged, 1);
    assert.ok((c.machineChecks?.inMemory ?? 0) >= 1);
    assert.match(c.machineChecks!.summaries[0]!, new RegExp(`status ${mce.facts.mce!.status}`));
    assert.equal(c.taint?.flags.includes('M'), loggedTaint(oracleText(mce, 'drgn-dmesg'))?.includes('M') ?? false);
    // The other CPU was stopped by the crash NMI.
    assert.ok(
      c.otherCpus.every((x) => x.functions.includes('crash_nmi_callback')),
      c.otherCpus.map((x) => x.functions.join(' < ')).join('; '),
    );
  });

  test('tscrash triage: several dumps, one unreadable; JSON one document a dump', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const r = spawnSync(
      join(root, 'bin', 'tscrash'),
      ['triage', '--json', m.vmlinux, m.files['kdump-l-d31']!.path, '/nonexistent/vmcore', m.files.elf!.path],
      { encoding: 'utf8', timeout: 300_000 },
    );
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { dump: string; ok: boolean; result?: TriageResult })
      .filter((d) => d.dump !== undefined);
    assert.deepEqual(
      docs.map((d) => d.ok),
      [true, false, true],
    );
    assert.equal(docs[0]!.result!.signature, docs[2]!.result!.signature);
    assert.equal(r.status, 1);
    const text = spawnSync(join(root, 'bin', 'tscrash'), ['triage', m.vmlinux, m.files['kdump-c-d31']!.path], {
      encoding: 'utf8',
      timeout: 300_000,
    }).stdout;
    assert.match(text, /^PANIC: +sysrq: /m);
    assert.match(text, /^CULPRIT: +sysrq_handle_crash\+\d+/m);
    assert.match(text, /^BACKTRACE OF THE PANIC TASK\nPID: /m);
  });

  test('tscrash triage DIR: the dumps under it in parallel, summarised by signature; an unreadable one named', (t) => {
    const cases = (['sysrq', 'capture', 'mce'] as const).map((n) => loadSample(n, t));
    if (cases.some((m) => !m)) return;
    const [sysrq, capture, mce] = cases as Manifest[];
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-triage-'));
    try {
      // A kdump-tools-like tree: dumps by crash, the dmesg text beside them (not a dump), vmlinux by release.
      const debug = join(dir, 'debug', 'boot');
      mkdirSync(debug, { recursive: true });
      for (const m of [sysrq, mce]) symlinkSync(m!.vmlinux, join(debug, `vmlinux-${m!.release}`));
      const crash = join(dir, 'crash');
      for (const [sub, m, key] of [
        ['1', sysrq, 'kdump-c-d31'],
        ['2', capture, 'kdump-l-d31'],
        ['3', mce, 'flat-c-d31'],
        ['4', sysrq, 'elf-d31'],
      ] as const) {
        mkdirSync(join(crash, sub), { recursive: true });
        symlinkSync(m!.files[key]!.path, join(crash, sub, 'dump.x'));
        writeFileSync(join(crash, sub, 'dmesg.x'), 'not a dump\n');
      }
      mkdirSync(join(crash, '5'));
      writeFileSync(join(crash, '5', 'dump.x'), readFileSync(sysrq!.files['kdump-c-d31']!.path).subarray(0, 200_000));
      const r = spawnSync(join(root, 'bin', 'tscrash'), ['triage', '--json', crash], {
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, TSCRASH_DEBUG_ROOT: join(dir, 'debug') },
      });
      const lines = r.stdout.trim().split('\n');
      const docs = lines.slice(0, -1).map((l) => JSON.parse(l) as { dump: string; ok: boolean; result?: TriageResult });
      assert.deepEqual(
        docs.map((d) => [d.dump.slice(crash.length), d.ok]),
        [
          ['/1/dump.x', true],
          ['/2/dump.x', true],
          ['/3/dump.x', true],
          ['/4/dump.x', true],
          ['/5/dump.x', false],
        ],
      );
      const summary = (JSON.parse(lines.at(-1)!) as { summary: { signature: string; count: number; class: string }[] })
        .summary;
      assert.deepEqual(
        summary.map((x) => [x.signature, x.count, x.class]),
        [
          [docs[0]!.result!.signature, 3, 'sysrq'],
          [docs[2]!.result!.signature, 1, 'machine-check'],
        ],
      );
      assert.equal(r.status, 1, 'an unreadable dump makes the exit status 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
