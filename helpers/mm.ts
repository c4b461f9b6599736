/**
 * Memory management: the mem_map (SPARSEMEM sections, or a FLATMEM array),
 * struct page fields and flags, nodes and zones, vm_stat counters, vmalloc
 * areas, and the figures of crash's `kmem -i` computed the way crash 8.0.2
 * computes them (memory.c dump_kmeminfo).
 */
import { LookupError, TscrashError } from '../core/errors.js';
import { type Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listForEach, rbInorder } from './lists.js';
import { perCpuAddress } from './percpu.js';

const MASK64 = (1n << 64n) - 1n;

/* ------------------------------------------------------------------ mem_map */

/** One memory section of the sparse memory model: its number, mem_map and first pfn. */
export interface MemSection {
  nr: number;
  /** The struct page of the section's first pfn. */
  memMap: bigint;
  startPfn: bigint;
}

/** Where each pfn's struct page is: the valid sections of a SPARSEMEM kernel, or FLATMEM's mem_map. */
export class MemMap {
  readonly pageStructSize: number;
  readonly pageSize: bigint;
  readonly pageShift: bigint;
  readonly pagesPerSection: number;
  readonly sections: MemSection[];
  private readonly byNr = new Map<number, MemSection>();

  constructor(
    readonly prog: Program,
    sections: MemSection[],
    pagesPerSection: number,
  ) {
    this.pageStructSize = prog.sizeof('struct page');
    this.pageSize = BigInt(prog.memory.pageSize);
    this.pageShift = BigInt(Math.log2(prog.memory.pageSize));
    this.pagesPerSection = pagesPerSection;
    this.sections = sections;
    for (const s of sections) this.byNr.set(s.nr, s);
  }

  /** struct page address of a pfn, when the pfn has one. */
  pfnToPage(pfn: bigint): bigint | undefined {
    const s = this.byNr.get(Number(pfn / BigInt(this.pagesPerSection)));
    if (!s) return undefined;
    return (s.memMap + (pfn - s.startPfn) * BigInt(this.pageStructSize)) & MASK64;
  }

  /** The pfn a struct page address describes (undefined unless it is exactly a struct page of a valid section). */
  pageToPfn(page: bigint): bigint | undefined {
    const sz = BigInt(this.pageStructSize);
    const span = BigInt(this.pagesPerSection) * sz;
    for (const s of this.sections) {
      if (page >= s.memMap && page < s.memMap + span) {
        const d = page - s.memMap;
        if (d % sz !== 0n) return undefined;
        return s.startPfn + d / sz;
      }
    }
    return undefined;
  }

  /** Whether an address is a struct page in the memory map. */
  isPagePtr(addr: bigint): boolean {
    return this.pageToPfn(addr) !== undefined;
  }

  /** The physical address of a struct page. */
  pageToPhys(page: bigint): bigint | undefined {
    const pfn = this.pageToPfn(page);
    return pfn === undefined ? undefined : pfn << this.pageShift;
  }

  /** The struct page of a physical address. */
  physToPage(phys: bigint): bigint | undefined {
    return this.pfnToPage(phys >> this.pageShift);
  }

  /**
   * Every struct page of every valid section, read a chunk at a time: `fn(page, pfn, bytes, offset)`
   * with `bytes` holding the struct page at `offset`. Unreadable chunks are skipped.
   */
  forEachPage(fn: (page: bigint, pfn: bigint, bytes: Uint8Array, offset: number) => void): void {
    this.forEachChunk((base, pfn, b, n) => {
      const sz = this.pageStructSize;
      for (let j = 0; j < n; j++) fn(base + BigInt(j * sz), pfn + BigInt(j), b, j * sz);
    });
  }

  /**
   * Start decoding the memory map's pages off the main thread, for a walk of all of it soon after (kmem -i, the
   * triage): resolves when they are cached. A memory map larger than the page cache can hold is left alone.
   */
  prefetch(): Promise<number> {
    const bytes = this.sections.length * this.pagesPerSection * this.pageStructSize;
    const maxPages = 4096;
    if (bytes > maxPages * this.prog.memory.pageSize) return Promise.resolve(0);
    const size = this.pagesPerSection * this.pageStructSize;
    return this.prog.memory.prefetchVirt(
      this.sections.map((s) => ({ start: s.memMap, size })),
      maxPages,
    );
  }

