/**
 * The differential check of the dump targets: for each page of an intact seed, the file ranges its answer comes
 * from (worked out here from the seed's own layout, not by the reader under test), and the answer the reader gives
 * on the intact seed. A mutated input that leaves all of a page's ranges untouched must give that page's answer
 * again, or refuse with a project error; any other answer is a finding.
 */
import type { Dump } from '../../core/dump.js';
import { closestSeed, InvariantError, refused, sameBytes, touches } from './harness.js';

export type Range = [number, number];

export interface PageExpect {
  pfn: number;
  /** File ranges the page's answer depends on. */
  deps: Range[];
  /** The intact seed's answer: the page's bytes, or undefined when the reader refused it. */
  bytes: Uint8Array | undefined;
}

export interface DumpSeed {
  name: string;
  bytes: Uint8Array;
  pages: PageExpect[];
}

const DESC = 24;

/** The layout of a kdump file (disk_dump_header, kdump_sub_header, bitmaps, descriptors), read directly. */
export function kdumpLayout(b: Uint8Array): {
  bs: number;
  descStart: number;
  meta: Range[];
  maxMapnr: number;
  startPfn: number;
  endPfn: number;
  dumped(pfn: number): boolean;
  rank(pfn: number): number;
} {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getInt32(8, true);
  const bs = dv.getUint32(428, true);
  const sub = dv.getUint32(432, true);
  const bitmapBlocks = dv.getUint32(436, true);
  let maxMapnr = dv.getUint32(440, true);
  const s = bs;
  const u64 = (o: number): number => Number(dv.getBigUint64(s + o, true));
  const meta: Range[] = [];
  let split = false;
  let startPfn = 0;
  let endPfn = 0;
  if (version >= 2) {
    split = dv.getInt32(s + 12, true) !== 0;
    startPfn = u64(16);
    endPfn = u64(24);
  }
  if (version >= 3 && u64(40) > 0) meta.push([u64(32), u64(32) + u64(40)]);
  if (version >= 4 && u64(56) > 0) meta.push([u64(48), u64(48) + u64(56)]);
  if (version >= 6) {
    startPfn = u64(80) || startPfn;
    endPfn = u64(88) || endPfn;
    maxMapnr = u64(96) || maxMapnr;
  }
  if (!split || endPfn === 0) {
    startPfn = 0;
    endPfn = maxMapnr;
  }
  const bitmapOff = (1 + sub) * bs;
  const half = (bitmapBlocks * bs) / 2;
  const bit2 = (pfn: number): boolean => ((b[bitmapOff + half + (pfn >> 3)]! >> (pfn & 7)) & 1) === 1;
  const rank = (pfn: number): number => {
    let n = 0;
    for (let p = 0; p < pfn; p++) if (bit2(p)) n++;
    return n;
  };
  return { bs, descStart: bitmapOff + bitmapBlocks * bs, meta, maxMapnr, startPfn, endPfn, dumped: bit2, rank };
}

/** [a, b) less the ranges `minus` (sorted or not). */
function subtract(a: number, b: number, minus: Range[]): Range[] {
  let out: Range[] = [[a, b]];
  for (const [x, y] of minus) {
    const next: Range[] = [];
    for (const [p, q] of out) {
      if (y <= p || x >= q) next.push([p, q]);
      else {
        if (x > p) next.push([p, x]);
        if (y < q) next.push([y, q]);
      }
    }
    out = next;
  }
  return out;
}

/**
 * Each pfn's dependencies in a kdump file: the headers and both bitmaps (not the notes and VMCOREINFO inside the
 * sub-header's blocks), and for a dumped page its descriptor and its data. `routing` is added to every page (a split
 * set's other file's headers).
 */
export function kdumpDeps(b: Uint8Array, routing: Range[] = []): Map<number, Range[]> {
  const L = kdumpLayout(b);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const head = subtract(0, L.descStart, L.meta);
  const out = new Map<number, Range[]>();
  const startRank = L.rank(L.startPfn);
  let rank = 0;
  for (let pfn = 0; pfn < L.maxMapnr; pfn++) {
    const deps = [...head, ...routing];
    if (L.dumped(pfn)) {
      if (pfn >= L.startPfn && pfn < L.endPfn) {
        const at = L.descStart + (rank - startRank) * DESC;
        deps.push([at, at + DESC]);
        if (at + DESC <= b.length) {
          const off = Number(dv.getBigInt64(at, true));
          const size = dv.getUint32(at + 8, true);
          deps.push([off, off + size]);
        }
      }
      rank++;
    }
    out.set(pfn, deps);
  }
  return out;
}

