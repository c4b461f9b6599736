/**
 * Plugins: ES modules (.js, .mjs, or .ts / .mts with no build step of their own) whose default export is a
 * function called with the public API (plugins/api.ts). TypeScript is compiled by esbuild (an optional peer
 * dependency: installed with tscrash's development tree, else `npm install -g esbuild`; the plugin and its
 * relative imports bundled into one module, kept in ~/.cache/tscrash/plugins and reused while its sources are
 * unchanged: a warm start loads it as fast as a .js plugin). Found through `--plugin FILE`, TSCRASH_PLUGINS (paths,
 * colon-separated), every module in $XDG_CONFIG_HOME/tscrash/plugins (default ~/.config/tscrash/plugins), and npm
 * packages named tscrash-plugin-* (or with a `tscrash.plugin` entry in their package.json) in the node_modules
 * directories from the working directory up. TSCRASH_DISABLE_PLUGINS (names, comma- or colon-separated, or `*`)
 * turns them off. A plugin that throws while loading is reported in one line and skipped (what it registered is
 * taken back); the session goes on.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type LoadedPlugin, recordPlugin, unregisterPlugin, withOrigin } from '../commands/registry.js';
import { writeFilePrivate } from '../core/private-file.js';

/** A plugin found, not yet loaded: plain data (it goes to the session's worker in its workerData). */
export interface PluginSpec {
  name: string;
  file: string;
  source: LoadedPlugin['source'];
  /** Turned off by TSCRASH_DISABLE_PLUGINS. */
  disabled?: boolean;
}

export const PLUGIN_EXTENSIONS = ['.js', '.mjs', '.ts', '.mts'];

function isModule(f: string): boolean {
  return PLUGIN_EXTENSIONS.includes(extname(f)) && !f.endsWith('.d.ts') && !f.endsWith('.d.mts');
}

function fileName(file: string): string {
  return basename(file, extname(file));
}

/** The config directory's plugins: $XDG_CONFIG_HOME/tscrash/plugins, else ~/.config/tscrash/plugins. */
export function configPluginDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'tscrash', 'plugins');
}

/** The module an npm package's plugin is: its `tscrash.plugin` entry, else its main, else index.js. */
function packagePlugin(dir: string, byName: boolean): PluginSpec | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'package.json'), 'utf8');
  } catch {
    return undefined;
  }
  // Most packages say nothing of tscrash: skip parsing them.
  if (!byName && !text.includes('"tscrash"')) return undefined;
  let pkg: { name?: string; main?: string; tscrash?: { plugin?: string } };
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch {
    return undefined;
  }
  const entry = typeof pkg.tscrash?.plugin === 'string' ? pkg.tscrash.plugin : byName ? (pkg.main ?? 'index.js') : '';
  if (!entry) return undefined;
  return { name: pkg.name ?? basename(dir), file: resolve(dir, entry), source: 'npm' };
}

/** The npm packages that are plugins, in the node_modules directories from `cwd` up to the root. */
export function npmPlugins(cwd: string): PluginSpec[] {
  const out: PluginSpec[] = [];
  const seen = new Set<string>();
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const nm = join(dir, 'node_modules');
    let names: string[] = [];
    try {
      names = readdirSync(nm);
    } catch {
      names = [];
    }
    for (const n of names.sort()) {
      if (n.startsWith('.')) continue;
      const dirs = n.startsWith('@')
        ? (() => {
            try {
              return readdirSync(join(nm, n)).map((s) => [`${n}/${s}`, join(nm, n, s)] as const);
            } catch {
              return [];
            }
          })()
        : [[n, join(nm, n)] as const];
      for (const [pkgName, pkgDir] of dirs) {
        if (seen.has(pkgName)) continue; // the nearest node_modules wins, as Node resolves
        const p = packagePlugin(pkgDir, /^(@[^/]+\/)?tscrash-plugin-/.test(pkgName));
        if (p) {
          seen.add(pkgName);
          out.push(p);
        }
      }
    }
    if (dirname(dir) === dir) break;
  }
  return out;
}

/** The plugins that come with tscrash (plugins/*.ts), which `--plugin NAME` names without a path. */
export const SHIPPED_PLUGINS = ['files', 'irq', 'lockup'];

/** A --plugin or TSCRASH_PLUGINS entry: a shipped plugin's name, else a path from `cwd`. */
function pluginFile(f: string, cwd: string): string {
  if (SHIPPED_PLUGINS.includes(f)) {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    return fileURLToPath(new URL(`./${f}${ext}`, import.meta.url));
  }
  return resolve(cwd, f);
}

/** Every plugin to load, in order: --plugin files, TSCRASH_PLUGINS, the config directory, npm packages. */
export function discoverPlugins(
  flags: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): PluginSpec[] {
  const found: PluginSpec[] = [];
  for (const f of flags) found.push({ name: fileName(f), file: pluginFile(f, cwd), source: 'flag' });
  for (const f of (env.TSCRASH_PLUGINS ?? '').split(':').filter(Boolean))
    found.push({ name: fileName(f), file: pluginFile(f, cwd), source: 'env' });
  const dir = configPluginDir(env);
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter(isModule).sort();
  } catch {
    entries = [];
  }
  for (const f of entries) found.push({ name: fileName(f), file: join(dir, f), source: 'config' });
  found.push(...npmPlugins(cwd));
  const off = (env.TSCRASH_DISABLE_PLUGINS ?? '').split(/[,:]/).map((s) => s.trim());
  const all = off.includes('*');
  // The same file found twice is loaded once (the first way it was found).
  const files = new Set<string>();
  const out: PluginSpec[] = [];
  for (const p of found) {
    let real = p.file;
    try {
      real = realpathSync(p.file);
    } catch {
      // a missing file: loading it says so
    }
    if (files.has(real)) continue;
    files.add(real);
    out.push(all || off.includes(p.name) || off.includes(basename(p.file)) ? { ...p, disabled: true } : p);
  }
  return out;
}

