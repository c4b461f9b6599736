/**
 * A batch of consecutive dumpable pages, compressed the way makedumpfile's
 * write_kdump_pages_cyclic() does page by page: zero pages (for -d bit 1) are
 * recognised, every other page is compressed and kept compressed only when
 * that is smaller than the page. The same code runs in the main thread and in
 * the compression workers.
 */
import { type Compression, makeCompressor, outBound, type PageCompressor } from './page-compress.js';

export interface BatchResult {
  /** Per page: stored size, or 0 for a zero page (uses the shared zero page). */
  sizes: Int32Array;
  /** Per page: page_desc flags. */
  flags: Int32Array;
  /** Concatenated stored bytes of the non-zero pages, in order (from the `outOff` given to run()). */
  data: Uint8Array;
  dataLen: number;
}

const ZERO = Buffer.alloc(65536);

/** All bytes zero? (native compare against a zero block, no view made: fast, and exits at the first difference) */
export function isZeroPage(buf: Uint8Array, off: number, len: number): boolean {
  if (len <= ZERO.length) return ZERO.compare(buf, off, off + len, 0, len) === 0;
  for (let i = off; i < off + len; i++) if (buf[i] !== 0) return false;
  return true;
}

export class BatchCompressor {
  private readonly comp: PageCompressor | undefined;
  private readonly tmp: Uint8Array;

  constructor(
    readonly compression: Compression,
    readonly pageSize: number,
  ) {
    this.comp = makeCompressor(compression);
    this.tmp = new Uint8Array(outBound(pageSize));
  }

  /**
   * Process `count` pages from `pages` (pageSize each). `excludeZero`: -d bit 1.
   * The stored bytes go to `out` at `outOff` (a new array when not given;
   * `out` needs count * pageSize bytes of room).
   */
  run(pages: Uint8Array, count: number, excludeZero: boolean, out?: Uint8Array, outOff = 0): BatchResult {
    const ps = this.pageSize;
    const sizes = new Int32Array(count);
    const flags = new Int32Array(count);
    const data = out && out.length - outOff >= count * ps ? out : new Uint8Array(count * ps);
    if (data !== out) outOff = 0;
    let dl = outOff;
    const tmp = this.tmp;
    const bound = tmp.length;
    const comp = this.comp;
    for (let i = 0; i < count; i++) {
      const off = i * ps;
      if (excludeZero && isZeroPage(pages, off, ps)) {
        sizes[i] = 0;
        continue;
      }
      let n = -1;
      if (comp) {
        // straight into place when the room after it holds the worst case (always, in the writer's own buffer)
        if (data.length - dl >= bound) n = comp.compress(pages, off, ps, data, dl);
        else {
          n = comp.compress(pages, off, ps, tmp, 0);
          if (n > 0 && n < ps) data.set(tmp.subarray(0, n), dl);
        }
      }
      if (n > 0 && n < ps) {
        sizes[i] = n;
        flags[i] = comp!.flag;
        dl += n;
      } else {
        data.set(pages.subarray(off, off + ps), dl);
        sizes[i] = ps;
        dl += ps;
      }
    }
    return { sizes, flags, data, dataLen: dl - outOff };
  }
}