  /**
   * The memory map a chunk at a time, for walks that count: `fn(page, pfn, bytes, n)` with `n` struct pages
   * back to back in `bytes` from offset 0, the first of them at `page` describing `pfn`. Unreadable chunks are
   * skipped.
   */
  forEachChunk(fn: (page: bigint, pfn: bigint, bytes: Uint8Array, n: number) => void): void {
    const sz = this.pageStructSize;
    const perChunk = 1024;
    for (const s of this.sections) {
      for (let i = 0; i < this.pagesPerSection; i += perChunk) {
        const n = Math.min(perChunk, this.pagesPerSection - i);
        const base = s.memMap + BigInt(i * sz);
        const b = this.prog.memory.tryReadVirt(base, n * sz, 'mem_map');
        if (!b) continue;
        fn(base, s.startPfn + BigInt(i), b, n);
      }
    }
  }
}

const memMapCache = new WeakMap<Program, MemMap>();

function vmcoreNumber(prog: Program, name: string): number | undefined {
  const v = prog.vmcoreinfo.numbers.get(name);
  return v === undefined ? undefined : Number(v);
}

/** The kernel's mem_map: SPARSEMEM (extreme or static mem_section) or FLATMEM. */
export function memMap(prog: Program): MemMap {
  const hit = memMapCache.get(prog);
  if (hit) return hit;
  let mm: MemMap;
  if (prog.hasVariable('mem_section')) mm = sparseMemMap(prog);
  else if (prog.hasVariable('mem_map')) {
    const start = prog.variable('mem_map').value();
    const max = prog.hasVariable('max_mapnr') ? prog.variable('max_mapnr').value() : 0n;
    const pps = Number(max || 1n);
    mm = new MemMap(prog, [{ nr: 0, memMap: start, startPfn: 0n }], pps);
  } else throw new TscrashError('neither mem_section (SPARSEMEM) nor mem_map (FLATMEM) is in this kernel');
  memMapCache.set(prog, mm);
  return mm;
}

function sparseMemMap(prog: Program): MemMap {
  const pageShift = Math.log2(prog.memory.pageSize);
  const sectionBits = vmcoreNumber(prog, 'SECTION_SIZE_BITS') ?? 27;
  const physBits = vmcoreNumber(prog, 'MAX_PHYSMEM_BITS') ?? (prog.memory.levels === 5 ? 52 : 46);
  const pagesPerSection = 2 ** (sectionBits - pageShift);
  const nrSections = 2 ** (physBits - sectionBits);
  const msT = prog.type('struct mem_section');
  const msSize = prog.sizeof('struct mem_section');
  const mapOff = prog.offsetOf(msT, 'section_mem_map');
  // SECTION_MAP_LAST_BIT is an enumerator (the bit number) since 5.12; before, the mask 1<<4 or 1<<3.
  let lastBit = 4n;
  try {
    lastBit = prog.constant('SECTION_MAP_LAST_BIT');
  } catch (e) {
    if (!(e instanceof LookupError)) throw e;
  }
  let hasMemMapBit = 1n << 1n;
  try {
    hasMemMapBit = 1n << prog.constant('SECTION_HAS_MEM_MAP_BIT');
  } catch (e) {
    if (!(e instanceof LookupError)) throw e;
  }
  const mapMask = ~((1n << lastBit) - 1n) & MASK64;
  const v = prog.variable('mem_section');
  const vt = strip(v.type);
  const perRoot = vt.kind === 'pointer' ? Math.floor(prog.memory.pageSize / msSize) : undefined;
  const sections: MemSection[] = [];
  const pageSz = BigInt(prog.sizeof('struct page'));
  const mem = prog.memory;
  const addSection = (nr: number, addr: bigint): void => {
    const coded = mem.readU64(addr + BigInt(mapOff), 'mem_section.section_mem_map');
    if (!(coded & hasMemMapBit)) return;
    const startPfn = BigInt(nr) * BigInt(pagesPerSection);
    sections.push({ nr, memMap: ((coded & mapMask) + startPfn * pageSz) & MASK64, startPfn });
  };
  if (perRoot !== undefined) {
    // SPARSEMEM_EXTREME: mem_section is an array of NR_SECTION_ROOTS pointers to pages of sections.
    const roots = Math.ceil(nrSections / perRoot);
    const base = v.value();
    if (base === 0n) throw new TscrashError('mem_section is NULL');
    const rootBytes = mem.readVirt(base, roots * 8, 'mem_section roots');
    const dv = new DataView(rootBytes.buffer, rootBytes.byteOffset, rootBytes.byteLength);
    for (let r = 0; r < roots; r++) {
      const root = dv.getBigUint64(r * 8, true);
      if (root === 0n) continue;
      for (let i = 0; i < perRoot; i++) addSection(r * perRoot + i, root + BigInt(i * msSize));
    }
  } else {
    const base = v.address as bigint;
    const count = vt.kind === 'array' ? vt.counts.reduce<number>((a, c) => a * (c ?? 1), 1) : nrSections;
    for (let i = 0; i < Math.min(count, nrSections); i++) addSection(i, base + BigInt(i * msSize));
  }
  return new MemMap(prog, sections, pagesPerSection);
}

