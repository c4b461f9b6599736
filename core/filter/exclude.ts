/**
 * Page classification for makedumpfile's -d levels from struct page, read
 * through the memory model in VMCOREINFO. The decisions mirror makedumpfile's
 * __exclude_unnecessary_pages() (current upstream, which is also what 1.7.2
 * does on 6.1), with the page-type encodings of newer kernels taken from the
 * VMCOREINFO keys that exist:
 *   - 6.3+: folio._folio_order / folio._folio_dtor offsets;
 *   - 6.6+: NUMBER(PG_hugetlb) with the order in the low byte of folio._flags_1;
 *   - 6.9+: NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE);
 *   - 6.10+: NUMBER(PAGE_SLAB_MAPCOUNT_VALUE);
 *   - 6.12+: page types are whole values in page_type, compared exactly (never as flag bits);
 *   - 6.16+: NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE).
 * Struct pages are read in bulk (512 at a time, like makedumpfile's PGMM_CACHED).
 */
import type { Bitmap } from '../writer/bitmap.js';
import type { KernelMemory } from './kvm.js';
import type { MemMapRange } from './mem-map.js';
import type { VmcoreinfoTable } from './vmcoreinfo-table.js';

export const DL_EXCLUDE_ZERO = 1;
export const DL_EXCLUDE_CACHE = 2;
export const DL_EXCLUDE_CACHE_PRI = 4;
export const DL_EXCLUDE_USER_DATA = 8;
export const DL_EXCLUDE_FREE = 16;

/** Pages excluded per class (makedumpfile's report counters). */
export interface ExclusionCounts {
  zero: number;
  cache: number;
  cachePrivate: number;
  user: number;
  free: number;
  hwpoison: number;
  offline: number;
  /** Pages the classifier wanted to exclude but that back the kernel image (kept). */
  keptKernelImage: number;
}

export function newCounts(): ExclusionCounts {
  return { zero: 0, cache: 0, cachePrivate: 0, user: 0, free: 0, hwpoison: 0, offline: 0, keptKernelImage: 0 };
}

const PGMM_CACHED = 512;

export class FilterError extends Error {
  override name = 'FilterError';
}

/** Does this dump level need struct page inspection? (makedumpfile's create_2nd_bitmap test) */
export function needsStructPages(dumpLevel: number, info: VmcoreinfoTable | undefined): boolean {
  return (
    (dumpLevel & (DL_EXCLUDE_CACHE | DL_EXCLUDE_CACHE_PRI | DL_EXCLUDE_USER_DATA | DL_EXCLUDE_FREE)) !== 0 ||
    (info !== undefined &&
      (info.number('PG_hwpoison') !== undefined || info.number('PAGE_OFFLINE_MAPCOUNT_VALUE') !== undefined))
  );
}

interface Layout {
  sizePage: number;
  offFlags: number;
  offRefcount: number;
  offMapping: number;
  offMapcount: number; // -1 when absent
  offPrivate: number; // -1 when absent
  offCompoundHead: number; // -1 when absent
  orderOffset: number; // relative to the next struct page; 0 = unknown
  dtorOffset: number;
  pgLru: number;
  pgPrivate: number;
  pgSwapcache: number;
  pgSwapbacked: number; // -1 when absent
  pgSlab: number; // -1 when absent
  pgHwpoison: number; // -1 when absent
  pgHugetlb: number; // -1 when absent
  headMaskLo: number;
  headMaskHi: number;
  buddy: number | undefined;
  offline: number | undefined;
  slab: number | undefined;
  hugetlbMapcount: number | undefined;
  unaccepted: number | undefined;
  hugetlbDtor: number | undefined;
  freeAreaLen: number | undefined;
  canBuddy: boolean;
}

