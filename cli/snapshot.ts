/**
 * The V8 start-up snapshot of bin/tscrash and bin/tsmakedumpfile (start-up time, issue 16). `node --build-snapshot`
 * runs this file (dist/bundle/snapshot.cjs, every module of ours bundled in it and evaluated) and saves the heap;
 * `node --snapshot-blob BLOB -- ARGS` then starts from that heap, with no module to read, parse or link, and runs
 * the function below. bin/tscrash (a shell script) builds the blob in the background the first time, in the user's
 * cache, for the node binary in use, and uses it when it is newer than both the node binary and the bundle.
 *
 * Nothing here or in a module's top level may read the environment, the terminal or the time: the snapshot is made
 * once and run many times. What depends on where the package is (import.meta.url, the require of npm packages, the
 * import() of plugins) is given by the launcher at run time: TSCRASH_BUNDLE, the dist/bundle directory.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startupSnapshot } from 'node:v8';
import { compileFunction, constants } from 'node:vm';
import { start } from './tscrash.js';
import { startMakedumpfile } from './tsmakedumpfile.js';

declare global {
  /** In the snapshot: what import.meta.url is in the bundle (dist/bundle/tscrash.js's URL). */
  var __tscrashUrl: string | undefined;
  /** In the snapshot: require of npm packages, from the package's own node_modules. */
  var __tscrashRequire: NodeJS.Require | undefined;
  /** In the snapshot: import() of a module outside the bundle (a plugin, esbuild). */
  var __tscrashImport: ((specifier: string) => Promise<Record<string, unknown>>) | undefined;
}

function run(): void {
  const dir = process.env.TSCRASH_BUNDLE;
  const entry = process.env.TSCRASH_ENTRY;
  delete process.env.TSCRASH_BUNDLE;
  delete process.env.TSCRASH_ENTRY;
  if (!dir) {
    process.stderr.write('tscrash: the start-up snapshot needs TSCRASH_BUNDLE (run bin/tscrash, not the blob)\n');
    process.exitCode = 1;
    return;
  }
  const main = join(dir, 'tscrash.js');
  globalThis.__tscrashUrl = pathToFileURL(main).href;
  const require = createRequire(main);
  globalThis.__tscrashRequire = require;
  let importer: ((u: string) => Promise<Record<string, unknown>>) | undefined;
  globalThis.__tscrashImport = (specifier) => {
    if (!importer) {
      // A function compiled now gets the main context's module loader (code from the snapshot has none). Node 20
      // calls that experimental and says so once: not for the user to see.
      const emit = process.emitWarning;
      process.emitWarning = ((w: string | Error, ...rest: unknown[]) => {
        if (!String(typeof w === 'string' ? w : w.message).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER'))
          (emit as (...a: unknown[]) => void).call(process, w, ...rest);
      }) as typeof process.emitWarning;
      importer = compileFunction('return import(u)', ['u'], {
        importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      }) as (u: string) => Promise<Record<string, unknown>>;
    }
    const url = /^(file|node|data):/.test(specifier) ? specifier : pathToFileURL(require.resolve(specifier)).href;
    return importer(url);
  };
  const argv = process.argv.slice(1);
  // The rest of node's argv as a script's would be: [node, script, ...args].
  process.argv.splice(1, 0, main);
  if (entry === 'tsmakedumpfile') startMakedumpfile(argv);
  else start(argv);
}

startupSnapshot.setDeserializeMainFunction(run);
