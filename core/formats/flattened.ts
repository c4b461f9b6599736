/**
 * makedumpfile's flattened format (-F), read in place: the stream is a 4 KiB
 * header ("makedumpfile", type 1, version 1, big-endian i64s) and then records
 * {offset i64, size i64, payload} that say where each payload goes in the real
 * file, ending with offset = size = -1. Records may come out of order and
 * overwrite earlier ones (the header is rewritten last): the later one wins.
 * We index the records once and serve reads of the reassembled image, without
 * writing it out (makedumpfile -R does that).
 */
import { BadDataError } from '../errors.js';
import type { ByteSource } from './source.js';

export const FLAT_SIGNATURE = 'makedumpfile';
export const FLAT_HEADER_SIZE = 4096;
const RECORD_HEADER = 16;

export function isFlattened(head: Uint8Array): boolean {
  if (head.length < 32) return false;
  for (let i = 0; i < FLAT_SIGNATURE.length; i++) if (head[i] !== FLAT_SIGNATURE.charCodeAt(i)) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return head[12] === 0 && dv.getBigInt64(16, false) === 1n;
}

/** Disjoint pieces of the image, sorted: image [start, end) comes from stream position `from`. */
interface Pieces {
  start: Float64Array;
  end: Float64Array;
  from: Float64Array;
  count: number;
}

export class FlattenedSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  /** Set when the stream ended without its end marker (truncated transfer). */
  readonly truncatedAt: number | undefined;
  readonly records: number;
  /** Records that overlap, or leave a gap of a page or more: each names the record's place in the stream. */
  readonly warnings: string[] = [];
  private readonly pieces: Pieces;

  constructor(private readonly inner: ByteSource) {
    this.name = inner.name;
    const head = new Uint8Array(32);
    if (inner.read(head, 0, 32, 0) < 32 || !isFlattened(head)) {
      throw new BadDataError('not a flattened makedumpfile stream', inner.name, 0);
    }
    const dv = new DataView(head.buffer);
    const version = dv.getBigInt64(24, false);
    if (version !== 1n) throw new BadDataError(`flattened stream version ${version}, expected 1`, inner.name, 24);
    // Pass 1: record headers, in stream order, into growable typed arrays.
    let cap = 1024;
    let offs: Float64Array = new Float64Array(cap);
    let sizes: Float64Array = new Float64Array(cap);
    let froms: Float64Array = new Float64Array(cap);
    let n = 0;
    let pos = FLAT_HEADER_SIZE;
    let truncated: number | undefined;
    const rh = new Uint8Array(RECORD_HEADER);
    const rv = new DataView(rh.buffer);
    const limit = 2 ** 52;
    for (;;) {
      const got = inner.read(rh, 0, RECORD_HEADER, pos);
      if (got < RECORD_HEADER) {
        truncated = pos;
        break;
      }
      const off = rv.getBigInt64(0, false);
      const size = rv.getBigInt64(8, false);
      if (off === -1n && size === -1n) break;
      if (off < 0n || size < 0n || off > BigInt(limit) || size > BigInt(limit)) {
        throw new BadDataError(`flattened record with offset ${off} and size ${size}`, inner.name, pos);
      }
      const o = Number(off);
      const s = Number(size);
      if (pos + RECORD_HEADER + s > inner.size) {
        truncated = pos;
        break;
      }
      if (n === cap) {
        cap *= 2;
        const grow = (a: Float64Array): Float64Array => {
          const b = new Float64Array(cap);
          b.set(a);
          return b;
        };
        offs = grow(offs);
        sizes = grow(sizes);
        froms = grow(froms);
      }
      offs[n] = o;
      sizes[n] = s;
      froms[n] = pos + RECORD_HEADER;
      n++;
      pos += RECORD_HEADER + s;
    }
    this.truncatedAt = truncated;
    this.records = n;
    this.checkRecords(offs, sizes, froms, n);
    this.pieces = resolve(offs, sizes, froms, n);
    const p = this.pieces;
    this.size = p.count ? p.end[p.count - 1]! : 0;
  }

  /**
   * makedumpfile writes each byte of the image once (its records never overlap), and leaves gaps only in the
   * padding of the header blocks and bitmaps (less than a page). A record whose offset was damaged lands on
   * another's bytes (the later one then wins) or leaves a page-sized hole where it belonged: both are warned,
   * naming the record's stream offset, and the data there is not to be trusted.
   */
  private checkRecords(offs: Float64Array, sizes: Float64Array, froms: Float64Array, n: number): void {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => offs[a]! - offs[b]! || a - b);
    const found: string[] = [];
    let count = 0;
    let end = 0;
    let last = -1;
    let first = -1;
    const at = (r: number): string => `record at stream offset 0x${(froms[r]! - RECORD_HEADER).toString(16)}`;
    const img = (a: number, b: number): string => `[0x${a.toString(16)}, 0x${b.toString(16)})`;
    for (const r of order) {
      const a = offs[r]!;
      const b = a + sizes[r]!;
      if (sizes[r] === 0) continue;
      if (last >= 0 && a < end) {
        count++;
        if (first < 0) first = r;
        if (found.length < 3)
          found.push(
            `the ${at(r)} writes image bytes ${img(a, b)} over those of the ${at(last)} ${img(offs[last]!, end)}`,
          );
      } else if (last >= 0 && a - end >= 4096 && this.truncatedAt === undefined) {
        // (A stream cut short has gaps where its missing records belonged: that is the truncation, said once.)
        count++;
        if (first < 0) first = r;
        if (found.length < 3) found.push(`no record writes image bytes ${img(end, a)} (the next is the ${at(r)})`);
      }
      if (b > end) {
        end = b;
        last = r;
      }
    }
    if (!count) return;
    this.warnings.push(
      `${this.name}: offset 0x${(froms[first]! - RECORD_HEADER).toString(16)}: the flattened stream's records are damaged (${count} overlap${count > 1 ? 's or gaps' : ' or gap'}): ${found.join('; ')}${count > found.length ? `; and ${count - found.length} more` : ''}: pages read from there may be wrong`,
    );
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): number {
    const p = this.pieces;
    const stop = Math.min(position + length, this.size);
    if (position >= stop) return 0;
    buf.fill(0, offset, offset + (stop - position));
    // First piece ending after `position`.
    let lo = 0;
    let hi = p.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p.end[mid]! <= position) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < p.count && p.start[i]! < stop; i++) {
      const a = Math.max(p.start[i]!, position);
      const b = Math.min(p.end[i]!, stop);
      const want = b - a;
      const got = this.inner.read(buf, offset + (a - position), want, p.from[i]! + (a - p.start[i]!));
      if (got < want) throw new BadDataError('flattened stream ended inside a record', this.name, p.from[i]!);
    }
    return stop - position;
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * Turn records (in stream order; later wins) into sorted disjoint pieces.
 * Sweep over the records sorted by start, keeping the covering records in a
 * max-heap by stream order.
 */
