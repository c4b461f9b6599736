/**
 * `ps` with no vmlinux (types from the dump's BTF) against drgn 0.0.22 listing the tasks with the vmlinux's
 * DWARF, on a real sample: median wall and peak RSS of each [issue 17].
 *   node dist/bench/btf.js [--case sysrq] [--runs 3]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest, measure, row } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const caseName = opt('--case', 'sysrq');
const runs = Number(opt('--runs', '3'));
const m = loadSampleManifest(caseName);
const core = m.files['kdump-c-d31']!.path;
const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-bench-btf-'));
const drgnPs = join(scratch, 'ps.py');
writeFileSync(
  drgnPs,
  `import sys, drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_cpu, task_state_to_char
prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
out = []
for t in for_each_task(prog):
    out.append(f"{int(t.pid)} {int(t.real_parent.pid)} {task_cpu(t)} {hex(t.value_())} {task_state_to_char(t)} {t.comm.string_().decode()}")
sys.stdout.write('\\n'.join(out))
`,
);
// No vmlinux to be found: TSCRASH_DEBUG_ROOT names an empty directory.
const empty = join(scratch, 'no-debug');
mkdirSync(empty);
const lines: string[] = [`bench btf on sample ${caseName} (${runs} runs each, median wall, peak RSS)`];
try {
  // BTF only: nor a vmlinux from debuginfod (a login shell's DEBUGINFOD_URLS would fetch one).
  const { DEBUGINFOD_URLS: _urls, ...env } = process.env;
  const ours = measure(bin, [core, '-c', 'ps'], runs, { ...env, TSCRASH_DEBUG_ROOT: empty });
  const drgn = measure('/usr/bin/python3', [drgnPs, m.vmlinux, core], runs);
  lines.push(row('ps: BTF (ours) vs DWARF (drgn)', ours, drgn, 'drgn'));
  // User + system CPU: what a loaded machine moves least.
  lines.push(
    `  cpu: ours ${ours.cpuSeconds.toFixed(2)} s | drgn ${drgn.cpuSeconds.toFixed(2)} s | x${(ours.cpuSeconds / drgn.cpuSeconds).toFixed(2)}`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