/* ------------------------------------------------------------- struct page */

/** A page flag bit and its name (from the kernel's pageflag_names). */
export interface PageFlagName {
  mask: bigint;
  name: string;
}

const flagNameCache = new WeakMap<Program, PageFlagName[]>();

/**
 * The page flag names crash prints: the kernel's pageflag_names[] table (mm/debug.c) when
 * present, else the enum pageflags up to __NR_PAGEFLAGS with "PG_" removed.
 */
export function pageFlagNames(prog: Program): PageFlagName[] {
  const hit = flagNameCache.get(prog);
  if (hit) return hit;
  const out: PageFlagName[] = [];
  if (prog.hasVariable('pageflag_names')) {
    const arr = prog.variable('pageflag_names');
    const t = strip(arr.type);
    const n = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
    for (let i = 0; i < n; i++) {
      const e = arr.index(i);
      const mask = e.member('mask').value();
      const np = e.member('name');
      if (np.isNull()) break;
      out.push({ mask, name: np.string(64) });
    }
  }
  if (out.length === 0) {
    const t = strip(prog.type('enum pageflags'));
    if (t.kind !== 'enum') throw new TscrashError('enum pageflags is not an enum');
    const limit = t.values.find(([n]) => n === '__NR_PAGEFLAGS')?.[1];
    for (const [name, v] of t.values) {
      if (name === '__NR_PAGEFLAGS') break;
      if (limit !== undefined && BigInt(v) >= BigInt(limit)) continue;
      out.push({ mask: 1n << BigInt(v), name: name.replace(/^PG_/, '') });
    }
  }
  flagNameCache.set(prog, out);
  return out;
}

/** crash's rendering of page flags: the hex value, then the set flags' names. */
export function formatPageFlags(prog: Program, flags: bigint): string {
  let s = flags.toString(16);
  if (flags) {
    const names = pageFlagNames(prog)
      .filter((f) => flags & f.mask)
      .map((f) => f.name);
    if (names.length) s += ` ${names.join(',')}`;
  }
  return s;
}

/** The offsets of struct page's members this kernel has (flags, mapping, index, _refcount, _mapcount ...). */
export interface PageFields {
  flags: number;
  refcount: number;
  mapping: number;
  index: number;
  compoundHead?: number;
  /** Byte width of page.flags (4 on some 32-bit builds). */
  flagsSize: number;
}

const pageFieldCache = new WeakMap<Program, PageFields>();

