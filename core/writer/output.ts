/**
 * Where a dump is written: a regular file (created 0600 under a temporary name
 * in the target directory, renamed when finished; nothing is overwritten
 * without `force`), or a flattened stream (makedumpfile -F: records of
 * {offset, size} big-endian i64 + payload after a 4096-byte header) on a file
 * descriptor such as stdout.
 */
import { closeSync, lstatSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The output device is full. */
export class NoSpaceError extends Error {
  override name = 'NoSpaceError';
}

/** Any other write failure. */
export class OutputError extends Error {
  override name = 'OutputError';
}

export interface OutputSink {
  readonly name: string;
  readonly flattened: boolean;
  /** Positioned write; throws NoSpaceError on ENOSPC, OutputError otherwise. */
  write(offset: number, data: Uint8Array): void;
  /** Bytes written so far (payload only). */
  readonly bytesWritten: number;
  /** Complete the output (rename into place / end marker). */
  finish(): void;
  /** Give up: remove the temporary file (file sinks) and close. */
  abort(): void;
}

function wrapWriteError(e: unknown, name: string): never {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 'EFBIG') {
    throw new NoSpaceError(`Can't write the dump file(${name}). ${err.message}`, { cause: e });
  }
  throw new OutputError(`Can't write the dump file(${name}). ${err.message}`, { cause: e });
}

function writeAll(fd: number, data: Uint8Array, position: number | null, name: string): void {
  let done = 0;
  while (done < data.length) {
    let n: number;
    try {
      n = writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      wrapWriteError(e, name);
    }
    if (n <= 0) throw new NoSpaceError(`Can't write the dump file(${name}). short write`);
    done += n;
  }
}

/** Temporary files being written: removed if the process is interrupted. */
const openTemps = new Set<string>();
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const f of openTemps) {
        try {
          unlinkSync(f);
        } catch {}
      }
      process.kill(process.pid, sig);
    });
  }
}

/** Whether anything is at `path`: a file, a directory, or a symlink (dangling or not: it is not followed). */
export function pathExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove the temporary files earlier runs left for this output name (`.NAME.tmp-PID`) when their process is gone:
 * a run killed with SIGKILL cannot remove its own. A live process's file is left alone.
 */
export function removeStaleTemps(name: string): void {
  const dir = dirname(name);
  const prefix = `.${basename(name)}.tmp-`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (!e.startsWith(prefix)) continue;
    const pid = Number(e.slice(prefix.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    try {
      const st = lstatSync(join(dir, e));
      if (st.isFile() && st.uid === process.getuid?.()) unlinkSync(join(dir, e));
    } catch {}
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class FileSink implements OutputSink {
  readonly flattened = false;
  bytesWritten = 0;
  readonly tmpPath: string;
  private fd: number;
  private closed = false;

  constructor(
    readonly name: string,
    force: boolean,
  ) {
    if (!force && pathExists(name)) {
      throw new OutputError(`Can't open the dump file (${name}). File exists`);
    }
    removeStaleTemps(name);
    this.tmpPath = join(dirname(name), `.${basename(name)}.tmp-${process.pid}`);
    try {
      this.fd = openSync(this.tmpPath, 'wx', 0o600);
    } catch (e) {
      throw new OutputError(`Can't open the dump file(${name}). ${(e as Error).message}`, { cause: e });
    }
    hookSignals();
    openTemps.add(this.tmpPath);
  }

  write(offset: number, data: Uint8Array): void {
    writeAll(this.fd, data, offset, this.name);
    this.bytesWritten += data.length;
  }

  finish(): void {
    if (this.closed) return;
    // like makedumpfile, no fsync: kdump syncs before rebooting, and the rename
    // already guarantees that the final name never shows a partial file
    closeSync(this.fd);
    this.closed = true;
    renameSync(this.tmpPath, this.name);
    openTemps.delete(this.tmpPath);
  }

  abort(): void {
    if (!this.closed) {
      try {
        closeSync(this.fd);
      } catch {}
      this.closed = true;
    }
    try {
      unlinkSync(this.tmpPath);
    } catch {}
    openTemps.delete(this.tmpPath);
  }
}

export const FLAT_HEADER_SIZE = 4096;
export const FLAT_SIGNATURE = 'makedumpfile';

export class FlatSink implements OutputSink {
  readonly flattened = true;
  bytesWritten = 0;
  private readonly hdr = new Uint8Array(16);
  private readonly hv = new DataView(this.hdr.buffer);
  private done = false;

  constructor(
    readonly fd: number,
    readonly name = 'stdout',
  ) {
    const h = new Uint8Array(FLAT_HEADER_SIZE);
    h.set(Buffer.from(FLAT_SIGNATURE, 'latin1'));
    const dv = new DataView(h.buffer);
    dv.setBigInt64(16, 1n, false); // type
    dv.setBigInt64(24, 1n, false); // version
    writeAll(this.fd, h, null, this.name);
  }

  write(offset: number, data: Uint8Array): void {
    if (data.length === 0) return;
    this.hv.setBigInt64(0, BigInt(offset), false);
    this.hv.setBigInt64(8, BigInt(data.length), false);
    writeAll(this.fd, this.hdr, null, this.name);
    writeAll(this.fd, data, null, this.name);
    this.bytesWritten += data.length;
  }

  finish(): void {
    if (this.done) return;
    this.hv.setBigInt64(0, -1n, false);
    this.hv.setBigInt64(8, -1n, false);
    writeAll(this.fd, this.hdr, null, this.name);
    this.done = true;
  }

  abort(): void {
    this.done = true;
  }
}
