/** Files tscrash writes: mode 0600, under a temporary name in the same directory, renamed when complete. */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
