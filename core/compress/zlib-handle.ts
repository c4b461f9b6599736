/**
 * The native handle under a node:zlib stream, for one stream kept and reset per page instead of a stream set up and
 * torn down per call (what inflateSync and deflateSync do: most of a page's cost). It is Node's private API, so it
 * is checked for, and the callers fall back to the *Sync functions where it is missing.
 */

/** What the reader and the writer call on the handle. */
export interface ZlibHandle {
  writeSync(
    flush: number,
    inp: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  onerror?: (message: string, errno: number) => void;
}

/** The handle of a stream from zlib.createInflate/createDeflate and its write state (avail out, avail in), if any. */
export function zlibHandle(stream: unknown): { handle: ZlibHandle; state: Uint32Array } | undefined {
  const s = stream as { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const h = s._handle;
  if (!h || !s._writeState || typeof h.writeSync !== 'function' || typeof h.reset !== 'function') return undefined;
  return { handle: h, state: s._writeState };
}
