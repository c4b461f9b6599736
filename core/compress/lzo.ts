/**
 * LZO1X for dump pages (makedumpfile -l) and tsmakedumpfile -l, from one of two codecs chosen at first use: the
 * `lzo` package (miniLZO 2.09, the reference library's lzo1x_decompress_safe and lzo1x_1_compress, as a native
 * addon: an optional dependency, built by node-gyp where there is a compiler) when it loads, else our own
 * lzo-decompress.ts and lzo-compress.ts. The reference compressor gives makedumpfile -l's bytes exactly; both
 * decompressors are bounds-checked. When ours is in use because the addon did not load, a one-line note says so
 * on stderr, once per thread; TSCRASH_NATIVE=0 chooses ours with no note (native.ts).
 *
 * Measured on the sysrq sample's pages (README, Dependencies): the addon decodes about 5 times and compresses
 * about 2 times faster than ours.
 */
import { createRequire } from 'node:module';
import { Lzo1xCompressor, lzo1xBound } from './lzo-compress.js';
import { LzoError, lzo1xDecompress } from './lzo-decompress.js';
import { nativeAllowed, noteFallback, whyNotLoaded } from './native.js';

const require = createRequire(import.meta.url);

export type LzoCodecName = 'lzo' | 'js';

export interface LzoCodec {
  readonly name: LzoCodecName;
  /** Decompress `src` into `dst`; returns the bytes written. Throws LzoError on a malformed stream or overrun. */
  decompress(src: Uint8Array, dst: Uint8Array): number;
  newCompressor(): LzoPageCompressor;
}

export interface LzoPageCompressor {
  /** Compress src[off, off+len) into dst at dstOff, which must have room for lzo1xBound(len); returns the size. */
  compressInto(src: Uint8Array, off: number, len: number, dst: Uint8Array, dstOff: number): number;
}

/** lzoconf.h's error codes. */
const LZO_ERRORS: Record<number, string> = {
  [-1]: 'LZO_E_ERROR',
  [-4]: 'LZO_E_INPUT_OVERRUN',
  [-5]: 'LZO_E_OUTPUT_OVERRUN',
  [-6]: 'LZO_E_LOOKBEHIND_OVERRUN',
  [-7]: 'LZO_E_EOF_NOT_FOUND',
  [-8]: 'LZO_E_INPUT_NOT_CONSUMED',
};

interface LzoBinding {
  compress(input: Uint8Array, output: Uint8Array): { err: number; len: number };
  decompress(input: Uint8Array, output: Uint8Array): { err: number; len: number };
}

function nativeCodec(): LzoCodec {
  // The addon itself (the package's index.js allocates a buffer per call; its functions take ours).
  const b = require('lzo/build/Release/node_lzo.node') as LzoBinding;
  return {
    name: 'lzo',
    decompress(src, dst) {
      const r = b.decompress(src, dst);
      if (r.err !== 0) throw new LzoError(`lzo1x_decompress_safe: ${LZO_ERRORS[r.err] ?? `error ${r.err}`}`);
      return r.len;
    },
    newCompressor() {
      return {
        compressInto(src, off, len, dst, dstOff) {
          // lzo1x_1_compress does not check its output's length: the room is checked here.
          const room = lzo1xBound(len);
          if (dst.length - dstOff < room)
            throw new RangeError(`lzo1x: output buffer too small (${dst.length - dstOff} < ${room})`);
          const r = b.compress(src.subarray(off, off + len), dst.subarray(dstOff, dstOff + room));
          if (r.err !== 0) throw new LzoError(`lzo1x_1_compress: ${LZO_ERRORS[r.err] ?? `error ${r.err}`}`);
          return r.len;
        },
      };
    },
  };
}

const jsCodec: LzoCodec = {
  name: 'js',
  decompress: lzo1xDecompress,
  newCompressor: () => new Lzo1xCompressor(),
};

let codec: LzoCodec | undefined;

/** One codec by name, not the one in use (the tests compare them); throws when it cannot load. */
export function loadLzoCodec(name: LzoCodecName): LzoCodec {
  return name === 'js' ? jsCodec : nativeCodec();
}

function choose(): LzoCodec {
  if (!nativeAllowed()) return jsCodec;
  try {
    return nativeCodec();
  } catch (e) {
    noteFallback(`the lzo addon ${whyNotLoaded(e)}: LZO runs as JavaScript (slower)`);
    return jsCodec;
  }
}

/** The codec in use (chosen at the first call). */
export function lzoCodec(): LzoCodecName {
  codec ??= choose();
  return codec.name;
}

/** Decompress one LZO1X stream into `dst`; returns the bytes written. Throws LzoError when it is malformed. */
export function lzoDecompress(src: Uint8Array, dst: Uint8Array): number {
  codec ??= choose();
  return codec.decompress(src, dst);
}

/** A reusable compressor of the codec in use. */
export function newLzoCompressor(): LzoPageCompressor {
  codec ??= choose();
  return codec.newCompressor();
}
