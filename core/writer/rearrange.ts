/**
 * makedumpfile -R: turn a flattened stream (read from a file descriptor,
 * normally stdin) into the dump file it describes. Records {offset i64 BE,
 * size i64 BE, payload} are applied in order (later records overwrite earlier
 * ones); the stream ends with offset = size = -1.
 */
import { readSync } from 'node:fs';
import { FLAT_HEADER_SIZE, FLAT_SIGNATURE, type OutputSink } from './output.js';

export class FlatFormatError extends Error {
  override name = 'FlatFormatError';
}

const CHUNK = 1 << 20;

/** Read exactly `len` bytes (or fewer at EOF) from fd. */
function readFully(fd: number, buf: Uint8Array, len: number): number {
  let got = 0;
  while (got < len) {
    let n: number;
    try {
      n = readSync(fd, buf, got, len - got, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) break;
    got += n;
  }
  return got;
}

export function rearrange(fd: number, sink: OutputSink, name = 'stdin'): { records: number; bytes: number } {
  const head = new Uint8Array(FLAT_HEADER_SIZE);
  if (readFully(fd, head, FLAT_HEADER_SIZE) !== FLAT_HEADER_SIZE) {
    throw new FlatFormatError(
      `${name}: Can't get header of flattened format (stream shorter than ${FLAT_HEADER_SIZE} bytes).`,
    );
  }
  const sig = Buffer.from(head.subarray(0, 16)).toString('latin1').replace(/\0.*$/s, '');
  if (sig !== FLAT_SIGNATURE)
    throw new FlatFormatError(`${name}: Can't get signature of flattened format (found "${sig}").`);
  const hv = new DataView(head.buffer);
  const type = hv.getBigInt64(16, false);
  if (type !== 1n) throw new FlatFormatError(`${name}: Can't get type of flattened format (type ${type}, expected 1).`);
  const rec = new Uint8Array(16);
  const rv = new DataView(rec.buffer);
  const buf = new Uint8Array(CHUNK);
  let pos = FLAT_HEADER_SIZE;
  let records = 0;
  let bytes = 0;
  for (;;) {
    if (readFully(fd, rec, 16) !== 16) {
      throw new FlatFormatError(
        `${name}: offset 0x${pos.toString(16)}: stream ends without the end marker (truncated flattened dump).`,
      );
    }
    const off = rv.getBigInt64(0, false);
    const size = rv.getBigInt64(8, false);
    if (off === -1n && size === -1n) break;
    if (off < 0n || size <= 0n || off > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FlatFormatError(
        `${name}: offset 0x${pos.toString(16)}: invalid data header (offset ${off}, size ${size}).`,
      );
    }
    pos += 16;
    let left = Number(size);
    let at = Number(off);
    while (left > 0) {
      const n = Math.min(left, CHUNK);
      const got = readFully(fd, buf, n);
      if (got !== n) {
        throw new FlatFormatError(
          `${name}: offset 0x${(pos + got).toString(16)}: stream ends inside a record (${left - got} bytes missing).`,
        );
      }
      sink.write(at, buf.subarray(0, n));
      at += n;
      left -= n;
      pos += n;
      bytes += n;
    }
    records++;
  }
  return { records, bytes };
}
