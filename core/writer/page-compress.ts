/**
 * Per-page compressors for kdump-compressed output, the way makedumpfile
 * compresses: zlib compress2 level 1 (Z_BEST_SPEED), LZO1X-1, snappy, zstd
 * ZSTD_compressCCtx level 1. A page is stored compressed only when that is
 * smaller than the page. Each compressor is reusable (no per-page setup).
 */
import { createRequire } from 'node:module';
import { newLzoCompressor } from '../compress/lzo.js';
import { lzo1xBound } from '../compress/lzo-compress.js';
import { newZstdCompressor, type ZstdPageCompressor } from '../compress/zstd.js';

export type Compression = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd';

import { type ZlibHandle, zlibHandle } from '../compress/zlib-handle.js';
import {
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
} from '../formats/kdump-flags.js';

export function compressionFlag(c: Compression): number {
  switch (c) {
    case 'zlib':
      return DUMP_DH_COMPRESSED_ZLIB;
    case 'lzo':
      return DUMP_DH_COMPRESSED_LZO;
    case 'snappy':
      return DUMP_DH_COMPRESSED_SNAPPY;
    case 'zstd':
      return DUMP_DH_COMPRESSED_ZSTD;
    default:
      return 0;
  }
}

export interface PageCompressor {
  readonly flag: number;
  /**
   * Compress src[off, off+len) into `out` at `outOff` (with at least outBound(len) bytes of room there).
   * Returns the compressed size, or -1 when compression failed.
   */
  compress(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): number;
}

export function outBound(len: number): number {
  // zlib compressBound, lzo bound, snappy 32+n+n/6, zstd bound: all below this
  return len + (len >> 3) + 1024;
}

const require = createRequire(import.meta.url);

/** node:zlib, loaded for -c alone (its module costs start-up time and memory the other compressions do not need). */
const zlib = (): typeof import('node:zlib') => require('node:zlib') as typeof import('node:zlib');
const Z_FINISH = 4;
const Z_BEST_SPEED = 1;

class ZlibCompressor implements PageCompressor {
  readonly flag = DUMP_DH_COMPRESSED_ZLIB;
  private handle: ZlibHandle | undefined;
  private state: Uint32Array | undefined;

  constructor() {
    // A persistent deflate handle avoids deflateInit per page (node's deflateSync
    // allocates a new zlib stream per call). Falls back to deflateSync.
    try {
      const got = zlibHandle(zlib().createDeflate({ level: Z_BEST_SPEED }));
      if (got) {
        this.handle = got.handle;
        this.state = got.state;
      }
    } catch {
      this.handle = undefined;
    }
  }

  compress(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): number {
    if (this.handle && this.state) {
      const room = out.length - outOff;
      this.handle.writeSync(Z_FINISH, src, off, len, out, outOff, room);
      const n = room - this.state[0]!;
      const inLeft = this.state[1]!;
      this.handle.reset();
      return inLeft === 0 ? n : -1;
    }
    const r = zlib().deflateSync(src.subarray(off, off + len), { level: Z_BEST_SPEED });
    if (r.length > out.length - outOff) return -1;
    out.set(r, outOff);
    return r.length;
  }
}

class LzoCompressor implements PageCompressor {
  readonly flag = DUMP_DH_COMPRESSED_LZO;
  private readonly c = newLzoCompressor();
  private scratch = new Uint8Array(0);

  compress(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): number {
    if (out.length - outOff >= lzo1xBound(len)) return this.c.compressInto(src, off, len, out, outOff);
    if (this.scratch.length < lzo1xBound(len)) this.scratch = new Uint8Array(lzo1xBound(len));
    const n = this.c.compressInto(src, off, len, this.scratch, 0);
    if (n > out.length - outOff) return -1;
    out.set(this.scratch.subarray(0, n), outOff);
    return n;
  }
}

class SnappyCompressor implements PageCompressor {
  readonly flag = DUMP_DH_COMPRESSED_SNAPPY;
  private readonly snappy = require('snappyjs') as { compress(b: Uint8Array): Uint8Array };

  compress(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): number {
    const r = this.snappy.compress(src.subarray(off, off + len));
    if (r.length > out.length - outOff) return -1;
    out.set(r, outOff);
    return r.length;
  }
}

class ZstdCompressor implements PageCompressor {
  readonly flag = DUMP_DH_COMPRESSED_ZSTD;
  private readonly cctx: ZstdPageCompressor = newZstdCompressor();

  compress(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): number {
    return this.cctx.compress(out.subarray(outOff, outOff + outBound(len)), src.subarray(off, off + len), 1);
  }
}

export function makeCompressor(c: Compression): PageCompressor | undefined {
  switch (c) {
    case 'zlib':
      return new ZlibCompressor();
    case 'lzo':
      return new LzoCompressor();
    case 'snappy':
      return new SnappyCompressor();
    case 'zstd':
      return new ZstdCompressor();
    default:
      return undefined;
  }
}
