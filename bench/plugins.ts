/**
 * Start-up with plugins: `tscrash VMLINUX VMCORE -c sys` on the sysrq sample, median wall time of interleaved runs,
 * with no plugin (and, when given, another build's start-up: --base DIST/cli/tscrash.js), a JavaScript plugin, the
 * same plugin in TypeScript (compiled once, then from the cache) and in TypeScript compiled every time (an empty
 * cache each run). `node dist/bench/plugins.js [--runs N] [--base PATH]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSampleManifest } from './measure.js';

const PLUGIN_TS = `import type * as T from 'tscrash';
export default (tscrash: typeof T): void => {
  tscrash.registerCommand<{ n: number }>({
    name: 'ntasks', summary: 'count the tasks', help: 'ntasks\\n',
    run(ctx): { n: number } { let n = 0; for (const _ of tscrash.helpers.forEachTask(ctx.program)) n++; return { n }; },
    text(r, ctx): void { ctx.out(\`\${r.n}\\n\`); },
  });
};
`;
const PLUGIN_JS = `export default (tscrash) => {
  tscrash.registerCommand({
    name: 'ntasks', summary: 'count the tasks', help: 'ntasks\\n',
    run(ctx) { let n = 0; for (const _ of tscrash.helpers.forEachTask(ctx.program)) n++; return { n }; },
    text(r, ctx) { ctx.out(\`\${r.n}\\n\`); },
  });
};
`;

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] || 0) || 15;
const base = argv.includes('--base') ? argv[argv.indexOf('--base') + 1] : undefined;
const s = loadSampleManifest('sysrq');
const bin = new URL('../cli/tscrash.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tscrash-bench-plugins-'));
try {
  const ts = join(dir, 'ntasks.ts');
  const js = join(dir, 'ntasks.mjs');
  writeFileSync(ts, PLUGIN_TS);
  writeFileSync(js, PLUGIN_JS);
  const warm = join(dir, 'warm');
  const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'none'), TSCRASH_PLUGIN_CACHE: warm };
  const args = [s.vmlinux, s.files['kdump-c-d31']!.path, '-c', 'sys'];
  const cases: [string, string, string[], () => NodeJS.ProcessEnv][] = [
    ['no plugin', bin, args, () => env],
    ['a .js plugin', bin, [...args, '--plugin', js], () => env],
    ['a .ts plugin, cached', bin, [...args, '--plugin', ts], () => env],
    [
      'a .ts plugin, compiled',
      bin,
      [...args, '--plugin', ts],
      () => {
        rmSync(join(dir, 'cold'), { recursive: true, force: true });
        return { ...env, TSCRASH_PLUGIN_CACHE: join(dir, 'cold') };
      },
    ],
  ];
  if (base) cases.unshift(['no plugin, base build', base, args, () => env]);
  const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  // One run of each to warm the caches (page cache, DWARF index, the compiled plugin), then interleaved runs.
  for (const [, b, a, e] of cases) spawnSync(process.execPath, [b, ...a], { env: e(), stdio: 'ignore' });
  for (let i = 0; i < runs; i++) {
    for (const [name, b, a, e] of cases) {
      const environment = e();
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [b, ...a], { env: environment, encoding: 'latin1' });
      const ms = performance.now() - t0;
      if (r.status !== 0 || r.stderr) throw new Error(`${name}: ${r.status} ${r.stderr}`);
      times.get(name)!.push(ms);
    }
  }
  const median = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
  const none = median(times.get('no plugin')!);
  for (const [name] of cases) {
    const m = median(times.get(name)!);
    process.stdout.write(
      `${name.padEnd(26)} ${m.toFixed(1).padStart(7)} ms  ${name === 'no plugin' ? '' : `${m - none >= 0 ? '+' : ''}${(m - none).toFixed(1)} ms`}\n`,
    );
  }
  process.stdout.write(`(median of ${runs} interleaved runs each)\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
