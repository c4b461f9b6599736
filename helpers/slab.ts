/**
 * SLUB: the kmem_caches on slab_caches, their per-CPU and per-node slabs, the
 * objects of a slab (free or allocated, following the hardened free pointers),
 * the counts crash's `kmem -s` shows, and which cache and object an address
 * belongs to. Since 5.17 a slab is a `struct slab` overlaid on its head struct
 * page; before, the same fields live in struct page: both are detected from
 * the debug info.
 */
import { FaultError, TscrashError } from '../core/errors.js';
import { type Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listForEach } from './lists.js';
import { compoundHead, memMap, onlineNodes, pageFlagBit, physToVirt, virtToPage } from './mm.js';
import { perCpuAddress, possibleCpus } from './percpu.js';

const MASK64 = (1n << 64n) - 1n;

/** How this kernel lays out SLUB slabs and caches. */
export interface SlubLayout {
  /** 'struct slab' (5.17+) or 'struct page'. */
  slabType: string;
  /** The member linking slabs on kmem_cache_node.partial / full. */
  listMember: string;
  /** kmem_cache_cpu's current slab member ('slab', or 'page' before 5.17). */
  cpuSlabMember: string;
  /** The slab's kmem_cache member. */
  cacheMember: string;
}

const layoutCache = new WeakMap<Program, SlubLayout>();

/** How SLUB lays out this kernel's caches and slabs (struct slab or struct page members, free pointer hardening). */
export function slubLayout(prog: Program): SlubLayout {
  const hit = layoutCache.get(prog);
  if (hit) return hit;
  if (!prog.hasType('struct kmem_cache_cpu') || !prog.hasMember('struct kmem_cache', 'cpu_slab')) {
    throw new TscrashError('this kernel does not use the SLUB allocator (no struct kmem_cache_cpu)');
  }
  const slabType =
    prog.hasType('struct slab') && prog.hasMember('struct slab', 'slab_cache') ? 'struct slab' : 'struct page';
  const listMember = prog.hasMember(slabType, 'slab_list') ? 'slab_list' : 'lru';
  const cpuSlabMember = prog.hasMember('struct kmem_cache_cpu', 'slab') ? 'slab' : 'page';
  const cacheMember = prog.hasMember(slabType, 'slab_cache') ? 'slab_cache' : 'slab';
  const l = { slabType, listMember, cpuSlabMember, cacheMember };
  layoutCache.set(prog, l);
  return l;
}

/** A slab cache: its struct kmem_cache, name, object size, stride, objects per slab, slab size, flags. */
export interface KmemCache {
  address: bigint;
  obj: Obj;
  name: string;
  /** kmem_cache.object_size (objsize before 3.x): what crash's OBJSIZE shows. */
  objectSize: number;
  /** The stride between objects. */
  size: number;
  /** Where the free pointer is inside a free object. */
  offset: number;
  objects: number;
  order: number;
  slabBytes: bigint;
  random: bigint;
  redLeftPad: bigint;
  flags: bigint;
}

const SLAB_RED_ZONE = 0x400n;
/** The SLAB_STORE_USER cache flag (each object records its allocating and freeing callers). */
export const SLAB_STORE_USER = 0x10000n;

function readCache(prog: Program, c: Obj): KmemCache {
  const namep = c.member('name');
  let name = '(unknown)';
  try {
    if (!namep.isNull()) name = namep.string(256);
  } catch (e) {
    if (!(e instanceof FaultError)) throw e;
  }
  let objects: number;
  let order: number;
  if (c.hasMember('oo')) {
    const oo = c.member('oo').member('x').value();
    objects = Number(oo & 0xffffn);
    order = Number(oo >> 16n);
  } else {
    objects = c.member('objects').num();
    order = c.member('order').num();
  }
  const flags = c.member('flags').value();
  return {
    address: c.address as bigint,
    obj: c,
    name,
    objectSize: (c.hasMember('object_size') ? c.member('object_size') : c.member('objsize')).num(),
    size: c.member('size').num(),
    offset: c.member('offset').num(),
    objects,
    order,
    slabBytes: BigInt(prog.memory.pageSize) << BigInt(order),
    random: c.hasMember('random') ? c.member('random').value() : 0n,
    redLeftPad: c.hasMember('red_left_pad') && flags & SLAB_RED_ZONE ? c.member('red_left_pad').value() : 0n,
    flags,
  };
}

