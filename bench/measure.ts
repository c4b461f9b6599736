/** Timing and peak-RSS measurement of whole commands, for comparisons against the peers in one run. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  /** Median wall time in seconds. */
  seconds: number;
  /** Peak resident set size in MiB (largest over the runs). */
  rssMiB: number;
  /** Median user + system CPU time in seconds (what a loaded machine moves least). */
  cpuSeconds: number;
  runs: number;
}

/** Run a command `runs` times under /usr/bin/time; returns the median wall time and peak RSS. */
export function measure(cmd: string, args: string[], runs = 5, env?: NodeJS.ProcessEnv): Measured {
  const times: number[] = [];
  const cpu: number[] = [];
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...args], {
      encoding: 'latin1',
      maxBuffer: 1 << 30,
      env: env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(last);
    if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
    times.push(Number(m[1]));
    cpu.push(Number(m[3]) + Number(m[4]));
    rss = Math.max(rss, Number(m[2]) / 1024);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return {
    seconds: times[Math.floor(times.length / 2)]!,
    rssMiB: rss,
    cpuSeconds: cpu[Math.floor(cpu.length / 2)]!,
    runs,
  };
}

export interface SampleFiles {
  vmlinux: string;
  files: Record<string, { path: string; size: number }>;
}

export function loadSampleManifest(name: string): SampleFiles {
  const root = process.env.TSCRASH_SAMPLES ?? join(homedir(), '.cache/tscrash/samples');
  const p = join(root, name, 'manifest.json');
  if (!existsSync(p)) throw new Error(`sample ${name} missing: run npm run samples`);
  return JSON.parse(readFileSync(p, 'utf8')) as SampleFiles;
}

export function row(label: string, ours: Measured, theirs: Measured | undefined, peer: string): string {
  const ratio = theirs ? (ours.seconds / theirs.seconds).toFixed(2) : '-';
  const rss = theirs ? (ours.rssMiB / theirs.rssMiB).toFixed(2) : '-';
  return `${label.padEnd(34)} ours ${ours.seconds.toFixed(3)} s ${ours.rssMiB.toFixed(0).padStart(4)} MiB | ${peer} ${theirs ? `${theirs.seconds.toFixed(3)} s ${theirs.rssMiB.toFixed(0).padStart(4)} MiB` : 'n/a'} | time x${ratio} rss x${rss}`;
}
