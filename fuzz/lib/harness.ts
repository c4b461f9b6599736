/**
 * What every fuzz target shares: the bytes as a ByteSource, the escape rule (only the project's error classes may
 * leave a parser: anything else is a finding), and the intact seeds a target compares its answers with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TscrashError } from '../../core/errors.js';
import type { ByteSource } from '../../core/formats/source.js';

/** A file image in memory, read as the format readers read a file. */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }
  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    if (position >= this.size || length <= 0 || position < 0) return 0;
    const n = Math.min(length, this.size - position);
    buf.set(this.bytes.subarray(position, position + n), offset);
    return n;
  }
  close(): void {}
}

/** A broken invariant: thrown as a plain Error so the fuzzer records the input as a crash. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/**
 * Run `fn`; an error of the project's classes (core/errors.ts, and `extra`, the module's own documented ones) is the
 * parser refusing the input and is returned; anything else escapes, and the fuzzer reports the input.
 */
export function refused<T>(
  fn: () => T,
  extra: (new (...a: never[]) => Error)[] = [],
): { ok: true; value: T } | { ok: false; error: Error } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof InvariantError) throw e;
    if (e instanceof TscrashError || extra.some((c) => e instanceof c)) return { ok: false, error: e as Error };
    throw e;
  }
}

/** The intact seeds of a target (fuzz/seeds.ts wrote them to TSCRASH_FUZZ_SEEDS/<target>/). */
export function intactSeeds(target: string): { name: string; bytes: Uint8Array }[] {
  const root = process.env.TSCRASH_FUZZ_SEEDS;
  if (!root) return [];
  const dir = join(root, target);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return names.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) }));
}

/**
 * The offsets where `data` differs from the seed of the same length that it differs least from, sorted; undefined
 * when no seed has its length (an insertion or a cut moved every later byte: no page-by-page comparison).
 */
export function closestSeed<S extends { bytes: Uint8Array }>(
  data: Uint8Array,
  seeds: readonly S[],
): { seed: S; diff: Int32Array } | undefined {
  let best: { seed: S; diff: Int32Array } | undefined;
  for (const s of seeds) {
    if (s.bytes.length !== data.length) continue;
    const a = s.bytes;
    const out: number[] = [];
    const limit = best ? best.diff.length : Number.POSITIVE_INFINITY;
    for (let i = 0; i < a.length && out.length < limit; i++) if (a[i] !== data[i]) out.push(i);
    if (!best || out.length < best.diff.length) best = { seed: s, diff: Int32Array.from(out) };
  }
  return best;
}

/** Whether any of the sorted offsets `diff` lies in [start, end). */
export function touches(diff: Int32Array, start: number, end: number): boolean {
  let lo = 0;
  let hi = diff.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (diff[mid]! < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < diff.length && diff[lo]! < end;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The container the multi-part targets take: `n` u32 little-endian lengths, then the parts back to back (a length
 * past the end is cut to what is there). fuzz/seeds.ts writes seeds with `joinParts`.
 */
export function splitParts(data: Uint8Array, n: number): Uint8Array[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  let at = 4 * n;
  for (let i = 0; i < n; i++) {
    const len = 4 * i + 4 <= data.length ? dv.getUint32(4 * i, true) : 0;
    const start = Math.min(at, data.length);
    const end = Math.min(start + len, data.length);
    out.push(data.subarray(start, end));
    at = end;
  }
  return out;
}

export function joinParts(parts: Uint8Array[]): Uint8Array {
  const head = new Uint8Array(4 * parts.length);
  const dv = new DataView(head.buffer);
  for (const [i, p] of parts.entries()) dv.setUint32(4 * i, p.length, true);
  return Buffer.concat([head, ...parts]);
}
