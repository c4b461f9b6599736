/**
 * Dumps of big machines: time and peak RSS against the machine's size, for tscrash (info, --dump-dmesg, a
 * session running bt and ps), makedumpfile --dump-dmesg and drgn (get_dmesg with the vmlinux), in one run.
 * Sizes: the sysrq sample (512 MiB of RAM), the 4 GiB `big` sample when it was built (npm run bench builds it;
 * this bench never does), and kdump files of 64 GiB, 1 TiB and 16 TiB machines made from the sysrq sample's
 * kdump file (bench/big-kdump.ts: its pages, bitmaps sized for the big machine, written sparse in /dev/shm).
 * Prints a table and writes bench/results/bigmem.svg (and .json).
 *   node dist/bench/bigmem.js [--runs 3] [--max-tib 16] [--no-makedumpfile] [--no-drgn] [--plot-only]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBigKdump } from './big-kdump.js';
import { loadSampleManifest, type Measured, measure } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const runs = Number(opt('--runs', '3'));
const maxTiB = Number(opt('--max-tib', '16'));
const GiB = 2 ** 30;

const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const resultsDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const scratch = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : '/tmp', 'tscrash-bigmem-'));

interface Case {
  label: string;
  /** The machine's RAM in bytes (max_mapnr × page size). */
  ram: number;
  file: string;
  vmlinux: string;
  /** Runs for this size (the slowest peers take a minute at 16 TiB: one run there). */
  runs: number;
}

const plotOnly = argv.includes('--plot-only');
const sysrq = loadSampleManifest('sysrq');
const small = sysrq.files['kdump-c-d31']!.path;
const cases: Case[] = plotOnly
  ? []
  : [{ label: 'sysrq sample', ram: 512 * 2 ** 20, file: small, vmlinux: sysrq.vmlinux, runs }];
try {
  if (plotOnly) throw new Error('no runs');
  const big = loadSampleManifest('big');
  const f = big.files['kdump-c-d31'];
  if (f) cases.push({ label: 'big sample', ram: 4 * GiB, file: f.path, vmlinux: big.vmlinux, runs });
} catch {
  // the 4 GiB sample is built by npm run bench only
}
for (const ram of [64 * GiB, 1024 * GiB, 16384 * GiB]) {
  if (plotOnly || ram > maxTiB * 1024 * GiB) continue;
  const file = join(scratch, `${ram / GiB}g.kdump`);
  writeBigKdump(small, file, { maxPfn: ram / 4096 });
  cases.push({
    label: `synthetic ${ram >= 1024 * GiB ? `${ram / 1024 / GiB} TiB` : `${ram / GiB} GiB`}`,
    ram,
    file,
    vmlinux: sysrq.vmlinux,
    runs: ram > 1024 * GiB ? 1 : runs,
  });
}

const drgnScript = join(scratch, 'dmesg.py');
writeFileSync(
  drgnScript,
  'import sys\nfrom drgn.helpers.linux.printk import get_dmesg\nsys.stdout.buffer.write(get_dmesg(prog))\n',
);
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const tools: { name: string; run: (c: Case, out: string) => string[] | undefined }[] = [
  { name: 'tscrash info', run: (c) => [bin, 'info', c.file] },
  { name: 'tscrash --dump-dmesg', run: (c, out) => ['sh', '-c', `rm -f ${out}; ${bin} --dump-dmesg ${c.file} ${out}`] },
  {
    name: 'tscrash session (bt, ps)',
    run: (c) => ['sh', '-c', `printf 'bt\\nps\\n' | ${bin} ${c.vmlinux} ${c.file} > /dev/null`],
  },
  {
    name: 'makedumpfile --dump-dmesg',
    run: (c, out) =>
      argv.includes('--no-makedumpfile') || !has('makedumpfile')
        ? undefined
        : ['sh', '-c', `rm -f ${out}; makedumpfile --dump-dmesg ${c.file} ${out} > /dev/null`],
  },
  {
    name: 'drgn get_dmesg',
    run: (c) =>
      argv.includes('--no-drgn') || !has('drgn')
        ? undefined
        : ['sh', '-c', `drgn -q -c ${c.file} -s ${c.vmlinux} ${drgnScript} > /dev/null`],
  },
];

interface Result {
  tool: string;
  case: string;
  ramBytes: number;
  fileBytes: number;
  diskBytes: number;
  m: Measured;
}
const results: Result[] = [];
for (const c of cases) {
  const st = statSync(c.file);
  for (const t of tools) {
    const cmd = t.run(c, join(scratch, 'out.txt'));
    if (!cmd) continue;
    try {
      const m = measure(cmd[0]!, cmd.slice(1), c.runs);
      results.push({ tool: t.name, case: c.label, ramBytes: c.ram, fileBytes: st.size, diskBytes: st.blocks * 512, m });
    } catch (e) {
      process.stderr.write(`${t.name} on ${c.label}: ${(e as Error).message.split('\n')[0]}\n`);
    }
  }
}
rmSync(scratch, { recursive: true, force: true });
if (plotOnly) {
  // Redraw the table and the plot from the last run's results.
  results.push(...(JSON.parse(readFileSync(join(resultsDir, 'bigmem.json'), 'utf8')) as { results: Result[] }).results);
  for (const r of results)
    if (!cases.some((c) => c.label === r.case))
      cases.push({ label: r.case, ram: r.ramBytes, file: '', vmlinux: '', runs });
}