/** Offsets of the struct page fields kmem reads (page._refcount was page._count before 4.6). */
export function pageFields(prog: Program): PageFields {
  const hit = pageFieldCache.get(prog);
  if (hit) return hit;
  const t = prog.type('struct page');
  const off = (m: string): number | undefined => (prog.hasMember('struct page', m) ? prog.offsetOf(t, m) : undefined);
  const refcount = off('_refcount') ?? off('_count');
  const flags = off('flags');
  const mapping = off('mapping');
  const index = off('index');
  if (refcount === undefined || flags === undefined || mapping === undefined || index === undefined) {
    throw new TscrashError('struct page lacks flags, _refcount, mapping or index');
  }
  const r: PageFields = { flags, refcount, mapping, index, compoundHead: off('compound_head'), flagsSize: 8 };
  pageFieldCache.set(prog, r);
  return r;
}

/** A struct page read: its address, pfn, physical address, flags, reference count, mapping and index. */
export interface PageInfo {
  page: bigint;
  pfn: bigint;
  phys: bigint;
  flags: bigint;
  count: number;
  mapping: bigint;
  index: bigint;
}

/** The struct page at `page`: its flags, mapping, index, counts and pfn. */
export function readPage(prog: Program, page: bigint): PageInfo {
  const mm = memMap(prog);
  const pfn = mm.pageToPfn(page);
  if (pfn === undefined) throw new TscrashError(`0x${page.toString(16)} is not a struct page address`);
  const f = pageFields(prog);
  const b = prog.memory.readVirt(page, mm.pageStructSize, 'struct page');
  return decodePage(page, pfn, mm.pageShift, f, b, 0);
}

/** A struct page's fields from its bytes (`b` at offset `o`), for walks that read many pages at once. */
export function decodePage(
  page: bigint,
  pfn: bigint,
  pageShift: bigint,
  f: PageFields,
  b: Uint8Array,
  o: number,
): PageInfo {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    page,
    pfn,
    phys: pfn << pageShift,
    flags: dv.getBigUint64(o + f.flags, true),
    count: dv.getInt32(o + f.refcount, true),
    mapping: dv.getBigUint64(o + f.mapping, true),
    index: dv.getBigUint64(o + f.index, true),
  };
}

/** The head page of a compound page (the page itself otherwise). */
export function compoundHead(prog: Program, page: bigint): bigint {
  const f = pageFields(prog);
  if (f.compoundHead !== undefined) {
    const v = prog.memory.readU64(page + BigInt(f.compoundHead), 'page.compound_head');
    if (v & 1n) return v - 1n;
  }
  return page;
}

/** Bit number of a page flag (PG_slab, PG_reserved...) from the enum; undefined when this kernel lacks it. */
export function pageFlagBit(prog: Program, name: string): bigint | undefined {
  try {
    return prog.constant(name);
  } catch (e) {
    if (e instanceof LookupError) return undefined;
    throw e;
  }
}

/** struct page of a kernel direct-map (or any mapped) virtual address. */
export function virtToPage(prog: Program, vaddr: bigint): bigint | undefined {
  let phys: bigint;
  try {
    phys = prog.memory.virtToPhys(vaddr);
  } catch {
    return undefined;
  }
  return memMap(prog).physToPage(phys);
}

/** Direct-map virtual address of a physical address. */
export function physToVirt(prog: Program, phys: bigint): bigint {
  const base = prog.memory.pageOffsetBase;
  if (base === undefined) throw new TscrashError('the direct map base (page_offset_base) is unknown');
  return (base + phys) & MASK64;
}

/* ---------------------------------------------------------- nodes and zones */

/** A memory zone: its node, index, struct zone, name, start pfn, spanned, present, managed and free pages. */
export interface ZoneInfo {
  node: number;
  index: number;
  obj: Obj;
  name: string;
  startPfn: bigint;
  spanned: bigint;
  present: bigint;
  managed: bigint;
  free: bigint;
}