/** Every cache on slab_caches, in list order (what crash's `kmem -s` lists). */
const cachesCache = new WeakMap<Program, KmemCache[]>();

/** Every slab cache (slab_caches), in the list order crash shows. */
export function kmemCaches(prog: Program): KmemCache[] {
  const hit = cachesCache.get(prog);
  if (hit) return hit;
  slubLayout(prog);
  const t = prog.type('struct kmem_cache');
  const off = BigInt(prog.offsetOf(t, 'list'));
  const out: KmemCache[] = [];
  for (const n of listForEach(prog.variable('slab_caches')))
    out.push(readCache(prog, prog.object(t, n - off, 'kmem_cache')));
  cachesCache.set(prog, out);
  return out;
}

/** The slab cache of that name (kmalloc-64, task_struct ...). */
export function findCache(prog: Program, name: string): KmemCache | undefined {
  return kmemCaches(prog).find((c) => c.name === name);
}

/** The slab cache whose struct kmem_cache is at `address`. */
export function cacheAt(prog: Program, address: bigint): KmemCache | undefined {
  return kmemCaches(prog).find((c) => c.address === address);
}

/** A slab read: its address, objects in use, objects, frozen, freelist. */
export interface SlabState {
  slab: bigint;
  inuse: number;
  objects: number;
  frozen: boolean;
  freelist: bigint;
}

/** A slab (struct slab or page) and its counts: objects, in use, frozen, freelist. */
export function readSlab(prog: Program, slab: bigint): SlabState {
  const s = prog.object(slubLayout(prog).slabType, slab, 'slab');
  return {
    slab,
    inuse: s.member('inuse').num(),
    objects: s.member('objects').num(),
    frozen: s.hasMember('frozen') ? s.member('frozen').bool() : false,
    freelist: s.member('freelist').value(),
  };
}

/** The next slab on a per-CPU partial chain. */
function slabNext(prog: Program, slab: bigint): bigint {
  return prog.object(slubLayout(prog).slabType, slab, 'slab').member('next').value();
}

/** A cache's per-CPU data on a CPU: its kmem_cache_cpu, slab, freelist and partial slabs. */
export interface CpuSlab {
  cpu: number;
  /** This CPU's struct kmem_cache_cpu. */
  kmemCacheCpu: bigint;
  slab: bigint;
  freelist: bigint;
  /** Head of the per-CPU partial chain (0 when none, or not configured). */
  partial: bigint;
}

/** The CPUs crash walks (kt->cpus): the possible ones. */
const cpusCache = new WeakMap<Program, number[]>();

/** The CPUs whose per-CPU slabs are counted (the possible ones, as crash walks them). */
export function slabCpus(prog: Program): number[] {
  let c = cpusCache.get(prog);
  if (!c) {
    c = possibleCpus(prog);
    cpusCache.set(prog, c);
  }
  return c;
}

/** A cache's per-CPU slab on `cpu` (kmem_cache_cpu): its slab, freelist and partial list. */
export function cpuSlab(prog: Program, cache: KmemCache, cpu: number): CpuSlab {
  const l = slubLayout(prog);
  const addr = perCpuAddress(prog, cache.obj.member('cpu_slab').value(), cpu);
  const c = prog.object('struct kmem_cache_cpu', addr, `kmem_cache_cpu(${cache.name}, ${cpu})`);
  return {
    cpu,
    kmemCacheCpu: addr,
    slab: c.member(l.cpuSlabMember).value(),
    freelist: c.hasMember('freelist') ? c.member('freelist').value() : 0n,
    partial: c.hasMember('partial') ? c.member('partial').value() : 0n,
  };
}

/** The slabs of a per-CPU partial chain. */
export function cpuPartialSlabs(prog: Program, head: bigint): bigint[] {
  const out: bigint[] = [];
  const mm = memMap(prog);
  const seen = new Set<bigint>();
  for (let p = head; p !== 0n; p = slabNext(prog, p)) {
    if (!mm.isPagePtr(p)) throw new TscrashError(`invalid partial list slab pointer: ${p.toString(16)}`);
    if (seen.has(p)) throw new TscrashError(`per-cpu partial list loops at slab ${p.toString(16)}`);
    seen.add(p);
    out.push(p);
  }
  return out;
}

