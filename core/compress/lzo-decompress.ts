/**
 * LZO1X decompressor (the format of liblzo2's lzo1x_decompress_safe, used by
 * makedumpfile -l). Written from the format's description (the kernel's
 * Documentation/staging/lzo.rst): every read of the input and every write or
 * back-reference in the output is bounds-checked, so hostile input can only
 * produce an LzoError, never an overrun or a loop.
 */

export class LzoError extends Error {
  override name = 'LzoError';
}

const M2_MAX_OFFSET = 0x0800;

/**
 * Decompress `src` into `dst`; returns the number of bytes written. Throws
 * LzoError when the stream is malformed, overruns `dst`, or ends early.
 */
export function lzo1xDecompress(src: Uint8Array, dst: Uint8Array): number {
  const inLen = src.length;
  const outLen = dst.length;
  let ip = 0;
  let op = 0;
  let t = 0;
  let mPos = 0;
  // `state` says where the next loop iteration begins (the C reference uses gotos).
  const LOOP = 0;
  const FIRST_LITERAL_RUN = 1;
  const MATCH = 2;
  const MATCH_NEXT = 3;
  let state = LOOP;

  const need = (n: number): void => {
    if (ip + n > inLen) throw new LzoError(`input overrun at ${ip} (need ${n} of ${inLen - ip})`);
  };
  const room = (n: number): void => {
    if (op + n > outLen) throw new LzoError(`output overrun at ${op} (+${n} > ${outLen})`);
  };
  const copyLiterals = (n: number): void => {
    need(n);
    room(n);
    dst.set(src.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  const copyMatch = (from: number, n: number): void => {
    if (from < 0) throw new LzoError(`lookbehind overrun at ${op} (distance ${op - from})`);
    room(n);
    for (let i = 0; i < n; i++) dst[op++] = dst[from++]!;
  };
  /** A run length extended by zero bytes (each +255) and a final non-zero byte. */
  const extended = (base: number): number => {
    let n = 0;
    need(1);
    while (src[ip] === 0) {
      n += 255;
      ip++;
      need(1);
      if (n > outLen + 255) throw new LzoError(`run length too long at ${ip}`);
    }
    return n + base + src[ip++]!;
  };

  need(1);
  if (src[0]! > 17) {
    t = src[ip++]! - 17;
    if (t < 4) {
      state = MATCH_NEXT;
    } else {
      copyLiterals(t);
      state = FIRST_LITERAL_RUN;
    }
  }

  for (;;) {
    if (state === LOOP) {
      need(1);
      t = src[ip++]!;
      if (t >= 16) {
        state = MATCH;
      } else {
        if (t === 0) t = extended(15);
        copyLiterals(t + 3);
        state = FIRST_LITERAL_RUN;
      }
      continue;
    }
    if (state === FIRST_LITERAL_RUN) {
      need(1);
      t = src[ip++]!;
      if (t >= 16) {
        state = MATCH;
        continue;
      }
      need(1);
      mPos = op - (1 + M2_MAX_OFFSET) - (t >> 2) - (src[ip++]! << 2);
      copyMatch(mPos, 3);
    } else if (state === MATCH_NEXT) {
      copyLiterals(t);
      need(1);
      t = src[ip++]!;
      state = MATCH;
      continue;
    } else {
      // MATCH: t >= 16, or t < 16 right after a match (an M1 match).
      if (t >= 64) {
        need(1);
        mPos = op - 1 - ((t >> 2) & 7) - (src[ip++]! << 3);
        copyMatch(mPos, (t >> 5) - 1 + 2);
      } else if (t >= 32) {
        t &= 31;
        if (t === 0) t = extended(31);
        need(2);
        mPos = op - 1 - ((src[ip]! | (src[ip + 1]! << 8)) >> 2);
        ip += 2;
        copyMatch(mPos, t + 2);
      } else if (t >= 16) {
        mPos = op - ((t & 8) << 11);
        t &= 7;
        if (t === 0) t = extended(7);
        need(2);
        mPos -= (src[ip]! | (src[ip + 1]! << 8)) >> 2;
        ip += 2;
        if (mPos === op) {
          if (ip !== inLen) throw new LzoError(`${inLen - ip} bytes after the end marker`);
          return op;
        }
        mPos -= 0x4000;
        copyMatch(mPos, t + 2);
      } else {
        need(1);
        mPos = op - 1 - (t >> 2) - (src[ip++]! << 2);
        copyMatch(mPos, 2);
      }
    }
    // match done: the low two bits of the match's second-to-last byte give 0-3 trailing literals.
    t = src[ip - 2]! & 3;
    if (t === 0) {
      state = LOOP;
    } else {
      state = MATCH_NEXT;
    }
  }
}
