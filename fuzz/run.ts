/**
 * `npm run fuzz`: a coverage-guided campaign over every target (fuzz/targets/) with Jazzer.js (libFuzzer).
 *
 *   node --import tsx fuzz/run.ts [--runs N] [--time SECONDS] [--targets a,b] [--out FILE] [--jobs N]
 *
 * Each target runs in its own process (nice 19) for N executions (default 1,000,000) or SECONDS, with libFuzzer's
 * -timeout=10 (an input running over 10 s is a hang) and -rss_limit_mb=1024 (over 1 GiB is a blow-up); the
 * target itself fails on an error that is not one of the project's, and on a differential mismatch (fuzz/lib).
 * Its corpus grows in dist/fuzz/corpus/TARGET (kept between campaigns), seeded from dist/fuzz/seeds/TARGET
 * (fuzz/seeds.ts, rewritten from the samples each campaign); an input that fails is kept in dist/fuzz/findings/.
 * The counts (executions, escapes, hangs, blow-ups, corpus, coverage) go to fuzz/results/latest.json (or --out)
 * and are printed as a table.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilePrivate } from '../core/private-file.js';
import { loadableAddon } from './addon.js';
import { buildTargets, FUZZ_ROOT, ROOT, targetNames } from './build.js';
import { seedRoot, seedSource, writeSeeds } from './seeds.js';

export interface TargetResult {
  target: string;
  /** Executions libFuzzer reported (its last "#N" line, or "Done N runs"). */
  executions: number;
  seconds: number;
  /** Inputs that made a non-project error escape, or broke an invariant the target checks. */
  escapes: number;
  /** Inputs that ran over the time limit. */
  hangs: number;
  /** Inputs that took the process over the RSS limit. */
  blowups: number;
  /** Corpus files after the run, and its size in bytes. */
  corpus: number;
  corpusBytes: number;
  /** libFuzzer's coverage counters at the end: edges (cov) and features (ft). */
  cov: number;
  ft: number;
  seeds: number;
  /** The first lines of what failed, and the saved input. */
  finding?: string;
  artifact?: string;
  exitCode: number | null;
}

export interface CampaignOptions {
  runs?: number;
  seconds?: number;
  targets?: string[];
  /** Concurrent targets (default 1: the machine is shared). */
  jobs?: number;
  nice?: boolean;
  /** Called with each line of libFuzzer's output. */
  onLine?: (target: string, line: string) => void;
}

const MAX_LEN: Record<string, number> = {
  bitmap: 140_000,
  cmdline: 512,
  expr: 512,
};

function dirStats(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  try {
    for (const f of readdirSync(dir)) {
      files++;
      bytes += statSync(join(dir, f)).size;
    }
  } catch {
    // no corpus yet
  }
  return { files, bytes };
}

/** Run one target under libFuzzer; resolves with its counts. */
export function fuzzTarget(
  target: string,
  bundle: string,
  addon: string,
  opts: CampaignOptions & { vmcore?: string },
): Promise<TargetResult> {
  const fuzzRoot = FUZZ_ROOT;
  const corpus = join(fuzzRoot, 'corpus', target);
  const findings = join(fuzzRoot, 'findings', target);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const seeds = join(seedRoot(), target);
  const seedCount = dirStats(seeds).files;
  const libfuzzer = [
    `-timeout=10`,
    `-rss_limit_mb=1024`,
    `-artifact_prefix=${findings}/`,
    `-print_final_stats=1`,
    `-max_len=${MAX_LEN[target] ?? 128 * 1024}`,
    `-len_control=0`,
  ];
  if (opts.runs !== undefined) libfuzzer.push(`-runs=${opts.runs}`);
  if (opts.seconds !== undefined) libfuzzer.push(`-max_total_time=${opts.seconds}`);
  const jazzer = [
    '--require',
    join(ROOT, 'fuzz', 'preload.cjs'),
    '--enable-source-maps',
    '--max-old-space-size=768',
    join(ROOT, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    bundle,
    corpus,
    seeds,
    // Instrument the bundle (our code); the npm packages it requires are left alone.
    '--includes',
    bundle,
    // Only the project's errors are expected: the target rethrows anything else, and Jazzer reports it.
    '--disableBugDetectors',
    '.*',
    '--sync',
    '--',
    ...libfuzzer,
  ];
  const cmd = opts.nice === false ? process.execPath : 'nice';
  const args = opts.nice === false ? jazzer : ['-n', '19', process.execPath, ...jazzer];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: fuzzRoot,
      env: {
        ...process.env,
        TSCRASH_FUZZ_ADDON: addon,
        // The bundles require npm packages: found from the project's node_modules wherever the bundles are.
        NODE_PATH: join(ROOT, 'node_modules'),
        TSCRASH_FUZZ_SEEDS: seedRoot(),
        ...(opts.vmcore ? { TSCRASH_FUZZ_VMCORE: opts.vmcore } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let executions = 0;
    let cov = 0;
    let ft = 0;
    let kind: 'escape' | 'hang' | 'blowup' | undefined;
    const failLines: string[] = [];
    let artifact: string | undefined;
    let collecting = false;
    let rest = '';
    const onData = (chunk: Buffer): void => {
      rest += chunk.toString('latin1');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        opts.onLine?.(target, line);
        const m = /^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)/.exec(line);
        if (m) {
          executions = Number(m[1]);
          cov = Number(m[2]);
          ft = Number(m[3]);
        }
        const done = /^Done (\d+) runs/.exec(line);
        if (done) executions = Math.max(executions, Number(done[1]));
        const stat = /^stat::number_of_executed_units: (\d+)/.exec(line);
        if (stat) executions = Math.max(executions, Number(stat[1]));
        if (/ALARM: working on the last Unit for|==\d+== ERROR: libFuzzer: timeout/.test(line)) kind ??= 'hang';
        else if (/out-of-memory \(used: |ERROR: libFuzzer: out-of-memory|malloc\(\d+\) exceeds/.test(line))
          kind ??= 'blowup';
        else if (/==\d+== Uncaught Exception|ERROR: libFuzzer: deadly signal|==\d+== (Error|Crash)/.test(line)) {
          kind ??= 'escape';
          collecting = true;
        }
        if (collecting && failLines.length < 12) failLines.push(line);
        const a = /Test unit written to (\S+)/.exec(line);
        if (a) artifact = a[1];
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      const c = dirStats(corpus);
      resolve({
        target,
        executions,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        escapes: kind === 'escape' ? 1 : 0,
        hangs: kind === 'hang' ? 1 : 0,
        blowups: kind === 'blowup' ? 1 : 0,
        corpus: c.files,
        corpusBytes: c.bytes,
        cov,
        ft,
        seeds: seedCount,
        finding: kind ? failLines.join('\n') || `libFuzzer exited ${code}` : code !== 0 ? `exit ${code}` : undefined,
        artifact,
        exitCode: code,
      });
    });
  });
}

