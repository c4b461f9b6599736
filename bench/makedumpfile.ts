/**
 * tsmakedumpfile against makedumpfile 1.7.2 on the same ELF core (the sample
 * cases' `elf` file): -c -d 31, -l -d 31, -z -d 31, -d 31 and -c -d 0, plus
 * -c -d 31 --num-threads 2. Prints wall time (median of --runs), the time
 * ratio (ours / makedumpfile's), MiB/s of input memory and output sizes.
 *   node dist/bench/makedumpfile.js [--case sysrq | --elf PATH] [--runs 3] [--out-dir DIR] [--json]
 * makedumpfile rows whose compression it was built without (Debian's lacks
 * snappy and zstd) are reported as unsupported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface Row {
  args: string;
  ours: number;
  oursSize: number;
  theirs: number | undefined;
  theirsSize: number | undefined;
  note?: string;
}

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : def;
};
const caseName = opt('--case', 'sysrq');
const runs = Number(opt('--runs', '3'));
const json = argv.includes('--json');
// outputs go to tmpfs by default so that both tools are timed on their work, not on disk writeback
const outDir = opt('--out-dir', existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const elfArg = opt('--elf', '');

function sampleElf(): string {
  const root = process.env.TSCRASH_SAMPLES ?? join(homedir(), '.cache/tscrash/samples');
  const manifestPath = join(root, caseName, 'manifest.json');
  if (!existsSync(manifestPath)) {
    console.error(`no sample: ${manifestPath} (build the samples first: npm run samples, or give --elf PATH)`);
    process.exit(1);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Record<string, { path: string }> };
  const p = manifest.files.elf?.path;
  if (!p) {
    console.error(`${manifestPath}: no "elf" file`);
    process.exit(1);
  }
  return p;
}
const elf = elfArg || sampleElf();
const bin = fileURLToPath(new URL('../../bin/tsmakedumpfile', import.meta.url));
const work = mkdtempSync(join(outDir, 'bench-mkd-'));
const elfBytes = statSync(elf).size;

function timeOne(cmd: string, args: string[], out: string): { secs: number; size: number; ok: boolean; err: string } {
  rmSync(out, { force: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, [...args, elf!, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  const ok = r.status === 0 && existsSync(out);
  return {
    secs,
    size: ok ? statSync(out).size : 0,
    ok,
    err: r.stderr?.toString().trim().split('\n').slice(-2).join(' ') ?? '',
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const configs: { args: string[]; mdf: boolean }[] = [
  { args: ['-c', '-d', '31'], mdf: true },
  { args: ['-c', '-d', '31', '--num-threads', '2'], mdf: true },
  { args: ['-l', '-d', '31'], mdf: true },
  { args: ['-z', '-d', '31'], mdf: true },
  { args: ['-p', '-d', '31'], mdf: true },
  { args: ['-d', '31'], mdf: true },
  { args: ['-c', '-d', '0'], mdf: true },
];

const rows: Row[] = [];
try {
  for (const c of configs) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let oursSize = 0;
    let theirsSize: number | undefined;
    let note: string | undefined;
    for (let i = 0; i < runs; i++) {
      const a = timeOne(process.execPath, [bin, '--message-level', '0', ...c.args], join(work, 'ours'));
      if (!a.ok) throw new Error(`tsmakedumpfile ${c.args.join(' ')} failed: ${a.err}`);
      ours.push(a.secs);
      oursSize = a.size;
      if (c.mdf && note === undefined) {
        const b = timeOne('makedumpfile', ['--message-level', '0', ...c.args], join(work, 'theirs'));
        if (!b.ok) {
          note = `makedumpfile: ${b.err || 'failed'}`;
        } else {
          theirs.push(b.secs);
          theirsSize = b.size;
        }
      }
    }
    rows.push({
      args: c.args.join(' '),
      ours: median(ours),
      oursSize,
      theirs: theirs.length ? median(theirs) : undefined,
      theirsSize,
      note,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify({ elf, elfBytes, runs, outDir, rows }, null, 2));
} else {
  const mib = elfBytes / 1048576;
  console.log(
    `${elfArg || `case ${caseName}`}: ELF ${mib.toFixed(0)} MiB, median of ${runs} runs, outputs in ${outDir}`,
  );
  console.log(
    `${'options'.padEnd(30)} ${'ours s'.padStart(7)} ${'MiB/s'.padStart(7)} ${'mdf s'.padStart(7)} ${'MiB/s'.padStart(7)} ${'ratio'.padStart(6)} ${'our size'.padStart(11)} ${'mdf size'.padStart(11)}`,
  );
  for (const r of rows) {
    const ratio = r.theirs ? (r.ours / r.theirs).toFixed(2) : '-';
    console.log(
      `${r.args.padEnd(30)} ${r.ours.toFixed(3).padStart(7)} ${(mib / r.ours).toFixed(0).padStart(7)} ${(r.theirs?.toFixed(3) ?? '-').padStart(7)} ${(r.theirs ? (mib / r.theirs).toFixed(0) : '-').padStart(7)} ${ratio.padStart(6)} ${String(r.oursSize).padStart(11)} ${String(r.theirsSize ?? '-').padStart(11)}${r.note ? `  (${r.note})` : ''}`,
    );
  }
}
