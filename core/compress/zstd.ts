/**
 * zstd for dump pages (makedumpfile -z), tsmakedumpfile -z and SHF_COMPRESSED ELF sections, from one of two
 * codecs chosen at first use: zstd-napi (libzstd as a native addon: an optional dependency, built by node-gyp
 * when the machine has a compiler) when it loads, else @bokuweb/zstd-wasm (libzstd compiled to WebAssembly:
 * installs anywhere). The WebAssembly module is instantiated synchronously (Node allows it for any size), so
 * both codecs serve the same synchronous calls. When the fallback is in use a one-line note says so on stderr,
 * once per thread; TSCRASH_NATIVE=0 chooses it with no note (native.ts).
 *
 * Measured on the sysrq sample's pages (README, Dependencies): the WebAssembly codec decodes about 1.6 times and
 * compresses about 2 times slower than the native one.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { nativeAllowed, noteFallback, whyNotLoaded } from './native.js';

const require = createRequire(import.meta.url);

export type ZstdCodecName = 'zstd-napi' | 'wasm';

/** One-shot codec: decompress a whole frame into exactly `size` bytes; compress at a level into `dst`. */
export interface ZstdCodec {
  readonly name: ZstdCodecName;
  /** The frame's content, which must be exactly `size` bytes; throws otherwise. */
  decompress(src: Uint8Array, size: number): Uint8Array;
  newCompressor(): ZstdPageCompressor;
}

/** A reusable compression context (ZSTD_compressCCtx). */
export interface ZstdPageCompressor {
  /** Compress `src` into `dst`; returns the compressed size, or -1 when it does not fit or zstd fails. */
  compress(dst: Uint8Array, src: Uint8Array, level: number): number;
}

export class ZstdError extends Error {
  override name = 'ZstdError';
}

function nativeCodec(): ZstdCodec {
  const zn = require('zstd-napi') as typeof import('zstd-napi');
  const binding = require('zstd-napi/binding') as {
    CCtx: new () => { compress(dst: Uint8Array, src: Uint8Array, level: number): number };
  };
  const d = new zn.Decompressor();
  return {
    name: 'zstd-napi',
    decompress(src, size) {
      const out = d.decompress(src);
      if (out.length !== size) throw new ZstdError(`${out.length} bytes decompressed, expected ${size}`);
      return out;
    },
    newCompressor() {
      const cctx = new binding.CCtx();
      return {
        compress(dst, src, level) {
          try {
            return cctx.compress(dst, src, level);
          } catch {
            return -1;
          }
        },
      };
    },
  };
}

// Node's WebAssembly global (the compiler's lib has no DOM, where its types live).
interface WasmInstance {
  exports: object;
}
const WA = (
  globalThis as unknown as {
    WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => WasmInstance };
  }
).WebAssembly;

/** The part of @bokuweb/zstd-wasm's Emscripten module we call (libzstd's own functions). */
interface WasmModule {
  HEAPU8: Uint8Array;
  instantiateWasm?: (imports: object, receive: (i: WasmInstance) => unknown) => unknown;
  init(): unknown;
  _malloc(n: number): number;
  _free(p: number): void;
  _ZSTD_isError(code: number): number;
  _ZSTD_createDCtx(): number;
  _ZSTD_createCCtx(): number;
  _ZSTD_decompress_usingDict(dctx: number, dst: number, cap: number, src: number, n: number, d: 0, dn: 0): number;
  _ZSTD_compress_usingDict(
    cctx: number,
    dst: number,
    cap: number,
    src: number,
    n: number,
    d: 0,
    dn: 0,
    level: number,
  ): number;
}

function wasmCodec(): ZstdCodec {
  // The package's own init() is asynchronous (WebAssembly.instantiate); Emscripten's instantiateWasm hook lets us
  // instantiate its zstd.wasm synchronously instead. Its files are found beside its entry point.
  const dir = dirname(require.resolve('@bokuweb/zstd-wasm'));
  const M = (require(join(dir, 'module.js')) as { Module: WasmModule }).Module;
  if (!M.instantiateWasm) {
    const bytes = readFileSync(join(dir, 'zstd.wasm'));
    M.instantiateWasm = (imports, receive) => {
      const instance = new WA.Instance(new WA.Module(bytes), imports);
      receive(instance);
      return instance.exports;
    };
    M.init();
  }
  // Scratch buffers in the module's memory, grown as needed (a page, or an ELF section).
  let inP = 0;
  let inCap = 0;
  let outP = 0;
  let outCap = 0;
  const room = (inLen: number, outLen: number): void => {
    if (inLen > inCap) {
      if (inP) M._free(inP);
      inCap = Math.max(inLen, 1 << 16);
      inP = M._malloc(inCap);
    }
    if (outLen > outCap) {
      if (outP) M._free(outP);
      outCap = Math.max(outLen, 1 << 16);
      outP = M._malloc(outCap);
    }
    if (!inP || !outP) throw new ZstdError(`cannot allocate ${inLen + outLen} bytes in the WebAssembly memory`);
  };
  const failed = (n: number): boolean => n < 0 || M._ZSTD_isError(n >>> 0) !== 0;
  const dctx = M._ZSTD_createDCtx();
  return {
    name: 'wasm',
    decompress(src, size) {
      room(src.length, size);
      M.HEAPU8.set(src, inP);
      const n = M._ZSTD_decompress_usingDict(dctx, outP, size, inP, src.length, 0, 0);
      if (failed(n)) throw new ZstdError(`not a valid zstd frame of ${size} bytes (zstd error ${-n})`);
      if (n !== size) throw new ZstdError(`${n} bytes decompressed, expected ${size}`);
      // HEAPU8 is read after the call: the memory may have grown (a new buffer) inside it.
      return M.HEAPU8.slice(outP, outP + n);
    },
    newCompressor() {
      const cctx = M._ZSTD_createCCtx();
      return {
        compress(dst, src, level) {
          room(src.length, dst.length);
          M.HEAPU8.set(src, inP);
          const n = M._ZSTD_compress_usingDict(cctx, outP, dst.length, inP, src.length, 0, 0, level);
          if (failed(n) || n > dst.length) return -1;
          dst.set(M.HEAPU8.subarray(outP, outP + n));
          return n;
        },
      };
    },
  };
}

let codec: ZstdCodec | undefined;

/** One codec by name, not the one in use (the tests compare them); throws when it cannot load. */
export function loadZstdCodec(name: ZstdCodecName): ZstdCodec {
  return name === 'wasm' ? wasmCodec() : nativeCodec();
}

function choose(): ZstdCodec {
  if (!nativeAllowed()) return wasmCodec();
  let why: string;
  try {
    return nativeCodec();
  } catch (e) {
    why = whyNotLoaded(e);
  }
  const c = wasmCodec();
  noteFallback(`zstd-napi ${why}: zstd runs as WebAssembly (slower)`);
  return c;
}

/** The codec in use (chosen at the first call). */
export function zstdCodec(): ZstdCodecName {
  codec ??= choose();
  return codec.name;
}

/** Decompress one zstd frame whose content must be exactly `size` bytes; throws ZstdError otherwise. */
export function zstdDecompress(src: Uint8Array, size: number): Uint8Array {
  codec ??= choose();
  return codec.decompress(src, size);
}

/** A reusable compression context of the codec in use. */
export function newZstdCompressor(): ZstdPageCompressor {
  codec ??= choose();
  return codec.newCompressor();
}