function layoutOf(info: VmcoreinfoTable): Layout {
  const need = (v: number | undefined, what: string): number => {
    if (v === undefined) throw new FilterError(`VMCOREINFO lacks ${what}: cannot classify pages`);
    return v;
  };
  const sizePage = need(info.size('page'), 'SIZE(page)');
  const folioOrder = info.offset('folio._folio_order');
  const folioDtor = info.offset('folio._folio_dtor');
  const orderOffset = folioOrder !== undefined ? folioOrder - sizePage : (info.offset('page.compound_order') ?? 0);
  const dtorOffset = folioDtor !== undefined ? folioDtor - sizePage : (info.offset('page.compound_dtor') ?? 0);
  const headMask = info.number('PG_head_mask') ?? 0;
  const i32 = (v: number | undefined) => (v === undefined ? undefined : v | 0);
  const offMapcount = info.offset('page._mapcount') ?? -1;
  const offPrivate = info.offset('page.private') ?? -1;
  const buddy = i32(info.number('PAGE_BUDDY_MAPCOUNT_VALUE'));
  return {
    sizePage,
    offFlags: need(info.offset('page.flags'), 'OFFSET(page.flags)'),
    offRefcount: need(info.offset('page._refcount') ?? info.offset('page._count'), 'OFFSET(page._refcount)'),
    offMapping: need(info.offset('page.mapping'), 'OFFSET(page.mapping)'),
    offMapcount,
    offPrivate,
    offCompoundHead: info.offset('page.compound_head') ?? -1,
    orderOffset,
    dtorOffset,
    pgLru: need(info.number('PG_lru'), 'NUMBER(PG_lru)'),
    pgPrivate: need(info.number('PG_private'), 'NUMBER(PG_private)'),
    pgSwapcache: need(info.number('PG_swapcache'), 'NUMBER(PG_swapcache)'),
    pgSwapbacked: info.number('PG_swapbacked') ?? -1,
    pgSlab: info.number('PG_slab') ?? -1,
    pgHwpoison: info.number('PG_hwpoison') ?? -1,
    pgHugetlb: info.number('PG_hugetlb') ?? -1,
    headMaskLo: (headMask % 2 ** 32) >>> 0,
    headMaskHi: Math.floor(headMask / 2 ** 32) >>> 0,
    buddy,
    offline: i32(info.number('PAGE_OFFLINE_MAPCOUNT_VALUE')),
    slab: i32(info.number('PAGE_SLAB_MAPCOUNT_VALUE')),
    hugetlbMapcount: i32(info.number('PAGE_HUGETLB_MAPCOUNT_VALUE')),
    unaccepted: i32(info.number('PAGE_UNACCEPTED_MAPCOUNT_VALUE')),
    hugetlbDtor: info.number('HUGETLB_PAGE_DTOR'),
    freeAreaLen: info.length('zone.free_area'),
    canBuddy: offPrivate >= 0 && buddy !== undefined && offMapcount >= 0,
  };
}

export interface ExcludeOptions {
  dumpLevel: number;
  /** pfn ranges [start, end) that back the kernel image: only free pages may be excluded there. */
  protect?: readonly [number, number][];
  /** The pfns the input has (makedumpfile's is_in_segs): the 1st bitmap's bytes (bit i = byte[i >> 3] & (1 << (i & 7))). */
  present: Uint8Array;
  warn?: (msg: string) => void;
  progress?: (done: number, total: number) => void;
}

const NONE = 2 ** 40; // never equal to an int32 field

/** Class codes (0 = keep), indexes of CLASS_KEYS. */
const C_KEEP = 0;
const C_FREE = 1;
const C_CACHE = 2;
const C_CACHE_PRIVATE = 3;
const C_USER = 4;
const C_HWPOISON = 5;
const C_OFFLINE = 6;
const CLASS_KEYS: (keyof ExclusionCounts)[] = ['zero', 'free', 'cache', 'cachePrivate', 'user', 'hwpoison', 'offline'];

/** A field's word index in an Int32Array over the struct pages; -1 when absent. */
function word(off: number, what: string): number {
  if (off < 0) return -1;
  if (off % 4 !== 0) throw new FilterError(`VMCOREINFO: ${what}=${off} is not 4-byte aligned: cannot classify pages`);
  return off / 4;
}

