/**
 * Random access to the bytes of a dump file: a plain file read with positioned
 * reads, or a flattened (-F) stream seen through its record map. The format
 * readers read only through this interface, so every format also works
 * flattened.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  /** The file's name, for error messages. */
  readonly name: string;
  /** Size of the (reassembled) file image. */
  readonly size: number;
  /**
   * Read up to `length` bytes at `position` into `buf` at `offset`; returns the
   * number of bytes read (fewer only at the end of the image). Bytes of the image
   * that no record of a flattened stream wrote read as zeros.
   */
  read(buf: Uint8Array, offset: number, length: number, position: number): number;
  /** Where a flattened stream ended without its end marker (a cut transfer); the image is then incomplete. */
  readonly truncatedAt?: number;
  /** What the source found wrong in its own structure (a flattened stream's records), for the dump's warnings. */
  readonly warnings?: readonly string[];
  close(): void;
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number;

  constructor(readonly name: string) {
    this.fd = openSync(name, 'r');
    this.size = fstatSync(this.fd).size;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    if (position >= this.size || length <= 0) return 0;
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Read exactly `length` bytes or return the short count's buffer (caller checks). */
export function readAt(src: ByteSource, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  const n = src.read(buf, 0, length, position);
  return n === length ? buf : buf.subarray(0, n);
}
