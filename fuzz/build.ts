/**
 * The fuzz targets bundled for Jazzer.js: it instruments CommonJS modules as they are required (its require hook),
 * and tsx's ESM loader would run our TypeScript past it; so each target (fuzz/targets/NAME.ts) is bundled by esbuild
 * with everything of ours it imports into one CommonJS file, dist/fuzz/targets/NAME.cjs, which the hook
 * instruments whole. npm packages stay outside (required from node_modules, not instrumented).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGET_DIR = join(ROOT, 'fuzz', 'targets');
/** Where a campaign keeps its files (bundles, seeds, corpus, findings): TSCRASH_FUZZ_ROOT, else dist/fuzz. */
export const FUZZ_ROOT = process.env.TSCRASH_FUZZ_ROOT ?? join(ROOT, 'dist', 'fuzz');
export const OUT_DIR = join(FUZZ_ROOT, 'targets');

/** The targets' names (fuzz/targets/*.ts). */
export function targetNames(): string[] {
  return readdirSync(TARGET_DIR)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** Bundle the targets; returns each one's .cjs path. */
export function buildTargets(names = targetNames()): Map<string, string> {
  buildSync({
    entryPoints: names.map((n) => join(TARGET_DIR, `${n}.ts`)),
    outdir: OUT_DIR,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'error',
    // The modules that find their workers from import.meta.url: a CommonJS file's own URL.
    define: { 'import.meta.url': '__tscrashFuzzUrl' },
    banner: { js: "const __tscrashFuzzUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  return new Map(names.map((n) => [n, join(OUT_DIR, `${n}.cjs`)]));
}
