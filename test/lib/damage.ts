/**
 * Damaged copies of real sample files (issue 18's hostile inputs): a prefix of a file (a cut), with bytes
 * changed, in a temporary directory the test process removes at exit.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | undefined;

/** The directory damaged copies are written to (made once per process, removed at exit). */
export function damageDir(): string {
  if (!dir) {
    const d = mkdtempSync(join(tmpdir(), 'tscrash-damaged-'));
    dir = d;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

/** A copy of the first `length` bytes of `src` (all of it by default), with `patch` applied at the given offsets. */
export function damagedCopy(src: string, name: string, length?: number, patch: [number, number[]][] = []): string {
  const out = join(damageDir(), name);
  const i = openSync(src, 'r');
  const o = openSync(out, 'w', 0o600);
  try {
    const buf = Buffer.alloc(8 << 20);
    let pos = 0;
    for (;;) {
      const want = length === undefined ? buf.length : Math.min(buf.length, length - pos);
      if (want <= 0) break;
      const n = readSync(i, buf, 0, want, pos);
      if (n === 0) break;
      writeSync(o, buf, 0, n, pos);
      pos += n;
    }
    for (const [at, bytes] of patch) writeSync(o, Buffer.from(bytes), 0, bytes.length, at);
  } finally {
    closeSync(i);
    closeSync(o);
  }
  return out;
}
