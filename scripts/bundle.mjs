// The shipped JavaScript as one bundle per entry point (dist/bundle/), with the code they share in chunks beside
// them: a command loads a handful of files instead of a hundred modules (start-up time, issue 16). Every file is
// in the one directory, so `new URL('./x-worker.js', import.meta.url)` finds the workers from any chunk, and the
// package's entry (api.js) shares its chunks, and so its classes and command registry, with the command line.
// npm packages stay outside (they are loaded from node_modules as before).

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
export const ENTRIES = [
  'cli/tscrash-main.ts',
  'cli/tsmakedumpfile-main.ts',
  'cli/session-worker.ts',
  'cli/triage-worker.ts',
  'symbols/dwarf/name-worker.ts',
  'core/writer/compress-worker.ts',
  'core/compress/decode-worker.ts',
  'plugins/api.ts',
  'plugins/files.ts',
  'plugins/irq.ts',
  'plugins/lockup.ts',
];
/** The bundle's file for an entry: its name, but bin's two entries keep the commands' names. */
const outName = (e) =>
  e
    .replace(/^.*\//, '')
    .replace(/\.ts$/, '')
    .replace(/-main$/, '');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ENTRIES.map((e) => ({ in: e, out: outName(e) })),
  outdir,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Class and function names stay as written: error kinds and results show them.
  keepNames: true,
  logLevel: 'warning',
});

// The start-up snapshot's script (cli/snapshot.ts): every module of ours in one CommonJS file, since a snapshot is
// made from one script. npm packages stay outside, required at run time from the package's node_modules
// (globalThis.__tscrashRequire: a snapshot's own require has only node's built-in modules); import.meta.url is the
// bundle's tscrash.js, given at run time.
const snapshot = join(outdir, 'snapshot.cjs');
await build({
  absWorkingDir: root,
  entryPoints: ['cli/snapshot.ts'],
  outfile: snapshot,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  keepNames: true,
  define: { 'import.meta.url': 'globalThis.__tscrashUrl' },
  // node:worker_threads, node:module and node:vm keep state made at their loading that a snapshot does not carry
  // (a worker started from one fails in process.cwd()): they load when first used, after the snapshot starts.
  banner: {
    js: 'var __lazyBuiltin = (id) => { let m; const get = () => (m ??= require(id)); return new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get() }); };',
  },
  logLevel: 'warning',
});
const text = readFileSync(snapshot, 'utf8');
// A snapshot's code has no import(): node's modules are required, the rest must go through __tscrashImport.
const fixed = text
  .replace(/\brequire\("(?!node:)([^"]+)"\)/g, 'globalThis.__tscrashRequire("$1")')
  .replace(/\bimport\("(node:[^"]+)"\)/g, 'Promise.resolve(require("$1"))')
  .replace(/\brequire\("(node:(?:worker_threads|module|vm))"\)/g, '__lazyBuiltin("$1")');
const stray = fixed
  .split('\n')
  .filter((l) => /[^\w.]import\(/.test(l) && !/`import\('tsx|import\(u\)|viaSnapshot \?/.test(l));
if (stray.length) throw new Error(`snapshot.cjs: import() that a snapshot cannot run:\n${stray.join('\n')}`);
writeFileSync(snapshot, fixed);
