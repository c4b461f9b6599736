/**
 * Page decompression for kdump-compressed dumps: zlib (node:zlib), LZO1X (lzo.ts:
 * native or our own), snappy (snappyjs) and zstd (zstd.ts: native or WebAssembly). Each call decodes exactly one
 * page and refuses output of any other size, so a hostile descriptor cannot
 * make us allocate more than a page.
 */
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import { lzoDecompress } from './lzo.js';
import { LzoError } from './lzo-decompress.js';
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

/** Decompress one page into a new buffer of exactly `pageSize` bytes. */
export function decompressPage(kind: Compression, src: Uint8Array, pageSize: number): Uint8Array {
  let out: Uint8Array;
  try {
    switch (kind) {
      case 'zlib':
        // A chunk just over the page: the default 16 KiB chunk would stay behind each cached 4 KiB page.
        out = inflateSync(src, { maxOutputLength: pageSize, chunkSize: pageSize + 64 });
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
