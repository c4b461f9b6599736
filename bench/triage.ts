/**
 * tscrash triage, in one run, on the real samples (issue 14's measures):
 *  - one dump with a warm index: `tscrash triage VMLINUX DUMP` against `tscrash VMLINUX DUMP -c bt -c log -c ps`
 *    (target: at most 1.5x);
 *  - 20 dumps (the sysrq sample's formats, repeated): one worker thread against one per CPU (target: near-linear).
 *   node dist/bench/triage.js [--runs 3]
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest, measure, row } from './measure.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 3) || 3;
const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const sysrq = loadSampleManifest('sysrq');
const core = sysrq.files['kdump-c-d31']!.path;

// Warm the name index.
measure(bin, [sysrq.vmlinux, core, '-c', 'whatis struct task_struct'], 1);
const triage = measure(bin, ['triage', sysrq.vmlinux, core], runs);
const session = measure(bin, [sysrq.vmlinux, core, '-c', 'bt', '-c', 'log', '-c', 'ps'], runs);
process.stdout.write(`${row('triage, one dump (sysrq -c -d31)', triage, session, 'bt+log+ps')}\n`);

// 20 dumps: every format of both samples, repeated under other names to make 20.
const dir = mkdtempSync(join('/dev/shm', 'tscrash-triage-bench-'));
try {
  const files = Object.entries(sysrq.files).map(([k, f]) => [k, f.path] as const);
  for (let i = 0; i < 20; i++) {
    const [name, path] = files[i % files.length]!;
    symlinkSync(path, join(dir, `${String(i).padStart(2, '0')}-${name}`));
  }
  const cpus = availableParallelism();
  const one = measure(bin, ['triage', '--jobs', '1', sysrq.vmlinux, dir], runs);
  const all = measure(bin, ['triage', '--jobs', String(cpus), sysrq.vmlinux, dir], runs);
  process.stdout.write(`${row(`triage, 20 dumps, ${cpus} workers`, all, one, '1 worker')}\n`);
  process.stdout.write(
    `speed-up with ${cpus} workers: x${(one.seconds / all.seconds).toFixed(2)} (linear: x${cpus})\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