/** The online nodes' pglist_data: node_data[] on NUMA kernels, contig_page_data otherwise. */
export function onlineNodes(prog: Program): { id: number; pgdat: Obj }[] {
  if (prog.hasVariable('node_data')) {
    const nd = prog.variable('node_data');
    const t = strip(nd.type);
    const max = t.kind === 'array' ? (t.counts[0] ?? 1) : 1;
    let ids: number[] = [];
    if (prog.hasVariable('node_states')) {
      try {
        const bits = prog
          .variable('node_states')
          .index(Number(prog.constant('N_ONLINE')))
          .member('bits');
        for (let w = 0; w * 64 < max; w++) {
          const word = bits.index(w).value();
          for (let b = 0; b < 64 && w * 64 + b < max; b++) if ((word >> BigInt(b)) & 1n) ids.push(w * 64 + b);
        }
      } catch (e) {
        if (!(e instanceof LookupError)) throw e;
        ids = [];
      }
    }
    if (ids.length === 0) ids = Array.from({ length: max }, (_, i) => i);
    const out: { id: number; pgdat: Obj }[] = [];
    for (const id of ids) {
      const p = nd.index(id);
      if (!p.isNull()) out.push({ id, pgdat: p.deref() });
    }
    return out;
  }
  if (prog.hasVariable('contig_page_data')) return [{ id: 0, pgdat: prog.variable('contig_page_data') }];
  throw new TscrashError('no node_data or contig_page_data in this kernel');
}

function atomicValue(o: Obj): bigint {
  return o.hasMember('counter') ? o.member('counter').value() : o.value();
}

/** Every zone of every online node (empty zones included), with its NR_FREE_PAGES. */
export function zones(prog: Program): ZoneInfo[] {
  const out: ZoneInfo[] = [];
  const nrFree = Number(prog.constant('NR_FREE_PAGES'));
  for (const { id, pgdat } of onlineNodes(prog)) {
    const nz = pgdat.member('node_zones');
    const t = strip(nz.type);
    const n = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
    for (let i = 0; i < n; i++) {
      const z = nz.index(i);
      const namep = z.member('name');
      const free = z.hasMember('vm_stat')
        ? atomicValue(z.member('vm_stat').index(nrFree))
        : z.member('free_pages').value();
      out.push({
        node: id,
        index: i,
        obj: z,
        name: namep.isNull() ? '(unknown)' : namep.string(32),
        startPfn: z.member('zone_start_pfn').value(),
        spanned: z.member('spanned_pages').value(),
        present: z.member('present_pages').value(),
        managed: z.hasMember('managed_pages') ? atomicValue(z.member('managed_pages')) : 0n,
        free,
      });
    }
  }
  return out;
}

/** A free buddy block that holds an address: its zone, order, first page. */
export interface FreeBlock {
  zone: ZoneInfo;
  /** The zone's mem_map start (0 for an empty zone) and its index from the node's first page. */
  zoneMemMap: bigint;
  zoneStartMapnr: bigint;
  order: number;
  /** Address of the free_area[order].free_list[type] list head holding the block. */
  freeList: bigint;
  /** The block's first struct page. */
  page: bigint;
  /** Which page of the block holds the address (0-based). */
  pageIndex: bigint;
}

/**
 * The free buddy block holding a physical address: each zone's free_area[order].free_list[type]
 * walked as crash's `kmem -f ADDR` walks them. Undefined when the page is not free in the buddy lists.
 */
export function findFreeBlock(prog: Program, phys: bigint): FreeBlock | undefined {
  const mm = memMap(prog);
  const nodes = new Map(onlineNodes(prog).map((n) => [n.id, n.pgdat]));
  for (const z of zones(prog)) {
    if (!z.free) continue;
    const pgdat = nodes.get(z.node);
    if (pgdat) {
      const start = pgdat.member('node_start_pfn').value() << mm.pageShift;
      const end = start + (pgdat.member('node_spanned_pages').value() << mm.pageShift);
      if (phys < start || phys >= end) continue;
    }
    for (const l of zoneFreeLists(prog, z, true)) {
      const span = (1n << BigInt(l.order)) << mm.pageShift;
      for (const page of l.blocks) {
        const p = mm.pageToPhys(page);
        if (p === undefined || phys < p || phys >= p + span) continue;
        const zm = zoneMemMap(prog, z);
        return {
          zone: z,
          zoneMemMap: zm.memMap,
          zoneStartMapnr: zm.startMapnr,
          order: l.order,
          freeList: l.head,
          page,
          pageIndex: (phys - p) >> mm.pageShift,
        };
      }
    }
  }
  return undefined;
}

