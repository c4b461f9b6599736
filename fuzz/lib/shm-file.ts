/** The readers that open a path (ElfFile) are given the input through one scratch file, rewritten each run. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

/** Write `bytes` to this process's scratch file (on /dev/shm when there is one) and return its path. */
export function scratchFile(name: string, bytes: Uint8Array): string {
  if (!dir) {
    const d = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tscrash-fuzz-'));
    dir = d;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  const p = join(dir, name);
  writeFileSync(p, bytes, { mode: 0o600 });
  return p;
}
