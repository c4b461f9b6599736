/**
 * The sample cases' crash module (samples/module: tscrash_crash.c and its Kbuild), built out of tree against
 * Debian's headers of the guest's kernel and cached by release and source: CACHE/module/RELEASE-HASH/tscrash_crash.ko.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHeaders } from './debian.js';
import { log, run, StepError, sh, shq } from './run.js';

export const CRASH_MODULE = 'tscrash_crash';

const SOURCE_DIR = fileURLToPath(new URL('../../samples/module', import.meta.url));

function sourceFiles(): string[] {
  return readdirSync(SOURCE_DIR)
    .filter((f) => f === 'Kbuild' || f.endsWith('.c') || f.endsWith('.h'))
    .sort();
}

/** What names one build of the module: the release and a hash of the sources (a case made with another is stale). */
export function crashModuleId(release: string): string {
  const h = createHash('sha256');
  for (const f of sourceFiles()) h.update(`${f}\n`).update(readFileSync(join(SOURCE_DIR, f)));
  return `${release}-${h.digest('hex').slice(0, 12)}`;
}

/** The module's .ko for this kernel release (with its DWARF: drgn and `mod -s` read it), built when missing. */
export function crashModule(cache: string, release: string): string {
  const sources = sourceFiles();
  const dir = join(cache, 'module', crashModuleId(release));
  const ko = join(dir, `${CRASH_MODULE}.ko`);
  if (existsSync(join(dir, '.complete'))) return ko;
  const headers = ensureHeaders(release);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of sources) copyFileSync(join(SOURCE_DIR, f), join(dir, f));
  log(`building ${CRASH_MODULE}.ko against ${headers}`);
  // __FILE__ (BUG()'s "kernel BUG at FILE:LINE") names the source as in this repository, not the cache directory:
  // the message, and the crash's signature, are then the same whatever the cache's path.
  const out = sh(
    `make -C ${shq(headers)} M=${shq(dir)} KCFLAGS=${shq(`-fmacro-prefix-map=${dir}/=samples/module/`)} modules 2>&1`,
    {
      allowFail: true,
    },
  );
  if (!existsSync(ko)) {
    throw new StepError(
      `${CRASH_MODULE}.ko did not build against ${headers}\n${out.split('\n').slice(-15).join('\n')}`,
    );
  }
  const vermagic = run('modinfo', ['-F', 'vermagic', ko]).trim();
  if (!vermagic.startsWith(`${release} `))
    throw new StepError(`${CRASH_MODULE}.ko: vermagic ${vermagic}, not ${release}`);
  writeFileSync(join(dir, '.complete'), `${vermagic}\n`);
  return ko;
}