/**
 * Where compiled TypeScript plugins are kept: TSCRASH_PLUGIN_CACHE, else $TSCRASH_CACHE/plugins, else
 * ~/.cache/tscrash/plugins.
 */
export function pluginCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSCRASH_PLUGIN_CACHE) return env.TSCRASH_PLUGIN_CACHE;
  return env.TSCRASH_CACHE ? join(env.TSCRASH_CACHE, 'plugins') : join(homedir(), '.cache', 'tscrash', 'plugins');
}

function writePrivate(path: string, text: string): void {
  writeFilePrivate(path, Buffer.from(text, 'utf8'));
}

/** The sources a compiled plugin was built from, with what their stat said then. */
interface CompiledInputs {
  file: string;
  inputs: [path: string, mtimeMs: number, size: number][];
}

function unchanged(c: CompiledInputs): boolean {
  try {
    return c.inputs.every(([p, m, n]) => {
      const st = statSync(p);
      return st.mtimeMs === m && st.size === n;
    });
  } catch {
    return false;
  }
}

/**
 * A TypeScript plugin as one ES module: compiled by esbuild with its relative imports and the npm packages it
 * imports bundled in (`tscrash` itself stays out: a plugin gets the API as its default export's argument, and
 * `import type` from 'tscrash' is erased), kept in the cache while its sources are unchanged.
 */
export async function compileTs(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const real = realpathSync(file);
  const dir = pluginCacheDir(env);
  const key = createHash('sha256').update(real).digest('hex').slice(0, 32);
  const out = join(dir, `${basename(real, extname(real))}-${key}.mjs`);
  const meta = `${out}.json`;
  try {
    const c = JSON.parse(readFileSync(meta, 'utf8')) as CompiledInputs;
    if (c.file === real && existsSync(out) && unchanged(c)) return out;
  } catch {
    // not compiled yet, or the record is unreadable: compile
  }
  // esbuild is an optional peer dependency (it doubles the installed size): without it, TypeScript cannot load.
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('TypeScript needs esbuild, which is not installed (npm install -g esbuild), or give it as .js');
  }
  let r: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    r = await esbuild.build({
      entryPoints: [real],
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['tscrash'],
      write: false,
      metafile: true,
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  } catch (e) {
    const first = (e as { errors?: { text: string; location?: { file: string; line: number; column: number } }[] })
      .errors?.[0];
    if (first) {
      const at = first.location ? ` at ${first.location.file}:${first.location.line}:${first.location.column + 1}` : '';
      throw new Error(`TypeScript: ${first.text}${at}`);
    }
    throw e;
  }
  const text = r.outputFiles?.[0]?.text ?? '';
  const cwd = process.cwd();
  const inputs = Object.keys(r.metafile?.inputs ?? {}).map((p): [string, number, number] => {
    const abs = resolve(cwd, p);
    const st = statSync(abs);
    return [abs, st.mtimeMs, st.size];
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writePrivate(out, text);
  writePrivate(meta, `${JSON.stringify({ file: real, inputs } satisfies CompiledInputs)}\n`);
  return out;
}

/** Import a plugin's module (TypeScript compiled first, see compileTs). */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) throw new Error('no such file');
  if (statSync(file).isDirectory()) throw new Error('is a directory, not a module');
  const ts = extname(file) === '.ts' || extname(file) === '.mts';
  const path = ts ? await compileTs(file) : file;
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

/** A module's default export, unwrapping the `default.default` a CommonJS-compiled module gives. */
export function defaultExport(mod: Record<string, unknown>): unknown {
  let d = mod.default;
  if (d && typeof d === 'object' && 'default' in d) d = (d as { default: unknown }).default;
  return d;
}

/**
 * Load the plugins, in order: each module's default export is called with the public API, its commands
 * registered as the plugin's. `report` gets one line for each plugin that failed (file and message).
 */
export async function loadPlugins(specs: PluginSpec[], report: (line: string) => void): Promise<LoadedPlugin[]> {
  if (specs.length === 0) return [];
  const api = await import('./api.js');
  (await import('../commands/index.js')).registerBuiltins();
  const out: LoadedPlugin[] = [];
  for (const s of specs) {
    const rec: LoadedPlugin = { name: s.name, file: s.file, source: s.source, commands: [], status: 'loaded' };
    if (s.disabled) rec.status = 'disabled';
    else {
      try {
        const fn = defaultExport(await importModule(s.file));
        if (typeof fn !== 'function')
          throw new Error('its default export is not a function (export default (tscrash) => ...)');
        await withOrigin({ kind: 'plugin', plugin: s.name, file: s.file }, () =>
          (fn as (a: typeof api) => unknown)(api),
        );
      } catch (e) {
        unregisterPlugin(s.file);
        rec.status = 'failed';
        rec.error = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
        report(`plugin ${s.file}: ${rec.error} (skipped)`);
      }
    }
    recordPlugin(rec);
    out.push(rec);
  }
  return out;
}
