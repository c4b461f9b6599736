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
  /** Only pfns the input has (makedumpfile's is_in_segs). */
  hasPfn: (pfn: number) => boolean;
  warn?: (msg: string) => void;
  progress?: (done: number, total: number) => void;
}

const NONE = 2 ** 40; // never equal to an int32 field

/** Class codes returned by Classifier.classify (0 = keep). */
const C_KEEP = 0;
const C_FREE = 1;
const C_CACHE = 2;
const C_CACHE_PRIVATE = 3;
const C_USER = 4;
const C_HWPOISON = 5;
const C_OFFLINE = 6;
const C_BAD_ORDER = 7;
const CLASS_KEYS: (keyof ExclusionCounts)[] = ['zero', 'free', 'cache', 'cachePrivate', 'user', 'hwpoison', 'offline'];

/**
 * The decision for one struct page, in a small monomorphic object so that V8
 * optimizes it early (the CLI runs this loop once, cold). Returns
 * class + 8 * nr_pages, C_KEEP for pages to keep.
 */
class Classifier {
  readonly offFlags: number;
  readonly offMapping: number;
  readonly offMapcount: number;
  readonly offPrivate: number;
  readonly offCompoundHead: number;
  readonly orderOffset: number;
  readonly dtorOffset: number;
  readonly maskLru: number;
  readonly maskPrivate: number;
  readonly maskSwapcache: number;
  readonly maskSwapbacked: number; // 0: PG_swapbacked unknown (swapcache alone decides)
  readonly maskSlab: number;
  readonly maskHwpoison: number;
  readonly maskHugetlb: number;
  readonly headMaskLo: number;
  readonly headMaskHi: number;
  readonly buddy: number;
  readonly offline: number;
  readonly slab: number;
  readonly hugetlbMapcount: number;
  readonly unaccepted: number;
  readonly hugetlbDtor: number;
  readonly freeAreaLen: number;
  readonly mode: number; // 0: order/dtor offsets, 1: PG_hugetlb in _flags_1, 2: PAGE_HUGETLB_MAPCOUNT_VALUE
  readonly exFree: boolean;
  readonly exCache: boolean;
  readonly exCachePri: boolean;
  readonly exUser: boolean;
  /** The order found by the last classify() of a free page that was out of range (for the warning). */
  badOrder = 0;

  constructor(
    readonly size: number,
    L: Layout,
    level: number,
  ) {
    const bit = (nr: number) => (nr >= 0 && nr < 32 ? (1 << nr) >>> 0 : 0);
    this.offFlags = L.offFlags;
    this.offMapping = L.offMapping;
    this.offMapcount = L.offMapcount;
    this.offPrivate = L.offPrivate;
    this.offCompoundHead = L.offCompoundHead;
    this.orderOffset = L.orderOffset;
    this.dtorOffset = L.dtorOffset;
    this.maskLru = bit(L.pgLru);
    this.maskPrivate = bit(L.pgPrivate);
    this.maskSwapcache = bit(L.pgSwapcache);
    this.maskSwapbacked = bit(L.pgSwapbacked);
    this.maskSlab = bit(L.pgSlab);
    this.maskHwpoison = bit(L.pgHwpoison);
    this.maskHugetlb = bit(L.pgHugetlb);
    this.headMaskLo = L.headMaskLo;
    this.headMaskHi = L.headMaskHi;
    this.buddy = L.canBuddy && L.buddy !== undefined ? L.buddy : NONE;
    this.offline = L.offline ?? NONE;
    this.slab = L.slab ?? NONE;
    this.hugetlbMapcount = L.hugetlbMapcount ?? NONE;
    this.unaccepted = L.unaccepted ?? NONE;
    this.hugetlbDtor = L.hugetlbDtor ?? NONE;
    this.freeAreaLen = L.freeAreaLen ?? NONE;
    this.mode = L.hugetlbMapcount !== undefined ? 2 : L.pgHugetlb >= 0 ? 1 : 0;
    this.exFree = (level & DL_EXCLUDE_FREE) !== 0;
    this.exCache = (level & DL_EXCLUDE_CACHE) !== 0;
    this.exCachePri = (level & DL_EXCLUDE_CACHE_PRI) !== 0;
    this.exUser = (level & DL_EXCLUDE_USER_DATA) !== 0;
  }

