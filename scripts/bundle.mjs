// The shipped JavaScript as one bundle per entry point (dist/bundle/), with the code they share in chunks beside
// them: a command loads a handful of files instead of a hundred modules (start-up time, issue 16). Every file is
// in the one directory, so `new URL('./x-worker.js', import.meta.url)` finds the workers from any chunk, and the
// package's entry (api.js) shares its chunks, and so its classes and command registry, with the command line.
// npm packages stay outside (they are loaded from node_modules as before).

import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
export const ENTRIES = [
  'cli/tscrash.ts',
  'cli/tsmakedumpfile.ts',
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
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ENTRIES,
  outdir,
  entryNames: '[name]',
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