/** Number of set bits of each byte value. */
const POP = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP[i] = (i & 1) + POP[i >> 1]!;

/** Clear bits [from, to) of `bits` (bytes whole where it can); returns how many were set. */
function clearRange(bits: Uint8Array, maxPfn: number, from: number, to: number): number {
  let n = 0;
  let p = from;
  const end = Math.min(to, maxPfn);
  while (p < end && (p & 7) !== 0) {
    const i = Math.floor(p / 8);
    const m = 1 << (p & 7);
    if (bits[i]! & m) {
      bits[i] = bits[i]! & ~m;
      n++;
    }
    p++;
  }
  if (end - p >= 8) {
    const a = p / 8;
    const b = Math.floor(end / 8);
    for (let i = a; i < b; i++) {
      const v = bits[i]!;
      if (v !== 0) {
        n += POP[v]!;
        bits[i] = 0;
      }
    }
    p = b * 8;
  }
  while (p < end) {
    const i = Math.floor(p / 8);
    const m = 1 << (p & 7);
    if (bits[i]! & m) {
      bits[i] = bits[i]! & ~m;
      n++;
    }
    p++;
  }
  return n;
}

/** Are all bits [from, to) set? */
function allSet(bits: Uint8Array, from: number, to: number): boolean {
  for (let p = from; p < to; ) {
    if ((p & 7) === 0 && to - p >= 8) {
      if (bits[p / 8] !== 0xff) return false;
      p += 8;
    } else {
      if ((bits[Math.floor(p / 8)]! & (1 << (p & 7))) === 0) return false;
      p++;
    }
  }
  return true;
}

function isSet(bits: Uint8Array, p: number): boolean {
  return (bits[Math.floor(p / 8)]! & (1 << (p & 7))) !== 0;
}

/**
 * Clear bits of `bitmap` (the 2nd bitmap, initialised to the pages present)
 * for every page the dump level excludes. Returns the counters.
 *
 * This runs once per command, cold: the loop over struct pages is written for V8's first tiers (one function, the
 * fields read through an Int32Array over the buffer of struct pages, numbers only, no call per page), so that it
 * is quick before the optimizing compiler has seen it.
 */