  /** `next`: the next struct page is in the buffer (compound head checks read it). */
  classify(dv: DataView, o: number, pfn: number, next: boolean): number {
    if (this.offCompoundHead >= 0 && (dv.getUint32(o + this.offCompoundHead, true) & 1) === 1) return C_KEEP; // tail
    const flags = dv.getUint32(o + this.offFlags, true);
    const flagsHi = dv.getUint32(o + this.offFlags + 4, true);
    const mapcount = this.offMapcount >= 0 ? dv.getInt32(o + this.offMapcount, true) : 0;
    const slab = mapcount === this.slab || (flags & this.maskSlab) !== 0;
    if (this.exFree && mapcount === this.buddy && !slab) {
      const priv =
        this.offPrivate >= 0
          ? dv.getUint32(o + this.offPrivate, true) + dv.getUint32(o + this.offPrivate + 4, true) * 4294967296
          : 0;
      if (priv >= this.freeAreaLen) {
        this.badOrder = priv;
        return C_BAD_ORDER;
      }
      return C_FREE + 8 * 2 ** priv;
    }
    if (this.exFree && mapcount === this.unaccepted) return C_FREE + 8 * 2 ** (this.freeAreaLen - 1);
    let order = 0;
    let hugetlb = false;
    if (next && ((flags & this.headMaskLo) !== 0 || (flagsHi & this.headMaskHi) !== 0)) {
      const n = o + this.size;
      if (this.mode === 2) {
        order = dv.getUint8(n + this.offFlags);
        hugetlb = mapcount === this.hugetlbMapcount;
      } else if (this.mode === 1) {
        const f1 = dv.getUint32(n + this.offFlags, true);
        order = f1 & 0xff;
        hugetlb = (f1 & this.maskHugetlb) !== 0;
      } else {
        if (this.orderOffset) order = dv.getUint8(n + this.orderOffset);
        if (this.dtorOffset) hugetlb = dv.getUint8(n + this.dtorOffset) === this.hugetlbDtor;
      }
      if (order >= 64 || pfn % 2 ** order !== 0) order = 0;
    }
    const nr = 8 * 2 ** order;
    const anon = (dv.getUint8(o + this.offMapping) & 1) === 1 && !slab;
    const cachePage =
      (flags & this.maskLru) !== 0 ||
      ((this.maskSwapbacked === 0 || (flags & this.maskSwapbacked) !== 0) && (flags & this.maskSwapcache) !== 0);
    const privateFlag = (flags & this.maskPrivate) !== 0;
    if (this.exCache && cachePage && !privateFlag && !anon) return C_CACHE + nr;
    if (this.exCachePri && cachePage && !anon) return (privateFlag ? C_CACHE_PRIVATE : C_CACHE) + nr;
    if (this.exUser && (anon || hugetlb)) return C_USER + nr;
    if ((flags & this.maskHwpoison) !== 0) return C_HWPOISON + nr;
    if (mapcount === this.offline && !slab) return C_OFFLINE + nr;
    return C_KEEP;
  }
}

function clearRange(bits: Uint8Array, maxPfn: number, from: number, to: number): number {
  let n = 0;
  const end = Math.min(to, maxPfn);
  for (let p = from; p < end; p++) {
    const m = 1 << (p & 7);
    const i = Math.floor(p / 8);
    if (bits[i]! & m) {
      bits[i] = bits[i]! & ~m;
      n++;
    }
  }
  return n;
}

/**
 * Clear bits of `bitmap` (the 2nd bitmap, initialised to the pages present)
 * for every page the dump level excludes. Returns the counters.
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
  const protect = opts.protect ?? [];
  const bits = bitmap.bytes;
  const maxPfn = bitmap.nbits;
  const size = L.sizePage;
  const cache = new Uint8Array(size * PGMM_CACHED);
  const dv = new DataView(cache.buffer);
  const cl = new Classifier(size, L, level);
  const tally = new Float64Array(8);

  let rangeNo = 0;
  for (const r of ranges) {
    opts.progress?.(rangeNo++, ranges.length);
    for (let block = r.pfnStart; block < r.pfnEnd; ) {
      // one block of struct pages up to the next PGMM_CACHED boundary (makedumpfile's cache)
      const blockEnd = Math.min(r.pfnEnd, (Math.floor(block / PGMM_CACHED) + 1) * PGMM_CACHED);
      let first = block;
      while (first < blockEnd && !opts.hasPfn(first)) first++;
      if (first === blockEnd) {
        block = blockEnd;
        continue;
      }
      const count = blockEnd - first;
      try {
        kmem.read(r.memMap + BigInt(first - r.pfnStart) * BigInt(size), count * size, cache, 0);
      } catch (e) {
        warn(
          `can't read struct page for pfn 0x${first.toString(16)}..0x${(blockEnd - 1).toString(16)}: ${(e as Error).message}; kept`,
        );
        block = blockEnd;
        continue;
      }
      let pfn = first;
      while (pfn < blockEnd) {
        if (!opts.hasPfn(pfn)) {
          pfn++;
          continue;
        }
        const idx = pfn % PGMM_CACHED;
        const code = cl.classify(dv, (pfn - first) * size, pfn, idx < PGMM_CACHED - 1 && pfn + 1 < blockEnd);
        if (code === C_KEEP) {
          pfn++;
          continue;
        }
        if (code === C_BAD_ORDER) {
          warn(
            `WARNING: Invalid free page order: pfn=${pfn.toString(16)}, order=${cl.badOrder}, max order=${cl.freeAreaLen - 1}`,
          );
          pfn++;
          continue;
        }
        const cls = code % 8;
        const nrPages = (code - cls) / 8;
        let kept = false;
        // Free pages hold nothing of the image, and a hwpoisoned page is never read back, even inside the
        // kernel image: reading it could raise another machine check (makedumpfile excludes it always).
        if (cls !== C_FREE && cls !== C_HWPOISON) {
          for (const [s, e] of protect) if (pfn < e && pfn + nrPages > s) kept = true;
        }
        if (kept) counts.keptKernelImage += nrPages;
        else tally[cls] += clearRange(bits, maxPfn, pfn, pfn + nrPages);
        pfn += nrPages;
      }
      // a compound or buddy block may run past this block: continue after it
      block = Math.max(blockEnd, pfn);
    }
  }
  for (let c = 1; c < CLASS_KEYS.length; c++) counts[CLASS_KEYS[c]!] += tally[c]!;
  opts.progress?.(ranges.length, ranges.length);
  return counts;
}
