/**
 * LZO1X compressor (the LZO1X-1 strategy: one hash probe per position, greedy
 * matches, skip acceleration over incompressible runs). The output is a
 * standard LZO1X stream: any LZO1X decompressor (liblzo2's
 * lzo1x_decompress_safe, the kernel's, makedumpfile's readers, crash) reads it.
 *
 * Instruction encoding produced (facts of the LZO1X format):
 *   first literal run:  byte 17+n (n <= 238), or the generic run below
 *   literal run (>= 4): 0000LLLL, L = n-3 (1..15); L = 0: zero bytes of 255, then n-18-255*zeros
 *   M2 (len 3..8, dist 1..2048):    LLLDDDSS DDDDDDDD      L = len-1
 *   M3 (len >= 3, dist 1..16384):   001LLLLL [ext] DDDDDDSS DDDDDDDD  (D = dist-1)
 *   M4 (len >= 3, dist 16385..49151): 0001HLLL [ext] DDDDDDSS DDDDDDDD  (dist = 16384 + H<<14 + D)
 *   SS = number of literals (0..3) that follow the match; 4+ literals use a literal run.
 *   end of stream: 0x11 0x00 0x00.
 */

const HASH_BITS = 14;
const HASH_SIZE = 1 << HASH_BITS;
const MIN_MATCH = 4;
const M2_MAX_LEN = 8;
const M2_MAX_OFFSET = 0x0800;
const M3_MAX_OFFSET = 0x4000;
const M4_MAX_OFFSET = 0xbfff;

/** Worst-case size of the LZO1X output for `n` input bytes. */
export function lzo1xBound(n: number): number {
  return n + Math.floor(n / 16) + 64 + 3;
}

/**
 * A reusable LZO1X-1 compressor. Keeps its hash table between calls (entries
 * from earlier calls are recognized as stale by a generation base), so
 * compressing many pages allocates nothing.
 */
export class Lzo1xCompressor {
  private readonly table = new Int32Array(HASH_SIZE);
  private base = 1;
  private view: DataView | undefined;
  private viewOf: Uint8Array | undefined;

  /**
   * Compress `src[srcOff, srcOff+srcLen)` into `dst` at `dstOff`; returns the
   * number of bytes written. `dst` must have room for lzo1xBound(srcLen).
   */
  compressInto(src: Uint8Array, srcOff: number, srcLen: number, dst: Uint8Array, dstOff: number): number {
    if (dst.length - dstOff < lzo1xBound(srcLen)) {
      throw new RangeError(`lzo1x: output buffer too small (${dst.length - dstOff} < ${lzo1xBound(srcLen)})`);
    }
    if (this.base > 0x7fffffff - srcLen - 2) {
      this.table.fill(0);
      this.base = 1;
    }
    const table = this.table;
    if (this.viewOf !== src) {
      this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
      this.viewOf = src;
    }
    const dv = this.view!;
    const base = this.base - srcOff; // table value = base + absolute src index
    this.base += srcLen + 1;

    const end = srcOff + srcLen;
    let op = dstOff;
    let anchor = srcOff;
    let first = true;
    let ip = srcOff;
    const limit = end - MIN_MATCH; // last position where a 4-byte read fits

    while (ip <= limit) {
      const seq = dv.getInt32(ip, true);
      const h = Math.imul(seq, 0x1824429d) >>> (32 - HASH_BITS);
      const cand = table[h]! - base;
      table[h] = base + ip;
      const dist = ip - cand;
      if (cand >= srcOff && dist > 0 && dist <= M4_MAX_OFFSET && dv.getInt32(cand, true) === seq) {
        let len = MIN_MATCH;
        while (ip + len + 4 <= end && dv.getInt32(cand + len, true) === dv.getInt32(ip + len, true)) len += 4;
        while (ip + len < end && src[cand + len] === src[ip + len]) len++;
        // literals before the match (inline: this is the hot path)
        const nlit = ip - anchor;
        if (nlit > 0) {
          if (nlit <= 3 && !first) {
            dst[op - 2]! |= nlit;
          } else if (first && nlit <= 238) {
            dst[op++] = 17 + nlit;
          } else if (nlit <= 18) {
            dst[op++] = nlit - 3;
          } else {
            dst[op++] = 0;
            op = emitExtension(dst, op, nlit - 18);
          }
          if (nlit <= 32) {
            for (let i = 0; i < nlit; i++) dst[op + i] = src[anchor + i]!;
          } else {
            dst.set(src.subarray(anchor, ip), op);
          }
          op += nlit;
        }
        first = false;
        if (len <= M2_MAX_LEN && dist <= M2_MAX_OFFSET) {
          const d = dist - 1;
          dst[op++] = ((len - 1) << 5) | ((d & 7) << 2);
          dst[op++] = d >>> 3;
        } else {
          op = emitMatch(dst, op, dist, len);
        }
        ip += len;
        anchor = ip;
        // seed the table with the position just before the next probe
        if (ip - 1 <= limit) {
          table[Math.imul(dv.getInt32(ip - 1, true), 0x1824429d) >>> (32 - HASH_BITS)] = base + ip - 1;
        }
      } else {
        ip += 1 + ((ip - anchor) >> 5);
      }
    }
    op = this.emitLiterals(src, anchor, end - anchor, dst, op, first);
    dst[op++] = 0x11;
    dst[op++] = 0;
    dst[op++] = 0;
    return op - dstOff;
  }

