/**
 * Page decompression for kdump-compressed dumps: zlib (node:zlib), LZO1X (lzo.ts:
 * native or our own), snappy (snappyjs) and zstd (zstd.ts: native or WebAssembly). Each call decodes exactly one
 * page and refuses output of any other size, so a hostile descriptor cannot
 * make us allocate more than a page.
 */
import { createRequire } from 'node:module';
import zlib, { inflateSync } from 'node:zlib';
import { lzoDecompress } from './lzo.js';
import { LzoError } from './lzo-decompress.js';
import { type ZlibHandle, zlibHandle } from './zlib-handle.js';
import { ZstdError, zstdDecompress } from './zstd.js';

const require = createRequire(import.meta.url);

export type Compression = 'zlib' | 'lzo' | 'snappy' | 'zstd';

export class DecompressError extends Error {
  override name = 'DecompressError';
}

interface Snappy {
  uncompress(b: Uint8Array, maxLength?: number): Uint8Array;
}
let snappy: Snappy | undefined;

/** The content size a zstd frame header declares, or undefined when absent. */
export function zstdFrameContentSize(src: Uint8Array): number | undefined {
  if (src.length < 6) throw new DecompressError('zstd frame shorter than its header');
  const magic = (src[0]! | (src[1]! << 8) | (src[2]! << 16) | (src[3]! << 24)) >>> 0;
  if (magic !== 0xfd2fb528) throw new DecompressError(`bad zstd magic 0x${magic.toString(16)}`);
  const d = src[4]!;
  const fcsFlag = d >> 6;
  const single = (d >> 5) & 1;
  const dictSize = [0, 1, 2, 4][d & 3]!;
  let pos = 5 + (single ? 0 : 1) + dictSize;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0) return undefined;
  if (pos + fcsSize > src.length) throw new DecompressError('zstd frame header truncated');
  let v = 0;
  for (let i = fcsSize - 1; i >= 0; i--) v = v * 256 + src[pos + i]!;
  pos += fcsSize;
  return fcsSize === 2 ? v + 256 : v;
}

/**
 * zlib pages through one inflate stream kept for the thread and reset after each page (inflateSync sets up and
 * tears down a stream for every call: most of a page's cost). The output goes to a scratch buffer a byte longer
 * than the page, so that a stream that decodes to more than a page is seen; errors come through the handle's
 * onerror. Falls back to inflateSync where Node's zlib stream has no such handle.
 */
class PageInflater {
  private handle: ZlibHandle | undefined;
  private state: Uint32Array | undefined;
  private scratch = new Uint8Array(0);
  private error: string | undefined;

  constructor() {
    try {
      const got = zlibHandle(zlib.createInflate());
      if (got) {
        const h = got.handle;
        this.handle = h;
        this.state = got.state;
        h.onerror = (message) => {
          this.error = message;
        };
      }
    } catch {
      this.handle = undefined;
    }
  }

  inflate(src: Uint8Array, pageSize: number): Uint8Array {
    const h = this.handle;
    if (!h || !this.state) {
      // A chunk just over the page: the default 16 KiB chunk would stay behind each cached 4 KiB page.
      return inflateSync(src, { maxOutputLength: pageSize, chunkSize: pageSize + 64 });
    }
    if (this.scratch.length !== pageSize + 1) this.scratch = new Uint8Array(pageSize + 1);
    this.error = undefined;
    try {
      h.writeSync(zlib.constants.Z_FINISH, src, 0, src.length, this.scratch, 0, pageSize + 1);
    } finally {
      h.reset();
    }
    if (this.error !== undefined) throw new DecompressError(`zlib: ${this.error}`);
    const n = pageSize + 1 - this.state[0]!;
    if (n !== pageSize)
      throw new DecompressError(`zlib: ${n > pageSize ? 'more than a page' : `${n} bytes, expected ${pageSize}`}`);
    return this.scratch.slice(0, pageSize);
  }
}
const inflater = new PageInflater();

/** Decompress one page into a new buffer of exactly `pageSize` bytes. */
export function decompressPage(kind: Compression, src: Uint8Array, pageSize: number): Uint8Array {
  let out: Uint8Array;
  try {
    switch (kind) {
      case 'zlib':
        out = inflater.inflate(src, pageSize);
        break;
      case 'lzo': {
        out = new Uint8Array(pageSize);
        const n = lzoDecompress(src, out);
        if (n !== pageSize) throw new DecompressError(`lzo: ${n} bytes, expected ${pageSize}`);
        break;
      }
      case 'snappy':
        snappy ??= require('snappyjs') as Snappy;
        out = snappy.uncompress(src, pageSize);
        break;
      case 'zstd': {
        const size = zstdFrameContentSize(src);
        if (size !== pageSize) throw new DecompressError(`zstd frame declares ${size ?? 'no'} content size`);
        // Loaded on first use: the codec costs start-up time that zlib and LZO dumps do not need.
        out = zstdDecompress(src, pageSize);
        break;
      }
    }
  } catch (e) {
    if (e instanceof DecompressError) throw e;
    const msg = e instanceof LzoError || e instanceof ZstdError ? e.message : (e as Error).message;
    throw new DecompressError(`${kind}: ${msg}`, { cause: e });
  }
  if (out.length !== pageSize) throw new DecompressError(`${kind}: ${out.length} bytes, expected ${pageSize}`);
  return out;
}