function resolve(offs: Float64Array, sizes: Float64Array, froms: Float64Array, n: number): Pieces {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => offs[a]! - offs[b]! || a - b);
  // Boundaries: every record start and end.
  const bounds = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    bounds[2 * i] = offs[i]!;
    bounds[2 * i + 1] = offs[i]! + sizes[i]!;
  }
  bounds.sort();
  const heap: number[] = []; // record indices, max stream order at top
  const push = (r: number): void => {
    heap.push(r);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! >= heap[i]!) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const pop = (): void => {
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && heap[l]! > heap[m]!) m = l;
      if (r < heap.length && heap[r]! > heap[m]!) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i]!, heap[m]!];
      i = m;
    }
  };
  const start: number[] = [];
  const end: number[] = [];
  const from: number[] = [];
  let next = 0;
  for (let b = 0; b + 1 < bounds.length; b++) {
    const a = bounds[b]!;
    const z = bounds[b + 1]!;
    if (a === z) continue;
    while (next < n && offs[order[next]!]! <= a) push(order[next++]!);
    // Drop records that end at or before `a` (lazily, from the top).
    while (heap.length && offs[heap[0]!]! + sizes[heap[0]!]! <= a) pop();
    if (!heap.length) continue;
    const r = heap[0]!;
    // The top covers [a, z) only if it ends at or after z; ends are boundaries, so it does.
    const src = froms[r]! + (a - offs[r]!);
    const k = start.length - 1;
    if (k >= 0 && end[k] === a && from[k]! + (end[k]! - start[k]!) === src) end[k] = z;
    else {
      start.push(a);
      end.push(z);
      from.push(src);
    }
  }
  return {
    start: Float64Array.from(start),
    end: Float64Array.from(end),
    from: Float64Array.from(from),
    count: start.length,
  };
}
