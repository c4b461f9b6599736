/**
 * The crash-style session against crash 8.0.2 and drgn 0.0.22, in one run, on a real sample:
 *  - `whatis struct task_struct` with the vmlinux and the dump: tscrash cold (empty index cache: the targeted
 *    search), with the full index built at start (TSCRASH_INDEX=full, as a session builds it in the background)
 *    and warm (the index from the cache),
 *    drgn (prog.type), crash (whatis task_struct)   [issue 4]
 *  - `bt -a`, `ps`, `log`: tscrash -c ... vs crash doing the same vs drgn (stack traces of the active tasks,
 *    the task list, the kernel log)                 [issue 5]
 *   node dist/bench/session.js [--case sysrq] [--runs 3]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-bench-'));
const python = '/usr/bin/python3';

/** A drgn script in the scratch directory: the program opened on VMLINUX (argv 1) and VMCORE (argv 2), then `body`. */
const drgnScript = (name: string, imports: string, body: string): string => {
  const f = join(scratch, name);
  writeFileSync(
    f,
    `import sys, drgn\n${imports}prog = drgn.Program()\nprog.set_core_dump(sys.argv[2])\nprog.load_debug_info([sys.argv[1]])\n${body}`,
  );
  return f;
};
const drgnWhatis = drgnScript('whatis.py', '', `print(prog.type('struct task_struct').size)\n`);
const drgnSession = drgnScript(
  'session.py',
  `from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_printk_records
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu
`,
  `out = []
for cpu in for_each_online_cpu(prog):
    out.append(str(prog.stack_trace(per_cpu(prog['runqueues'], cpu).curr)))
for t in for_each_task(prog):
    out.append(f"{int(t.pid)} {int(t.real_parent.pid)} {t.comm.string_().decode()} {hex(t.value_())}")
for r in get_printk_records(prog):
    out.append(r.text.decode(errors='replace'))
sys.stdout.write('\\n'.join(out))
`,
);
const crashCmds = (cmds: string[]): string[] => {
  const f = join(scratch, `crash-${cmds.length}.txt`);
  writeFileSync(f, `${cmds.join('\n')}\nq\n`);
  return ['-s', m.vmlinux, core, '-i', f];
};

const lines: string[] = [`bench session on sample ${caseName} (${runs} runs each, median wall, peak RSS)`];
try {
  const cold = join(scratch, 'cache-cold');
  /** Median wall and highest RSS of `runs` runs, each with an empty index cache. */
  const fromEmpty = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof measure> => {
    const rs: ReturnType<typeof measure>[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(cold, { recursive: true, force: true });
      rs.push(measure(bin, args, 1, { ...process.env, ...env, TSCRASH_CACHE: cold }));
    }
    rs.sort((a, b) => a.seconds - b.seconds);
    return { ...rs[Math.floor(rs.length / 2)]!, rssMiB: Math.max(...rs.map((r) => r.rssMiB)) };
  };
  const whatis = [m.vmlinux, core, '-c', 'whatis struct task_struct'];
  // Cold: no cached index, the lookup answered by the targeted search (name-search.ts).
  const ourCold = fromEmpty(whatis);
  const coldSession = fromEmpty([m.vmlinux, core, '-c', 'bt -a', '-c', 'ps', '-c', 'log']);
  // The full index built at start (what an interactive session builds in the background), saved to the cache.
  const ourFull = fromEmpty(whatis, { TSCRASH_INDEX: 'full' });
  const ourWarm = measure(bin, whatis, runs, { ...process.env, TSCRASH_CACHE: cold });
  const drgn = measure(python, [drgnWhatis, m.vmlinux, core], runs);
  const crash = measure('crash', crashCmds(['whatis task_struct']), runs);
  lines.push(row('whatis task_struct, no index cache', ourCold, drgn, 'drgn'));
  lines.push(row('whatis task_struct, full index built', ourFull, drgn, 'drgn'));
  lines.push(row('whatis task_struct, warm index', ourWarm, drgn, 'drgn'));
  lines.push(row('whatis task_struct, warm index', ourWarm, crash, 'crash'));

  const ours = measure(bin, [m.vmlinux, core, '-c', 'bt -a', '-c', 'ps', '-c', 'log'], runs, {
    ...process.env,
    TSCRASH_CACHE: cold,
  });
  const crashS = measure('crash', crashCmds(['bt -a', 'ps', 'log']), runs);
  const drgnS = measure(python, [drgnSession, m.vmlinux, core], runs);
  lines.push(row('bt -a, ps, log (warm index)', ours, crashS, 'crash'));
  lines.push(row('bt -a, ps, log (warm index)', ours, drgnS, 'drgn'));
  lines.push(row('bt -a, ps, log (no index cache)', coldSession, drgnS, 'drgn'));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