/** Each pfn's dependencies in an ELF core: the ELF header, every program header, and the page's bytes. */
export function elfDeps(b: Uint8Array): Map<number, Range[]> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const head: Range[] = [
    [0, 64],
    [phoff, phoff + phnum * phentsize],
  ];
  const out = new Map<number, Range[]>();
  let maxEnd = 0;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue;
    const off = Number(dv.getBigUint64(p + 8, true));
    const paddr = Number(dv.getBigUint64(p + 24, true));
    const filesz = Number(dv.getBigUint64(p + 32, true));
    const memsz = Number(dv.getBigUint64(p + 40, true));
    maxEnd = Math.max(maxEnd, paddr + memsz);
    for (let a = paddr - (paddr % 4096); a < paddr + memsz; a += 4096) {
      const pfn = a / 4096;
      const deps = out.get(pfn) ?? [...head];
      // The bytes of this page that the segment stores.
      const lo = Math.max(a, paddr);
      const hi = Math.min(a + 4096, paddr + filesz);
      if (hi > lo) deps.push([off + (lo - paddr), off + (hi - paddr)]);
      out.set(pfn, deps);
    }
  }
  // Pages in no segment answer from the headers alone: the one after the last, and the holes between segments.
  const last = Math.ceil(maxEnd / 4096);
  if (!out.has(last)) out.set(last, [...head]);
  for (const pfn of [...out.keys()]) if (pfn > 0 && !out.has(pfn - 1)) out.set(pfn - 1, [...head]);
  return out;
}

/** A flattened stream's records: where each one's header and data lie in the stream, and what it writes. */
export function flatRecords(b: Uint8Array): { at: number; offset: number; size: number }[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: { at: number; offset: number; size: number }[] = [];
  for (let pos = 4096; pos + 16 <= b.length; ) {
    const offset = Number(dv.getBigInt64(pos, false));
    const size = Number(dv.getBigInt64(pos + 8, false));
    if (offset < 0 || size < 0) break;
    out.push({ at: pos, offset, size });
    pos += 16 + size;
  }
  return out;
}

/** Dependencies of the image's ranges mapped into the stream: plus the stream header and every record header. */
export function flatDeps(stream: Uint8Array, imageDeps: Map<number, Range[]>): Map<number, Range[]> {
  const recs = flatRecords(stream);
  const structure: Range[] = [[0, 4096], ...recs.map((r): Range => [r.at, r.at + 16])];
  const last = recs.at(-1);
  const endAt = last ? last.at + 16 + last.size : 4096;
  structure.push([endAt, endAt + 16]);
  const out = new Map<number, Range[]>();
  for (const [pfn, deps] of imageDeps) {
    const mapped: Range[] = [...structure];
    for (const [lo, hi] of deps) {
      for (const r of recs) {
        const a = Math.max(lo, r.offset);
        const z = Math.min(hi, r.offset + r.size);
        if (z > a) mapped.push([r.at + 16 + (a - r.offset), r.at + 16 + (z - r.offset)]);
      }
    }
    out.set(pfn, mapped);
  }
  return out;
}

/** The intact seed's answers, read with the reader under test. */
export function expectations(
  seed: { name: string; bytes: Uint8Array },
  deps: Map<number, Range[]>,
  open: (bytes: Uint8Array) => Dump,
): DumpSeed | undefined {
  const d = refused(() => open(seed.bytes));
  if (!d.ok) return undefined;
  const pages: PageExpect[] = [];
  for (const [pfn, r] of deps) {
    const page = refused(() => d.value.readPage(pfn));
    pages.push({ pfn, deps: r, bytes: page.ok ? Uint8Array.from(page.value) : undefined });
  }
  d.value.close();
  return { name: seed.name, bytes: seed.bytes, pages };
}

/**
 * Open `data`, read what a session reads at start (info, warnings, notes, VMCOREINFO) and the seeds' pages; check
 * the pages whose bytes the mutation did not touch against the closest intact seed.
 */
export function checkDump(data: Uint8Array, seeds: readonly DumpSeed[], open: (bytes: Uint8Array) => Dump): void {
  const d = refused(() => open(data));
  if (!d.ok) return;
  const dump = d.value;
  refused(() => JSON.stringify(dump.info, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  const near = closestSeed(data, seeds);
  const pfns = near ? near.seed.pages : (seeds[0]?.pages ?? []);
  for (const p of pfns) {
    refused(() => dump.pageState(p.pfn));
    const got = refused(() => dump.readPage(p.pfn));
    if (!near || !got.ok) continue;
    if (p.deps.some(([a, b]) => touches(near.diff, a, b))) continue;
    if (!p.bytes)
      throw new InvariantError(
        `pfn 0x${p.pfn.toString(16)}: the intact ${near.seed.name} refuses it, the damaged copy (bytes ${[...near.diff.subarray(0, 8)].join(',')} changed, none it depends on) reads it`,
      );
    if (!sameBytes(got.value, p.bytes))
      throw new InvariantError(
        `pfn 0x${p.pfn.toString(16)}: reads other bytes than from the intact ${near.seed.name}, though none of the bytes it depends on changed (changed: ${[...near.diff.subarray(0, 8)].join(',')})`,
      );
  }
  refused(() => {
    let n = 0;
    for (const _ of dump.presentPfns()) if (++n >= 1 << 16) break;
  });
  dump.close();
}
