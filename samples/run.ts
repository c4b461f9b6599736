/** Small process helpers for the sample builder. */
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export function log(msg: string): void {
  process.stderr.write(`samples: ${msg}\n`);
}

export class StepError extends Error {}

/** Run a command; throw StepError with its stderr tail when it fails. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions & { allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.error) throw new StepError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    const err = String(r.stderr ?? '')
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new StepError(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}\n${err}`);
  }
  return String(r.stdout ?? '');
}

/** Run a shell pipeline. */
export function sh(script: string, opts: SpawnSyncOptions & { allowFail?: boolean } = {}): string {
  return run('sh', ['-c', script], opts);
}

export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Single-quote a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