/** A cache's per-node slab lists and counts. */
export interface CacheNode {
  node: number;
  address: bigint;
  nrPartial: bigint;
  nrSlabs: bigint;
  totalObjects?: bigint;
}

/** A cache's per-node data (kmem_cache_node): its partial and full slab lists and counts. */
export function cacheNodes(prog: Program, cache: KmemCache): CacheNode[] {
  const out: CacheNode[] = [];
  const arr = cache.obj.member('node');
  const at = strip(arr.type);
  const len = at.kind === 'array' ? (at.counts[0] ?? 1) : 1;
  for (const { id } of onlineNodes(prog)) {
    if (id >= len) continue;
    const p = arr.index(id);
    if (p.isNull()) {
      out.push({ node: id, address: 0n, nrPartial: 0n, nrSlabs: 0n });
      continue;
    }
    const n = p.deref();
    out.push({
      node: id,
      address: p.value(),
      nrPartial: n.member('nr_partial').value(),
      nrSlabs: n.hasMember('nr_slabs') ? atomicLong(n.member('nr_slabs')) : 0n,
      totalObjects: n.hasMember('total_objects') ? atomicLong(n.member('total_objects')) : undefined,
    });
  }
  return out;
}

function atomicLong(o: Obj): bigint {
  return o.hasMember('counter') ? o.member('counter').value() : o.value();
}

/** The slabs on a kmem_cache_node list ('partial' or 'full'). */
export function nodeListSlabs(prog: Program, nodeAddr: bigint, list: 'partial' | 'full'): bigint[] {
  const l = slubLayout(prog);
  const off = BigInt(prog.offsetOf(l.slabType, l.listMember));
  const head = prog.object('struct kmem_cache_node', nodeAddr).member(list);
  const out: bigint[] = [];
  for (const n of listForEach(head)) out.push((n - off) & MASK64);
  return out;
}

/** The node a struct page (or slab) belongs to, from the nodes' pfn spans. */
const nodeSpans = new WeakMap<Program, { id: number; start: bigint; end: bigint }[]>();

/** The NUMA node of a struct page (from its flags). */
export function pageNode(prog: Program, page: bigint): number {
  const pfn = memMap(prog).pageToPfn(page);
  if (pfn === undefined) return -1;
  let spans = nodeSpans.get(prog);
  if (!spans) {
    spans = onlineNodes(prog).map(({ id, pgdat }) => {
      const start = pgdat.member('node_start_pfn').value();
      return { id, start, end: start + pgdat.member('node_spanned_pages').value() };
    });
    nodeSpans.set(prog, spans);
  }
  return spans.find((s) => pfn >= s.start && pfn < s.end)?.id ?? -1;
}

/** Direct-map address of a slab's first object area. */
export function slabMemory(prog: Program, slab: bigint): bigint {
  const phys = memMap(prog).pageToPhys(slab);
  if (phys === undefined) throw new TscrashError(`invalid slab address: ${slab.toString(16)}`);
  return physToVirt(prog, phys);
}

const bswap64 = (v: bigint): bigint => {
  let r = 0n;
  for (let i = 0; i < 8; i++) r = (r << 8n) | ((v >> BigInt(i * 8)) & 0xffn);
  return r;
};

/** Decoders of a stored free pointer: hardened (5.7+ swabbed address, or plain) or raw. */
function freeDecoders(cache: KmemCache): ((stored: bigint, at: bigint) => bigint)[] {
  if (!cache.random) return [(s) => s];
  return [(s, at) => s ^ cache.random ^ bswap64(at), (s, at) => s ^ cache.random ^ at];
}

/**
 * The objects on a freelist, in order. Stops at NULL; a pointer that is not an object of
 * the slab, a loop, or an unreadable pointer ends the walk with `error` set.
 */