/** One free list of a zone: its order, migrate type and blocks. */
export interface FreeList {
  order: number;
  type: number;
  /** Address of free_area[order].free_list[type]. */
  head: bigint;
  /** The first struct page of each free block on the list. */
  blocks: bigint[];
}

/** Zone geometry as crash's zone tables show it: the zone's mem_map and its index from the node's first page. */
export function zoneMemMap(prog: Program, z: ZoneInfo): { memMap: bigint; startMapnr: bigint } {
  const mm = memMap(prog);
  const node = onlineNodes(prog).find((n) => n.id === z.node);
  const nodeMemMap = node ? mm.pfnToPage(node.pgdat.member('node_start_pfn').value()) : undefined;
  const memMapAddr = z.spanned ? (mm.pfnToPage(z.startPfn) ?? 0n) : 0n;
  return {
    memMap: memMapAddr,
    startMapnr: memMapAddr && nodeMemMap !== undefined ? (memMapAddr - nodeMemMap) / BigInt(mm.pageStructSize) : 0n,
  };
}

/** Every free list of a zone (free_area[order].free_list[migratetype]) with its blocks, in list order. */
export function zoneFreeLists(prog: Program, z: ZoneInfo): FreeList[];
/** Lazily, one list at a time (a search can stop early). */
export function zoneFreeLists(prog: Program, z: ZoneInfo, lazy: true): Iterable<FreeList>;
export function zoneFreeLists(prog: Program, z: ZoneInfo, lazy = false): Iterable<FreeList> | FreeList[] {
  const gen = freeListsOf(prog, z);
  return lazy ? gen : [...gen];
}

function* freeListsOf(prog: Program, z: ZoneInfo): Generator<FreeList> {
  const lruOff = BigInt(
    prog.offsetOf('struct page', prog.hasMember('struct page', 'buddy_list') ? 'buddy_list' : 'lru'),
  );
  const fa = z.obj.member('free_area');
  const ft = strip(fa.type);
  const orders = ft.kind === 'array' ? (ft.counts[0] ?? 0) : 0;
  for (let order = 0; order < orders; order++) {
    const lists = fa.index(order).member('free_list');
    const lt = strip(lists.type);
    const n = lt.kind === 'array' ? (lt.counts[0] ?? 1) : 1;
    for (let type = 0; type < n; type++) {
      const head = lt.kind === 'array' ? lists.index(type) : lists;
      const blocks: bigint[] = [];
      for (const node of listForEach(head)) blocks.push((node - lruOff) & MASK64);
      yield { order, type, head: head.address as bigint, blocks };
    }
  }
}

/* ----------------------------------------------------------------- vm_stat */

/**
 * The global vm_stat counters by enumerator name: vm_zone_stat (zone_stat_item), vm_node_stat
 * (node_stat_item) and, where it exists, vm_numa_stat; or the single vm_stat of older kernels.
 */
export function vmStat(prog: Program): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const add = (varName: string, enumName: string, endName: string): boolean => {
    if (!prog.hasVariable(varName) || !prog.hasType(enumName)) return false;
    const arr = prog.variable(varName);
    const t = strip(prog.type(enumName));
    if (t.kind !== 'enum') return false;
    const at = strip(arr.type);
    const len = at.kind === 'array' ? (at.counts[0] ?? 0) : 0;
    for (const [name, v] of t.values) {
      if (name === endName) break;
      const i = Number(v);
      if (i < 0 || i >= len) continue;
      out.set(name, atomicValue(arr.index(i)));
    }
    return true;
  };
  if (!add('vm_zone_stat', 'enum zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS')) {
    add('vm_stat', 'enum zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS');
  }
  add('vm_node_stat', 'enum node_stat_item', 'NR_VM_NODE_STAT_ITEMS');
  add('vm_numa_stat', 'enum numa_stat_item', 'NR_VM_NUMA_STAT_ITEMS');
  return out;
}