export function excludeUnnecessaryPages(
  kmem: KernelMemory,
  info: VmcoreinfoTable,
  ranges: readonly MemMapRange[],
  bitmap: Bitmap,
  opts: ExcludeOptions,
): ExclusionCounts {
  const L = layoutOf(info);
  const counts = newCounts();
  const level = opts.dumpLevel;
  const warn = opts.warn ?? (() => {});
  if (level & DL_EXCLUDE_FREE && !L.canBuddy) {
    warn(
      'free pages cannot be identified from VMCOREINFO (no PAGE_BUDDY_MAPCOUNT_VALUE/_mapcount/private); they are kept',
    );
  }
  // the protected ranges as flat numbers, with their overall bounds for a quick miss
  const protect = opts.protect ?? [];
  const prot = new Float64Array(protect.length * 2);
  let protLo = Number.POSITIVE_INFINITY;
  let protHi = -1;
  protect.forEach(([a, b], i) => {
    prot[2 * i] = a;
    prot[2 * i + 1] = b;
    protLo = Math.min(protLo, a);
    protHi = Math.max(protHi, b);
  });
  const nProt = prot.length;
  const present = opts.present;
  const bits = bitmap.bytes;
  const maxPfn = bitmap.nbits;
  const size = L.sizePage;
  const sizeW = word(size, 'SIZE(page)');
  const cache = new Uint8Array(size * PGMM_CACHED);
  const i32 = new Int32Array(cache.buffer);
  const tally = new Float64Array(8);

  // the layout as locals (word indexes into i32, byte offsets into cache)
  const flW = word(L.offFlags, 'OFFSET(page.flags)');
  const mcW = word(L.offMapcount, 'OFFSET(page._mapcount)');
  const prW = word(L.offPrivate, 'OFFSET(page.private)');
  const chW = word(L.offCompoundHead, 'OFFSET(page.compound_head)');
  const orderOffset = L.orderOffset;
  const dtorOffset = L.dtorOffset;
  const bit = (nr: number) => (nr >= 0 && nr < 32 ? 1 << nr : 0);
  const maskLru = bit(L.pgLru);
  const maskPrivate = bit(L.pgPrivate);
  const maskSwapcache = bit(L.pgSwapcache);
  const maskSwapbacked = bit(L.pgSwapbacked); // 0: PG_swapbacked unknown (swapcache alone decides)
  const maskSlab = bit(L.pgSlab);
  const maskHwpoison = bit(L.pgHwpoison);
  const maskHugetlb = bit(L.pgHugetlb);
  const headLo = L.headMaskLo | 0;
  const headHi = L.headMaskHi | 0;
  const buddy = L.canBuddy && L.buddy !== undefined ? L.buddy : NONE;
  const offline = L.offline ?? NONE;
  const slabV = L.slab ?? NONE;
  const hugetlbMapcount = L.hugetlbMapcount ?? NONE;
  const unaccepted = L.unaccepted ?? NONE;
  const hugetlbDtor = L.hugetlbDtor ?? NONE;
  const freeAreaLen = L.freeAreaLen ?? NONE;
  // 0: order/dtor offsets, 1: PG_hugetlb in _flags_1, 2: PAGE_HUGETLB_MAPCOUNT_VALUE
  const mode = L.hugetlbMapcount !== undefined ? 2 : L.pgHugetlb >= 0 ? 1 : 0;
  const exFree = (level & DL_EXCLUDE_FREE) !== 0;
  const exCache = (level & DL_EXCLUDE_CACHE) !== 0;
  const exCachePri = (level & DL_EXCLUDE_CACHE_PRI) !== 0;
  const exUser = (level & DL_EXCLUDE_USER_DATA) !== 0;
  const sizeBig = BigInt(size);

  // The pages of one block of struct pages (read into `cache` from `first`): a function of its own, small enough
  // for V8 to optimize soon, since it runs once per 512 pages (the whole pass runs once per command, cold).
  const scanBlock = (first: number, blockEnd: number, whole: boolean): number => {
    let pfn = first;
    while (pfn < blockEnd) {
      if (!whole && !isSet(present, pfn)) {
        pfn++;
        continue;
      }
      const w = (pfn - first) * sizeW;
      // the decision for one struct page (makedumpfile's __exclude_unnecessary_pages): cls, and nr pages
      if (chW >= 0 && (i32[w + chW]! & 1) === 1) {
        pfn++; // a tail page: its head decided
        continue;
      }
      const flags = i32[w + flW]!;
      const mapcount = mcW >= 0 ? i32[w + mcW]! : 0;
      const slab = mapcount === slabV || (flags & maskSlab) !== 0;
      let cls = C_KEEP;
      let nr = 1;
      if (exFree && mapcount === buddy && !slab) {
        const priv = prW >= 0 ? (i32[w + prW]! >>> 0) + (i32[w + prW + 1]! >>> 0) * 4294967296 : 0;
        if (priv >= freeAreaLen) {
          warn(
            `WARNING: Invalid free page order: pfn=${pfn.toString(16)}, order=${priv}, max order=${freeAreaLen - 1}`,
          );
          pfn++;
          continue;
        }
        cls = C_FREE;
        nr = priv < 31 ? 1 << priv : 2 ** priv; // a small integer, not a boxed double
      } else if (exFree && mapcount === unaccepted && freeAreaLen !== NONE) {
        cls = C_FREE;
        nr = 2 ** (freeAreaLen - 1);
      } else {
        let order = 0;
        let hugetlb = false;
        const idx = pfn % PGMM_CACHED;
        if (
          idx < PGMM_CACHED - 1 &&
          pfn + 1 < blockEnd &&
          ((flags & headLo) !== 0 || (i32[w + flW + 1]! & headHi) !== 0)
        ) {
          const n = (pfn - first + 1) * size;
          if (mode === 2) {
            order = cache[n + L.offFlags]!;
            hugetlb = mapcount === hugetlbMapcount;
          } else if (mode === 1) {
            const f1 = i32[(n >> 2) + flW]!;
            order = f1 & 0xff;
            hugetlb = (f1 & maskHugetlb) !== 0;
          } else {
            if (orderOffset) order = cache[n + orderOffset]!;
            if (dtorOffset) hugetlb = cache[n + dtorOffset] === hugetlbDtor;
          }
          if (order >= 64 || pfn % (order < 31 ? 1 << order : 2 ** order) !== 0) order = 0;
        }
        nr = order < 31 ? 1 << order : 2 ** order;
        const anon = (cache[w * 4 + L.offMapping]! & 1) === 1 && !slab;
        const cachePage =
          (flags & maskLru) !== 0 ||
          ((maskSwapbacked === 0 || (flags & maskSwapbacked) !== 0) && (flags & maskSwapcache) !== 0);
        const privateFlag = (flags & maskPrivate) !== 0;
        if (exCache && cachePage && !privateFlag && !anon) cls = C_CACHE;
        else if (exCachePri && cachePage && !anon) cls = privateFlag ? C_CACHE_PRIVATE : C_CACHE;
        else if (exUser && (anon || hugetlb)) cls = C_USER;
        else if ((flags & maskHwpoison) !== 0) cls = C_HWPOISON;
        else if (mapcount === offline && !slab) cls = C_OFFLINE;
      }
      if (cls === C_KEEP) {
        pfn++;
        continue;
      }
      let kept = false;
      // Free pages hold nothing of the image, and a hwpoisoned page is never read back, even inside the
      // kernel image: reading it could raise another machine check (makedumpfile excludes it always).
      if (cls !== C_FREE && cls !== C_HWPOISON && pfn < protHi && pfn + nr > protLo) {
        for (let k = 0; k < nProt; k += 2) if (pfn < prot[k + 1]! && pfn + nr > prot[k]!) kept = true;
      }
      if (kept) counts.keptKernelImage += nr;
      else tally[cls] += clearRange(bits, maxPfn, pfn, pfn + nr);
      pfn += nr;
    }
    return pfn;
  };

  let rangeNo = 0;
  for (const r of ranges) {
    opts.progress?.(rangeNo++, ranges.length);
    for (let block = r.pfnStart; block < r.pfnEnd; ) {
      // one block of struct pages up to the next PGMM_CACHED boundary (makedumpfile's cache)
      const blockEnd = Math.min(r.pfnEnd, (Math.floor(block / PGMM_CACHED) + 1) * PGMM_CACHED);
      let first = block;
      while (first < blockEnd && !isSet(present, first)) first++;
      if (first === blockEnd) {
        block = blockEnd;
        continue;
      }
      const count = blockEnd - first;
      const whole = allSet(present, first, blockEnd);
      try {
        kmem.read(r.memMap + BigInt(first - r.pfnStart) * sizeBig, count * size, cache, 0);
      } catch (e) {
        warn(
          `can't read struct page for pfn 0x${first.toString(16)}..0x${(blockEnd - 1).toString(16)}: ${(e as Error).message}; kept`,
        );
        block = blockEnd;
        continue;
      }
      const pfn = scanBlock(first, blockEnd, whole);
      // a compound or buddy block may run past this block: continue after it
      block = Math.max(blockEnd, pfn);
    }
  }
  for (let c = 1; c < CLASS_KEYS.length; c++) counts[CLASS_KEYS[c]!] += tally[c]!;
  opts.progress?.(ranges.length, ranges.length);
  return counts;
}
