/** Files tscrash writes: mode 0600, under a temporary name in the same directory, renamed when complete. */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { strerror } from './errors.js';

/** Write a file the way every tscrash output is written: mode 0600, temp name, rename. */
export function writeFilePrivate(path: string, data: Uint8Array): void {
  const tmp = join(dirname(path), `.${path.split('/').pop()}.tscrash-${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/**
 * makedumpfile's check_dump_file(): an existing output is refused without `force`, and with it when it cannot be
 * written. Returns makedumpfile's reason ("Can't open the dump file (PATH). File exists"), or undefined when the
 * path may be written.
 */
export function checkDumpFile(path: string, force: boolean): string | undefined {
  try {
    accessSync(path, constants.F_OK);
  } catch {
    // No such file: nothing to overwrite. A dangling symbolic link is not nothing: writing would follow it.
    try {
      if (lstatSync(path).isSymbolicLink())
        return `Can't open the dump file (${path}). File exists (a dangling symbolic link)`;
    } catch {}
    return undefined;
  }
  let why = 'File exists';
  if (force) {
    try {
      accessSync(path, constants.W_OK);
      return undefined;
    } catch (e) {
      why = strerror((e as NodeJS.ErrnoException).code);
    }
  }
  return `Can't open the dump file (${path}). ${why}`;
}