/** A group of vm_stat counters (zone, node, vm event) with their values. */
export interface VmStatGroup {
  /** crash's heading: VM_ZONE_STAT, VM_NODE_STAT, VM_NUMA_STAT, or VM_STAT before 4.8. */
  label: string;
  items: [string, bigint][];
}

/**
 * An item enum's names by value, up to its count enumerator: where names alias one value
 * (NR_ZONE_LRU_BASE = NR_ZONE_INACTIVE_ANON) the last declared wins, as in crash.
 */
function enumItems(values: [string, bigint | number][], endName: string): [string, number][] {
  const end = values.find(([n]) => n === endName)?.[1];
  const byValue = new Map<number, string>();
  for (const [name, v] of values) {
    if (name === endName) continue;
    if (end !== undefined && BigInt(v) >= BigInt(end)) continue;
    byValue.set(Number(v), name);
  }
  return [...byValue].sort((a, b) => a[0] - b[0]).map(([v, n]) => [n, v]);
}

/** The global vm_stat arrays with their items in enumerator order, as crash's `kmem -V` lists them. */
export function vmStatGroups(prog: Program): VmStatGroup[] {
  const groups: VmStatGroup[] = [];
  const add = (label: string, varName: string, enumName: string, endName: string): void => {
    if (!prog.hasVariable(varName) || !prog.hasType(enumName)) return;
    const arr = prog.variable(varName);
    const at = strip(arr.type);
    const len = at.kind === 'array' ? (at.counts[0] ?? 0) : 0;
    if (!len) return;
    const t = strip(prog.type(enumName));
    if (t.kind !== 'enum') return;
    const items: [string, bigint][] = [];
    for (const [name, i] of enumItems(t.values, endName)) {
      if (i >= 0 && i < len) items.push([name, atomicValue(arr.index(i))]);
    }
    groups.push({ label, items });
  };
  if (prog.hasVariable('vm_zone_stat')) {
    add('VM_ZONE_STAT', 'vm_zone_stat', 'enum zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS');
    add('VM_NODE_STAT', 'vm_node_stat', 'enum node_stat_item', 'NR_VM_NODE_STAT_ITEMS');
    add('VM_NUMA_STAT', 'vm_numa_stat', 'enum numa_stat_item', 'NR_VM_NUMA_STAT_ITEMS');
  } else add('VM_STAT', 'vm_stat', 'enum zone_stat_item', 'NR_VM_ZONE_STAT_ITEMS');
  return groups;
}

/** A zone's own vm_stat items (zone_stat_item order), as crash's `kmem -z` lists them. */
export function zoneVmStat(prog: Program, zone: Obj): [string, bigint][] {
  if (!zone.hasMember('vm_stat')) return [];
  const t = strip(prog.type('enum zone_stat_item'));
  if (t.kind !== 'enum') return [];
  const arr = zone.member('vm_stat');
  const at = strip(arr.type);
  const len = at.kind === 'array' ? (at.counts[0] ?? 0) : 0;
  return enumItems(t.values, 'NR_VM_ZONE_STAT_ITEMS')
    .filter(([, i]) => i < len)
    .map(([n, i]) => [n, atomicValue(arr.index(i))]);
}

/** A zone's MIN/LOW/HIGH watermarks (zone._watermark[] since 5.0, watermark[] or pages_min/low/high before). */
export function zoneWatermarks(prog: Program, zone: Obj): [bigint, bigint, bigint] {
  const wm = zone.hasMember('_watermark') ? '_watermark' : zone.hasMember('watermark') ? 'watermark' : undefined;
  if (!wm)
    return [zone.member('pages_min').value(), zone.member('pages_low').value(), zone.member('pages_high').value()];
  const idx = (n: string, d: number): number => {
    try {
      return Number(prog.constant(n));
    } catch (e) {
      if (e instanceof LookupError) return d;
      throw e;
    }
  };
  const a = zone.member(wm);
  return [
    a.index(idx('WMARK_MIN', 0)).value(),
    a.index(idx('WMARK_LOW', 1)).value(),
    a.index(idx('WMARK_HIGH', 2)).value(),
  ];
}