/** Build, seed and run the campaign; returns each target's counts. */
export async function campaign(opts: CampaignOptions): Promise<TargetResult[]> {
  const names = opts.targets?.length ? opts.targets : targetNames();
  const bundles = buildTargets(names);
  const addon = loadableAddon(ROOT);
  const src = seedSource();
  writeSeeds(src);
  const vmcore = src?.files['kdump-c-d31'];
  const queue = [...names];
  const out: TargetResult[] = [];
  const jobs = Math.max(1, opts.jobs ?? 1);
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
        if (t === 'expr' && !vmcore) continue; // needs the real sample's dump
        out.push(await fuzzTarget(t, bundles.get(t)!, addon, { ...opts, vmcore }));
      }
    }),
  );
  return out.sort((a, b) => a.target.localeCompare(b.target));
}

export function table(results: TargetResult[]): string {
  const head = ['target', 'executions', 'seconds', 'exec/s', 'escapes', 'hangs', 'blow-ups', 'corpus', 'cov', 'ft'];
  const rows = results.map((r) => [
    r.target,
    r.executions.toLocaleString('en-US'),
    String(r.seconds),
    String(Math.round(r.executions / Math.max(r.seconds, 0.1))),
    String(r.escapes),
    String(r.hangs),
    String(r.blowups),
    String(r.corpus),
    String(r.cov),
    String(r.ft),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const opts: CampaignOptions = {};
  let out = join(ROOT, 'fuzz', 'results', 'latest.json');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--runs') opts.runs = Number(v());
    else if (a === '--time') opts.seconds = Number(v());
    else if (a === '--targets') opts.targets = v().split(',');
    else if (a === '--jobs') opts.jobs = Number(v());
    else if (a === '--out') out = v();
    else if (a === '--verbose') opts.onLine = (t, l) => process.stderr.write(`${t}: ${l}\n`);
    else throw new Error(`unknown option ${a} (--runs N, --time SECONDS, --targets a,b, --jobs N, --out FILE)`);
  }
  if (opts.runs === undefined && opts.seconds === undefined) opts.runs = 1_000_000;
  const started = new Date().toISOString();
  const results = await campaign(opts);
  const failed = results.filter((r) => r.escapes || r.hangs || r.blowups || r.exitCode !== 0);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFilePrivate(
    out,
    Buffer.from(
      `${JSON.stringify({ started, finished: new Date().toISOString(), runs: opts.runs, seconds: opts.seconds, results }, null, 2)}\n`,
    ),
  );
  process.stdout.write(`${table(results)}\n\nwritten to ${out}\n`);
  for (const f of failed)
    process.stdout.write(`\n${f.target}: ${f.finding ?? `exit ${f.exitCode}`}\n${f.artifact ?? ''}\n`);
  return failed.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`fuzz: ${e.message}\n`);
      process.exit(2);
    },
  );
}
