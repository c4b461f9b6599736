/**
 * The cold full DWARF index of a sample's vmlinux against drgn 0.0.22 indexing the same file, in one run
 * [issue 19]: `tscrash index VMLINUX` with an empty cache (the default threads, one below 4 CPUs, and two:
 * the calling thread and a worker) and drgn loading the vmlinux's debug info and looking a type up (which waits for its index), runs
 * interleaved so that the machine's load falls on each alike. Prints median wall, median CPU (user + system)
 * and peak RSS of each, the ratios against drgn and the targets (time at most 3x drgn's, RSS at most drgn's),
 * the load average before and after, and the row for README.
 *   node dist/bench/index.js [--case sysrq] [--runs 5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest, type Measured, measure } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const caseName = opt('--case', 'sysrq');
const runs = Number(opt('--runs', '5'));
const m = loadSampleManifest(caseName);
const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-bench-index-'));
const python = '/usr/bin/python3';
const drgnIndex = join(scratch, 'index.py');
// drgn indexes every unit of the file it loads (in parallel threads) before its first lookup answers.
writeFileSync(
  drgnIndex,
  `import sys, drgn
prog = drgn.Program()
prog.load_debug_info([sys.argv[1]])
print(prog.type('struct task_struct').size)
`,
);

/** The median wall and CPU, and the highest RSS, of single runs. */
function summary(rs: Measured[]): Measured {
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    seconds: mid(rs.map((r) => r.seconds)),
    cpuSeconds: mid(rs.map((r) => r.cpuSeconds)),
    rssMiB: Math.max(...rs.map((r) => r.rssMiB)),
    runs: rs.length,
  };
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const lines: string[] = [
  `bench index on sample ${caseName}'s vmlinux (${runs} runs each, interleaved; median wall and CPU, peak RSS; ${availableParallelism()} CPUs)`,
  `load average before: ${load()}`,
];
try {
  const cache = join(scratch, 'cache');
  const ours = (threads: string | undefined): Measured => {
    rmSync(cache, { recursive: true, force: true });
    const env: NodeJS.ProcessEnv = { ...process.env, TSCRASH_CACHE: cache };
    if (threads) env.TSCRASH_INDEX_WORKERS = threads;
    else delete env.TSCRASH_INDEX_WORKERS;
    return measure(bin, ['index', m.vmlinux], 1, env);
  };
  const all: Measured[] = [];
  const two: Measured[] = [];
  const drgn: Measured[] = [];
  for (let i = 0; i < runs; i++) {
    all.push(ours(undefined));
    two.push(ours('2'));
    drgn.push(measure(python, [drgnIndex, m.vmlinux], 1));
  }
  const d = summary(drgn);
  const fmt = (label: string, r: Measured): string => {
    const t = r.seconds / d.seconds;
    const rss = r.rssMiB / d.rssMiB;
    return `${label.padEnd(32)} ${r.seconds.toFixed(3)} s wall  ${r.cpuSeconds.toFixed(2)} s CPU  ${r.rssMiB.toFixed(0).padStart(4)} MiB | time x${t.toFixed(2)} (target 3: ${t <= 3 ? 'met' : 'not met'})  rss x${rss.toFixed(2)} (target 1: ${rss <= 1 ? 'met' : 'not met'})`;
  };
  const a = summary(all);
  const o = summary(two);
  lines.push(fmt('tscrash index (default threads)', a));
  lines.push(fmt('tscrash index (two threads)', o));
  lines.push(
    `${'drgn load_debug_info + type'.padEnd(32)} ${d.seconds.toFixed(3)} s wall  ${d.cpuSeconds.toFixed(2)} s CPU  ${d.rssMiB.toFixed(0).padStart(4)} MiB`,
  );
  lines.push(`load average after: ${load()}`);
  lines.push(
    `README: | full DWARF index, cold | ${a.seconds.toFixed(2)} s / ${a.rssMiB.toFixed(0)} MiB (two threads ${o.seconds.toFixed(2)} s / ${o.rssMiB.toFixed(0)} MiB) | ${d.seconds.toFixed(2)} s / ${d.rssMiB.toFixed(0)} MiB | x${(a.seconds / d.seconds).toFixed(2)} / x${(a.rssMiB / d.rssMiB).toFixed(2)} |`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