  /** Compress into a new, exactly sized array. */
  compress(src: Uint8Array): Uint8Array {
    const out = new Uint8Array(lzo1xBound(src.length));
    const n = this.compressInto(src, 0, src.length, out, 0);
    return out.slice(0, n);
  }

  private emitLiterals(src: Uint8Array, from: number, n: number, dst: Uint8Array, op: number, first: boolean): number {
    if (n === 0) return op;
    if (first && n <= 238) {
      dst[op++] = 17 + n;
    } else if (!first && n <= 3) {
      // the previous match instruction carries up to 3 trailing literals
      dst[op - 2]! |= n;
    } else if (n <= 18) {
      dst[op++] = n - 3;
    } else {
      dst[op++] = 0;
      op = emitExtension(dst, op, n - 18);
    }
    if (n <= 32) {
      for (let i = 0; i < n; i++) dst[op + i] = src[from + i]!;
    } else {
      dst.set(src.subarray(from, from + n), op);
    }
    return op + n;
  }
}

/** Length extension: `rem` >= 1 as runs of zero bytes (255 each) and a final non-zero byte. */
function emitExtension(dst: Uint8Array, op: number, rem: number): number {
  while (rem > 255) {
    dst[op++] = 0;
    rem -= 255;
  }
  dst[op++] = rem;
  return op;
}

function emitMatch(dst: Uint8Array, op: number, dist: number, len: number): number {
  if (len <= M2_MAX_LEN && dist <= M2_MAX_OFFSET) {
    const d = dist - 1;
    dst[op++] = ((len - 1) << 5) | ((d & 7) << 2);
    dst[op++] = d >>> 3;
    return op;
  }
  let d: number;
  if (dist <= M3_MAX_OFFSET) {
    d = dist - 1;
    if (len - 2 <= 31) {
      dst[op++] = 32 | (len - 2);
    } else {
      dst[op++] = 32;
      op = emitExtension(dst, op, len - 2 - 31);
    }
  } else {
    const dd = dist - 0x4000;
    const hi = (dd >>> 11) & 8;
    d = dd & 0x3fff;
    if (len - 2 <= 7) {
      dst[op++] = 16 | hi | (len - 2);
    } else {
      dst[op++] = 16 | hi;
      op = emitExtension(dst, op, len - 2 - 7);
    }
  }
  dst[op++] = (d << 2) & 0xff;
  dst[op++] = d >>> 6;
  return op;
}