export function walkFreelist(
  prog: Program,
  cache: KmemCache,
  head: bigint,
  slabStart?: bigint,
): { objects: bigint[]; error?: string } {
  const objects: bigint[] = [];
  if (head === 0n) return { objects };
  const inSlab = (p: bigint, base: bigint): boolean =>
    p >= base &&
    p < base + BigInt(cache.objects) * BigInt(cache.size) &&
    (p - base - cache.redLeftPad) % BigInt(cache.size) === 0n;
  const base = slabStart ?? slabOfObject(prog, head);
  let lastError: string | undefined;
  for (const dec of freeDecoders(cache)) {
    objects.length = 0;
    const seen = new Set<bigint>();
    let p = head;
    let err: string | undefined;
    while (p !== 0n) {
      if (base !== undefined && !inSlab(p, base)) {
        err = `${cache.name}: free pointer ${p.toString(16)} is not an object of the slab`;
        break;
      }
      if (seen.has(p)) {
        err = `${cache.name}: duplicate freelist object: ${p.toString(16)}`;
        break;
      }
      seen.add(p);
      objects.push(p);
      const at = p + BigInt(cache.offset);
      const stored = prog.memory.tryReadVirt(at, 8, 'free pointer');
      if (!stored) {
        err = `${cache.name}: invalid freepointer: ${at.toString(16)}`;
        break;
      }
      p = dec(new DataView(stored.buffer, stored.byteOffset, 8).getBigUint64(0, true), at);
    }
    if (!err) return { objects: [...objects] };
    lastError = err;
  }
  return { objects: [...objects], error: lastError };
}

/** Start (direct-map address of the first object area) of the slab an object lies in, if it is a slab object. */
function slabOfObject(prog: Program, addr: bigint): bigint | undefined {
  const page = virtToPage(prog, addr);
  if (page === undefined) return undefined;
  return slabMemory(prog, compoundHead(prog, page));
}

/** The ALLOCATED, TOTAL and SLABS of a cache, as kmem -s shows them. */
export interface CacheCounts {
  allocated: bigint;
  total: bigint;
  slabs: bigint;
}

/** ALLOCATED, TOTAL and SLABS as crash computes them (get_kmem_cache_slub_data, slab_objects() in slub.c). */
export function cacheCounts(prog: Program, cache: KmemCache): CacheCounts {
  const perNodeCpu = new Map<number, bigint>();
  let free = 0n;
  let totalObjects = 0n;
  let slabs = 0n;
  let haveNodeTotals = true;
  for (const cpu of slabCpus(prog)) {
    const cs = cpuSlab(prog, cache, cpu);
    if (cs.slab === 0n) continue;
    const node = pageNode(prog, cs.slab);
    if (node < 0) throw new TscrashError(`${cache.name}: cannot determine the node of slab ${cs.slab.toString(16)}`);
    const s = readSlab(prog, cs.slab);
    if (!s.objects) throw new TscrashError(`${cache.name}: slab ${cs.slab.toString(16)} has no objects`);
    free += BigInt(s.objects - s.inuse);
    free += BigInt(walkFreelist(prog, cache, cs.freelist, slabMemory(prog, cs.slab)).objects.length);
    for (const p of cpuPartialSlabs(prog, cs.partial)) {
      const ps = readSlab(prog, p);
      free += BigInt(ps.objects - ps.inuse);
    }
    slabs++;
    perNodeCpu.set(node, (perNodeCpu.get(node) ?? 0n) + 1n);
  }
  for (const n of cacheNodes(prog, cache)) {
    if (n.address === 0n) continue;
    let partialInuse = 0n;
    for (const p of nodeListSlabs(prog, n.address, 'partial')) {
      const s = readSlab(prog, p);
      partialInuse += BigInt(s.inuse);
      free += BigInt(s.objects - s.inuse);
    }
    slabs += n.nrPartial;
    const full = n.nrSlabs - (perNodeCpu.get(n.node) ?? 0n) - n.nrPartial;
    if (n.totalObjects !== undefined) totalObjects += n.totalObjects;
    else {
      haveNodeTotals = false;
      totalObjects += partialInuse + full * BigInt(cache.objects);
    }
    slabs += full;
  }
  if (!haveNodeTotals) {
    // Without CONFIG_SLUB_DEBUG's node totals crash counts in-use objects only.
    return { allocated: totalObjects, total: slabs * BigInt(cache.objects), slabs };
  }
  return { allocated: totalObjects - free, total: totalObjects, slabs };
}