// The table.
const size = (b: number): string =>
  b >= 2 ** 40 ? `${b / 2 ** 40} TiB` : b >= GiB ? `${+(b / GiB).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`;
const lines = [
  `bench bigmem (median wall and user+system CPU of ${runs} runs, 1 at 16 TiB; peak RSS)`,
  '',
  `| machine | file (on disk) | ${tools.map((t) => t.name).join(' | ')} |`,
  `| --- | --- | ${tools.map(() => '---').join(' | ')} |`,
];
for (const c of cases) {
  const r0 = results.find((r) => r.case === c.label);
  const cells = tools.map((t) => {
    const r = results.find((x) => x.case === c.label && x.tool === t.name);
    return r ? `${r.m.seconds.toFixed(2)} s (cpu ${r.m.cpuSeconds.toFixed(2)}), ${r.m.rssMiB.toFixed(0)} MiB` : '—';
  });
  const file = r0 ? `${size(r0.fileBytes)} (${size(r0.diskBytes)})` : '';
  lines.push(`| ${c.label}: ${size(c.ram)} | ${file} | ${cells.join(' | ')} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);

mkdirSync(resultsDir, { recursive: true });
if (!plotOnly)
  writeFileSync(
    join(resultsDir, 'bigmem.json'),
    `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
  );
writeFileSync(
  join(resultsDir, 'bigmem.svg'),
  plot(
    results,
    tools.map((t) => t.name),
  ),
);
process.stdout.write(`\nwrote ${join(resultsDir, 'bigmem.svg')}\n`);

/** Two log-log panels (time, RSS against the machine's RAM), one line per tool. */
function plot(rs: Result[], names: string[]): string {
  const colors = ['#1f77b4', '#2ca02c', '#9467bd', '#d62728', '#ff7f0e', '#8c564b'];
  const W = 400;
  const H = 300;
  const M = { l: 62, r: 26, t: 34, b: 46 };
  const xs = rs.map((r) => r.ramBytes);
  const x0 = Math.log2(Math.min(...xs));
  const x1 = Math.log2(Math.max(...xs));
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const panel = (ox: number, title: string, unit: string, value: (r: Result) => number): string => {
    const vs = rs.map(value).filter((v) => v > 0);
    const y0 = Math.floor(Math.log10(Math.min(...vs)));
    const y1 = Math.ceil(Math.log10(Math.max(...vs)));
    const px = (b: number): number => ox + M.l + ((Math.log2(b) - x0) / Math.max(1, x1 - x0)) * (W - M.l - M.r);
    const py = (v: number): number => M.t + (1 - (Math.log10(v) - y0) / Math.max(1, y1 - y0)) * (H - M.t - M.b);
    const out: string[] = [
      `<text x="${ox + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
      `<rect x="${ox + M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}" fill="none" stroke="#888"/>`,
    ];
    for (let e = y0; e <= y1; e++) {
      const y = py(10 ** e);
      out.push(
        `<line x1="${ox + M.l}" x2="${ox + W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
        `<text x="${ox + M.l - 6}" y="${y + 4}" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)} ${unit}</text>`,
      );
    }
    for (const b of [...new Set(xs)].sort((a, c) => a - c)) {
      const x = px(b);
      out.push(
        `<line x1="${x}" x2="${x}" y1="${M.t}" y2="${H - M.b}" stroke="#eee"/>`,
        `<text x="${x}" y="${H - M.b + 16}" text-anchor="middle">${esc(size(b))}</text>`,
      );
    }
    out.push(`<text x="${ox + W / 2}" y="${H - 10}" text-anchor="middle">RAM of the dumped machine</text>`);
    names.forEach((n, i) => {
      const pts = rs
        .filter((r) => r.tool === n)
        .sort((a, c) => a.ramBytes - c.ramBytes)
        .map((r) => `${px(r.ramBytes).toFixed(1)},${py(value(r)).toFixed(1)}`);
      if (!pts.length) return;
      out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colors[i]}" stroke-width="2"/>`);
      for (const p of pts) {
        const [x, y] = p.split(',');
        out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${colors[i]}"/>`);
      }
    });
    return out.join('\n');
  };
  const legend = names
    .filter((n) => rs.some((r) => r.tool === n))
    .map((n, i) => {
      const x = 20 + (i % 3) * 380;
      const y = H + 16 + Math.floor(i / 3) * 18;
      return `<rect x="${x}" y="${y - 9}" width="14" height="4" fill="${colors[names.indexOf(n)]}"/><text x="${x + 20}" y="${y - 4}">${esc(n)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * W}" height="${H + 56}" font-family="sans-serif" font-size="11">
<title>tscrash, makedumpfile and drgn: time and peak RSS against the dumped machine's RAM</title>
<rect width="100%" height="100%" fill="white"/>
${panel(0, 'wall time (median; the machine was shared)', 's', (r) => Math.max(0.01, r.m.seconds))}
${panel(W, 'user + system CPU time (median)', 's', (r) => Math.max(0.01, r.m.cpuSeconds))}
${panel(2 * W, 'peak RSS', 'MiB', (r) => r.m.rssMiB)}
${legend}
</svg>
`;
}