/** The VM event counters (per-CPU vm_event_states summed over the possible CPUs), in enumerator order. */
export function vmEvents(prog: Program, cpus: number[]): [string, bigint][] | undefined {
  if (!prog.hasVariable('vm_event_states') || !prog.hasType('enum vm_event_item')) return undefined;
  const t = strip(prog.type('enum vm_event_item'));
  if (t.kind !== 'enum') return undefined;
  const items = enumItems(t.values, 'NR_VM_EVENT_ITEMS');
  const sums = new Array<bigint>(items.length).fill(0n);
  const v = prog.variable('vm_event_states');
  const base = v.address as bigint;
  const off = BigInt(prog.offsetOf(v.type, 'event'));
  for (const cpu of cpus) {
    const a = perCpuAddress(prog, base, cpu) + off;
    const b = prog.memory.readVirt(a, (Math.max(-1, ...items.map(([, i]) => i)) + 1) * 8, 'vm_event_states');
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    items.forEach(([, val], k) => {
      sums[k] = (sums[k]! + dv.getBigUint64(Number(val) * 8, true)) & MASK64;
    });
  }
  return items.map(([n], k) => [n, sums[k]!]);
}

/* ------------------------------------------------------------ vmalloc areas */

/** A vmalloc area: its vmap_area, vm_struct, start, end and size. */
export interface VmapArea {
  vmapArea: bigint;
  vmStruct: bigint;
  start: bigint;
  end: bigint;
  size: bigint;
}

/** The vmalloc areas in address order: vmap_area_list (3.10+) or the older vmlist of vm_structs. */
export function vmallocAreas(prog: Program): VmapArea[] {
  const out: VmapArea[] = [];
  if (prog.hasVariable('vmap_area_list')) {
    const vaT = prog.type('struct vmap_area');
    const listOff = BigInt(prog.offsetOf(vaT, 'list'));
    const hasFlags = prog.hasMember('struct vmap_area', 'flags');
    for (const node of listForEach(prog.variable('vmap_area_list'))) {
      const va = prog.object(vaT, node - listOff, 'vmap_area');
      const vm = va.member('vm').value();
      // Only areas backing a vm_struct are vmalloc/vmap mappings (crash: flags == VM_VM_AREA, or vm set).
      if (hasFlags ? va.member('flags').value() !== 0x4n : vm === 0n) continue;
      const start = va.member('va_start').value();
      const end = va.member('va_end').value();
      out.push({ vmapArea: va.address as bigint, vmStruct: vm, start, end, size: end - start });
    }
    return out;
  }
  if (prog.hasVariable('vmlist')) {
    let p = prog.variable('vmlist').value();
    const seen = new Set<bigint>();
    while (p !== 0n && !seen.has(p)) {
      seen.add(p);
      const vm = prog.object('struct vm_struct', p);
      const start = vm.member('addr').value();
      const size = vm.member('size').value();
      out.push({ vmapArea: 0n, vmStruct: p, start, end: start + size, size });
      p = vm.member('next').value();
    }
    return out;
  }
  if (prog.hasVariable('vmap_area_root')) {
    const vaT = prog.type('struct vmap_area');
    const off = BigInt(prog.offsetOf(vaT, 'rb_node'));
    for (const n of rbInorder(prog.variable('vmap_area_root'))) {
      const va = prog.object(vaT, n - off);
      const vm = va.member('vm').value();
      if (vm === 0n) continue;
      const start = va.member('va_start').value();
      out.push({
        vmapArea: va.address as bigint,
        vmStruct: vm,
        start,
        end: va.member('va_end').value(),
        size: va.member('va_end').value() - start,
      });
    }
  }
  return out;
}
