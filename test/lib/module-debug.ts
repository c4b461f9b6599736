/**
 * The debug objects (.ko with DWARF) of a sample's loaded modules, extracted once from the kernel's -dbg
 * package (which the samples builder downloaded) into the samples cache, in the package's own layout:
 * <samples>/<case>/debug-root/usr/lib/debug/lib/modules/RELEASE/kernel/...
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { inCI, type Manifest, oracleText, samplesDir } from './samples.js';

/** The directory standing for /usr/lib/debug, with the module objects under lib/modules/RELEASE. */
export function moduleDebugRoot(m: Manifest, t: TestContext): string | undefined {
  const dir = join(samplesDir(), m.case, 'debug-root');
  const root = join(dir, 'usr', 'lib', 'debug');
  const names = (JSON.parse(oracleText(m, 'drgn-modules')) as { name: string }[]).map((x) => x.name);
  const marker = join(dir, '.complete');
  // The sample builder extracts them (it gives them to drgn); older caches get them here.
  const list = [...names].sort().join('\n');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === list) return root;
  const debs = join(samplesDir(), 'debs');
  const deb = existsSync(debs)
    ? readdirSync(debs).find((f) => f.startsWith(`linux-image-${m.release}-dbg_`))
    : undefined;
  if (!deb) {
    const why = `no -dbg package for ${m.release} under ${debs}`;
    if (inCI()) throw new Error(why);
    t.skip(why);
    return undefined;
  }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const patterns = names.flatMap((n) => [
    `./usr/lib/debug/lib/modules/${m.release}/*/${n}.ko`,
    `./usr/lib/debug/lib/modules/${m.release}/*/${n.replace(/_/g, '-')}.ko`,
  ]);
  // tar exits 2 for the spellings that are not in the package; what it found is checked below.
  spawnSync(
    'sh',
    [
      '-c',
      'd="$1"; t="$2"; shift 2; dpkg-deb --fsys-tarfile "$d" | tar -x -C "$t" --wildcards "$@"',
      'sh',
      join(debs, deb),
      tmp,
      ...patterns,
    ],
    { stdio: 'ignore', timeout: 600_000 },
  );
  const found = new Set<string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else found.add(e.name.replace(/\.ko$/, '').replace(/-/g, '_'));
    }
  };
  walk(tmp);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new Error(`${deb} has no object for module(s) ${missing.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  writeFileSync(marker, list);
  return root;
}