/** One object of a slab: its address and whether it is free. */
export interface SlabObject {
  address: bigint;
  free: boolean;
  /** The CPU whose per-CPU freelist holds it. */
  cpuCache?: number;
}

/** The objects of one slab, each free or allocated. */
export interface SlabContents {
  slab: bigint;
  memory: bigint;
  node: number;
  objects: number;
  /** In use as crash shows it (for a CPU's slab: objects minus the free ones counted by hand). */
  inuse: number;
  /** The CPU whose current slab this is. */
  cpu?: number;
  list: SlabObject[];
  error?: string;
}

/** A slab's objects, each free (on the slab's or its CPU's freelist) or allocated: crash's do_slab_slub. */
export function slabContents(prog: Program, cache: KmemCache, slab: bigint): SlabContents {
  const s = readSlab(prog, slab);
  const memory = slabMemory(prog, slab);
  let inuse = s.inuse;
  let cpu: number | undefined;
  let cpuFree: bigint[] = [];
  let error: string | undefined;
  for (const c of slabCpus(prog)) {
    const cs = cpuSlab(prog, cache, c);
    if (cs.slab !== slab) continue;
    cpu = c;
    const w = walkFreelist(prog, cache, cs.freelist, memory);
    cpuFree = w.objects;
    error = w.error;
    let freeCount = cpuFree.length;
    if (s.freelist) freeCount += s.objects - s.inuse;
    inuse = s.objects - freeCount;
    break;
  }
  const w = walkFreelist(prog, cache, s.freelist, memory);
  error ??= w.error;
  const slabFree = new Set(w.objects);
  const cpuSet = new Set(cpuFree);
  const list: SlabObject[] = [];
  for (let i = 0; i < s.objects; i++) {
    const p = memory + BigInt(i * cache.size) + cache.redLeftPad;
    if (slabFree.has(p)) list.push({ address: p, free: true, cpuCache: cpu });
    else if (cpuSet.has(p)) list.push({ address: p, free: true, cpuCache: cpu });
    else list.push({ address: p, free: false });
  }
  return { slab, memory, node: pageNode(prog, slab), objects: s.objects, inuse, cpu, list, error };
}

/** Where an address lies in the slabs: its cache, slab and object. */
export interface SlabHit {
  cache: KmemCache;
  slab: bigint;
  /** The object containing the address. */
  object?: SlabObject;
}

/** Whether a struct page address is a slab page (PG_slab set), and its cache. */
export function slabPageCache(prog: Program, page: bigint): KmemCache | undefined {
  const bit = pageFlagBit(prog, 'PG_slab');
  if (bit === undefined || !memMap(prog).isPagePtr(page)) return undefined;
  const flags = prog.memory.readU64(page + BigInt(prog.offsetOf('struct page', 'flags')), 'page.flags');
  if (!((flags >> bit) & 1n)) return undefined;
  const l = slubLayout(prog);
  const c = prog.object(l.slabType, page, 'slab').member(l.cacheMember).value();
  return cacheAt(prog, c);
}

/** The cache, slab and object an address lies in, when it is in a slab page. */
export function findSlabObject(prog: Program, addr: bigint): SlabHit | undefined {
  const bit = pageFlagBit(prog, 'PG_slab');
  if (bit === undefined) return undefined;
  const page = virtToPage(prog, addr);
  if (page === undefined) return undefined;
  const flagsOff = BigInt(prog.offsetOf('struct page', 'flags'));
  let head = page;
  let flags = prog.memory.readU64(page + flagsOff, 'page.flags');
  if (!((flags >> bit) & 1n)) {
    head = compoundHead(prog, page);
    flags = prog.memory.readU64(head + flagsOff, 'page.flags');
    if (!((flags >> bit) & 1n)) return undefined;
  }
  const l = slubLayout(prog);
  const cacheAddr = prog.object(l.slabType, head, 'slab').member(l.cacheMember).value();
  const cache = cacheAt(prog, cacheAddr);
  if (!cache) return undefined;
  const contents = slabContents(prog, cache, head);
  const object = contents.list.find(
    (o) => addr >= o.address - cache.redLeftPad && addr < o.address - cache.redLeftPad + BigInt(cache.size),
  );
  return { cache, slab: head, object };
}
