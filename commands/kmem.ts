import { kmemInfo, prefetchMemMap } from '../helpers/meminfo.js';
import {
  decodePage,
  findFreeBlock,
  formatPageFlags,
  memMap,
  onlineNodes,
  type PageInfo,
  pageFields,
  physToVirt,
  readPage,
  vmallocAreas,
  vmEvents,
  vmStatGroups,
  type ZoneInfo,
  zoneFreeLists,
  zoneMemMap,
  zones,
  zoneVmStat,
  zoneWatermarks,
} from '../helpers/mm.js';
import {
  cacheAt,
  cacheCounts,
  cacheNodes,
  cpuPartialSlabs,
  cpuSlab,
  findSlabObject,
  type KmemCache,
  kmemCaches,
  nodeListSlabs,
  SLAB_STORE_USER,
  type SlabContents,
  slabContents,
  slabCpus,
  slabPageCache,
} from '../helpers/slab.js';
import {
  activeTasks,
  allTasks,
  cpuCurr,
  panicTask,
  taskComm,
  taskContaining,
  taskCpu,
  taskPid,
} from '../helpers/tasks.js';
import { CommandError, FaultError, InterruptedError, TscrashError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import {
  type CacheEntry,
  type CacheRecord,
  type CpuSlabs,
  type FreeArea,
  type FreeBlockRecord,
  justify,
  type KmemResult,
  kmemText,
  type NodeSlabs,
  type NotSlab,
  type PageLookup,
  type PageRecord,
  pageHeader,
  pageLine,
  type SearchPart,
  type SlabAddress,
  type SlabObjectRecord,
  type SlabRecord,
  type SymbolPart,
  type TaskPart,
  type VmStatItem,
  type ZoneRow,
  type ZoneStats,
} from './kmem-text.js';
import type { Command, CommandContext } from './registry.js';

const hex = (v: bigint): string => v.toString(16);

export { justify, type KmemResult };

/* -------------------------------------------------------------- slabs */

function cacheRecord(prog: Program, c: KmemCache): CacheRecord {
  const r: CacheRecord = { address: c.address, name: c.name, objectSize: c.objectSize, slabBytes: c.slabBytes };
  try {
    const n = cacheCounts(prog, c);
    r.allocated = n.allocated;
    r.total = n.total;
    r.slabs = n.slabs;
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
    r.error = e.message;
  }
  return r;
}

/** crash's do_slab_slub(): the slab and, verbosely, its objects (only `only`'s object when given). */
function slabRecord(prog: Program, c: KmemCache, slab: bigint, opts: { verbose: boolean; only?: bigint }): SlabRecord {
  let s: SlabContents;
  try {
    s = slabContents(prog, c, slab);
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
    return { slab, invalid: `${c.name}: invalid slab address: ${hex(slab)} (${e.message})` };
  }
  const r: SlabRecord = { slab: s.slab, memory: s.memory, node: s.node, total: s.objects, allocated: s.inuse };
  if (!opts.verbose) return r;
  if (s.error) r.error = s.error;
  r.objects = [];
  for (const o of s.list) {
    if (opts.only !== undefined) {
      const start = o.address - c.redLeftPad;
      if (opts.only < start || opts.only >= start + BigInt(c.size)) continue;
    }
    const x: SlabObjectRecord = { address: o.address, free: o.free };
    if (o.cpuCache !== undefined) x.cpuCache = o.cpuCache;
    r.objects.push(x);
  }
  return r;
}

/** Slabs until (and with) the first that cannot be read, as crash stops at it. */
function slabList(prog: Program, c: KmemCache, slabs: bigint[], verbose: boolean): SlabRecord[] {
  const out: SlabRecord[] = [];
  for (const a of slabs) {
    const r = slabRecord(prog, c, a, { verbose });
    out.push(r);
    if (r.invalid !== undefined) break;
  }
  return out;
}

/** `kmem -S`: per-CPU slabs and partial lists, then each node's partial and full lists. */
function cacheEntry(prog: Program, c: KmemCache, verbose: boolean): CacheEntry {
  const e: CacheEntry = { kind: 'cache', cache: cacheRecord(prog, c) };
  if (!verbose) return e;
  const perNodeCpu = new Map<number, number>();
  e.cpus = [];
  for (const cpu of slabCpus(prog)) {
    const cs = cpuSlab(prog, c, cpu);
    const r: CpuSlabs = { cpu, kmemCacheCpu: cs.kmemCacheCpu };
    e.cpus.push(r);
    if (cs.slab) {
      const node = slabContentsNode(prog, c, cs.slab);
      if (node >= 0) perNodeCpu.set(node, (perNodeCpu.get(node) ?? 0) + 1);
      r.slab = slabRecord(prog, c, cs.slab, { verbose: true });
      if (r.slab.invalid !== undefined) continue;
    }
    if (prog.hasMember('struct kmem_cache_cpu', 'partial')) {
      r.partialHead = cs.partial;
      let chain: bigint[] = [];
      try {
        chain = cpuPartialSlabs(prog, cs.partial);
      } catch (err) {
        if (!(err instanceof TscrashError)) throw err;
        r.partialError = err.message;
      }
      r.partial = slabList(prog, c, chain, true);
    }
  }
  e.nodes = [];
  for (const n of cacheNodes(prog, c)) {
    const fullTracked = prog.hasMember('struct kmem_cache_node', 'full') && Boolean(c.flags & SLAB_STORE_USER);
    const r: NodeSlabs = {
      address: n.address,
      node: n.node,
      slabs: BigInt(n.nrSlabs),
      partialCount: BigInt(n.nrPartial),
      perCpu: perNodeCpu.get(n.node) ?? 0,
      fullTracked,
    };
    e.nodes.push(r);
    if (n.address === 0n) continue;
    r.partial = slabList(prog, c, nodeListSlabs(prog, n.address, 'partial'), false);
    if (fullTracked) r.full = slabList(prog, c, nodeListSlabs(prog, n.address, 'full'), false);
  }
  return e;
}

function slabContentsNode(prog: Program, c: KmemCache, slab: bigint): number {
  try {
    return slabContents(prog, c, slab).node;
  } catch {
    return -1;
  }
}

/** `kmem -s|-S ADDR`: the cache, the slab holding the address and its object (-S: all its objects). */
function slabAddress(prog: Program, addr: bigint, verbose: boolean): SlabAddress | undefined {
  const pageCache = slabPageCache(prog, addr);
  if (pageCache)
    return {
      kind: 'object',
      address: addr,
      cache: cacheRecord(prog, pageCache),
      slab: slabRecord(prog, pageCache, addr, { verbose: true }),
    };
  const hit = findSlabObject(prog, addr);
  if (!hit) return undefined;
  return {
    kind: 'object',
    address: addr,
    cache: cacheRecord(prog, hit.cache),
    slab: slabRecord(prog, hit.cache, hit.slab, { verbose: true, only: verbose ? undefined : addr }),
  };
}

/* --------------------------------------------------------------- mem_map */

function physWidth(prog: Program): number {
  const mm = memMap(prog);
  let maxPfn = 0n;
  for (const s of mm.sections) {
    const end = s.startPfn + BigInt(mm.pagesPerSection);
    if (end > maxPfn) maxPfn = end;
  }
  return Math.max(8, hex(maxPfn << mm.pageShift).length);
}

const flagNameCache = new WeakMap<Program, Map<bigint, string[]>>();

/** The kernel's names of a page's flags; one array per distinct value (pages share few). */
function flagNames(prog: Program, flags: bigint): string[] {
  let m = flagNameCache.get(prog);
  if (!m) {
    m = new Map();
    flagNameCache.set(prog, m);
  }
  let names = m.get(flags);
  if (!names) {
    // formatPageFlags is "HEX NAME,NAME...": the names are what follows the hex.
    const text = formatPageFlags(prog, flags);
    const sp = text.indexOf(' ');
    names = sp < 0 ? [] : text.slice(sp + 1).split(',');
    m.set(flags, names);
  }
  return names;
}

function pageRecord(prog: Program, p: PageInfo): PageRecord {
  return {
    page: p.page,
    pfn: p.pfn,
    phys: p.phys,
    mapping: p.mapping,
    index: p.index,
    count: p.count,
    flags: p.flags,
    flagNames: flagNames(prog, p.flags),
  };
}

const KVADDR_START = 0xffff800000000000n;

/** The struct page an address argument names: a struct page address, a kernel virtual address, or a physical address. */
function pageFor(prog: Program, addr: bigint, physical: boolean): { page?: bigint; phys?: bigint } {
  const mm = memMap(prog);
  if (!physical && addr >= KVADDR_START) {
    if (mm.isPagePtr(addr)) return { page: addr, phys: mm.pageToPhys(addr) };
    let phys: bigint;
    try {
      phys = prog.memory.virtToPhys(addr);
    } catch {
      // The direct map translates arithmetically even where no page table maps it (crash's VTOP).
      const base = prog.memory.pageOffsetBase;
      if (base === undefined || addr < base || addr >= base + (1n << 46n)) return {};
      phys = addr - base;
    }
    return { page: mm.physToPage(phys), phys };
  }
  return { page: mm.physToPage(addr), phys: addr };
}

function pageLookup(prog: Program, addr: bigint, physical: boolean, search = false): PageLookup {
  const { page, phys } = pageFor(prog, addr, physical);
  if (page === undefined) {
    const kv = !physical && addr >= KVADDR_START;
    return {
      kind: 'page',
      address: addr,
      physical,
      notFound: {
        address: phys ?? addr,
        virtual: kv,
        warned: search && !physical && phys !== undefined && addr >= KVADDR_START,
      },
    };
  }
  return { kind: 'page', address: addr, physical, page: pageRecord(prog, readPage(prog, page)) };
}

function allPages(prog: Program, pages: PageRecord[]): void {
  const mm = memMap(prog);
  const f = pageFields(prog);
  mm.forEachPage((page, pfn, b, o) => {
    pages.push(pageRecord(prog, decodePage(page, pfn, mm.pageShift, f, b, o)));
  });
}

/** `kmem -p` in a text session: each page's line as it is read, written a megabyte at a time. */
function streamPages(ctx: CommandContext): void {
  const prog = ctx.program;
  const mm = memMap(prog);
  const f = pageFields(prog);
  const width = physWidth(prog);
  ctx.out(pageHeader(width));
  let buf = '';
  mm.forEachPage((page, pfn, b, o) => {
    buf += pageLine(pageRecord(prog, decodePage(page, pfn, mm.pageShift, f, b, o)), width);
    if (buf.length > 1 << 20) {
      ctx.out(buf);
      buf = '';
    }
  });
  ctx.out(buf);
}

/* --------------------------------------------------------------- tasks */

function taskStateString(task: Obj): string {
  const st = (task.hasMember('__state') ? task.member('__state') : task.member('state')).value();
  const state = st | (task.hasMember('exit_state') ? task.member('exit_state').value() : 0n);
  if (state === 0n) return 'TASK_RUNNING';
  if (state === 0x40n) return 'TASK_PARKED';
  const names: [bigint, string][] = [
    [1n, 'TASK_INTERRUPTIBLE'],
    [2n, 'TASK_UNINTERRUPTIBLE'],
    [4n, 'TASK_STOPPED'],
    [8n, 'TASK_TRACED'],
    [16n, 'EXIT_DEAD'],
    [32n, 'EXIT_ZOMBIE'],
    [0x200n, 'TASK_WAKING'],
    [0x100n, 'TASK_WAKEKILL'],
    [0x400n, 'TASK_NOLOAD'],
    [0x800n, 'TASK_NEW'],
  ];
  const s = names.filter(([b]) => state & b).map(([, n]) => n);
  return s.length ? s.join('|') : '(unknown)';
}

/** crash's show_context(). */
function taskPart(prog: Program, task: Obj, tasks: Obj[]): TaskPart {
  const pid = taskPid(task);
  const addr = task.address as bigint;
  const active = activeTasks(prog);
  const r: TaskPart = {
    kind: 'task',
    pid,
    comm: taskComm(task),
    task: addr,
    samePid: tasks.filter((t) => taskPid(t) === pid).length,
    threadInfo: threadInfo(task),
    cpu: taskCpu(task),
    state: taskStateString(task),
  };
  if (active.has(addr)) r.active = panicTaskAddress(prog) === addr ? 'panic' : 'active';
  return r;
}

/** The panicking task; panic_cpu is an atomic_t since 4.x, read through its counter when helpers/tasks cannot. */
function panicTaskAddress(prog: Program): bigint | undefined {
  try {
    return panicTask(prog)?.address;
  } catch (e) {
    if (!(e instanceof TscrashError) || !prog.hasVariable('panic_cpu')) throw e;
    const v = prog.variable('panic_cpu');
    const cpu = (v.hasMember('counter') ? v.member('counter') : v).value();
    if (cpu < 0n || cpu >= 1n << 31n) return undefined;
    return cpuCurr(prog, Number(cpu)).address;
  }
}

function threadInfo(task: Obj): bigint {
  // With THREAD_INFO_IN_TASK the thread_info is embedded at the start of the task.
  if (task.hasMember('thread_info')) {
    const ti = task.member('thread_info');
    if (ti.kind === 'struct' && ti.address !== undefined) return ti.address;
  }
  return task.member('stack').value();
}

function stackSize(prog: Program): bigint {
  return BigInt(prog.hasType('union thread_union') ? prog.sizeof('union thread_union') : 16384);
}

function taskWithStack(prog: Program, tasks: Obj[], vaddr: bigint): Obj | undefined {
  const size = stackSize(prog);
  return tasks.find((t) => {
    try {
      const s = t.member('stack').value();
      return vaddr >= s && vaddr < s + size;
    } catch {
      return false;
    }
  });
}

/* ------------------------------------------------------------ free pages */

function zoneRow(prog: Program, z: ZoneInfo): ZoneRow {
  const zm = zoneMemMap(prog, z);
  return {
    node: z.node,
    index: z.index,
    name: z.name,
    size: z.spanned,
    free: z.free,
    memMap: zm.memMap,
    startPaddr: z.startPfn << memMap(prog).pageShift,
    startMapnr: zm.startMapnr,
  };
}

/** `kmem -f` / `kmem -F`: each zone's free lists, block counts (and, verbosely, the blocks). */
function freeLists(prog: Program, verbose: boolean): Extract<KmemResult, { mode: 'free' }> {
  let sum = 0n;
  let found = 0n;
  const out: { zone: ZoneRow; areas: FreeArea[] }[] = [];
  for (const z of zones(prog)) {
    const areas: FreeArea[] = [];
    out.push({ zone: zoneRow(prog, z), areas });
    sum += z.free;
    if (!z.free) continue;
    for (const l of zoneFreeLists(prog, z, true)) {
      const pages = BigInt(l.blocks.length) << BigInt(l.order);
      found += pages;
      const a: FreeArea = {
        order: l.order,
        blockBytes: BigInt(prog.memory.pageSize) << BigInt(l.order),
        freeList: l.head,
        blocks: l.blocks.length,
        pages,
      };
      if (verbose) a.blockPages = l.blocks;
      areas.push(a);
    }
  }
  return { mode: 'free', verbose, multiNode: onlineNodes(prog).length > 1, zones: out, nrFreePages: sum, found };
}

/** crash's free-list search for one address (dump_free_pages_zones_v2 with an address). */
function freeBlock(prog: Program, addr: bigint, physical: boolean): FreeBlockRecord | undefined {
  const mm = memMap(prog);
  let phys: bigint | undefined = physical ? addr : mm.pageToPhys(addr);
  if (phys === undefined) {
    try {
      phys = prog.memory.virtToPhys(addr);
    } catch {
      return undefined;
    }
  }
  const b = findFreeBlock(prog, phys);
  if (!b) return undefined;
  return {
    kind: 'free',
    address: addr,
    physical,
    zone: zoneRow(prog, b.zone),
    order: b.order,
    blockBytes: BigInt(prog.memory.pageSize) << BigInt(b.order),
    freeList: b.freeList,
    page: b.page,
    pageIndex: b.pageIndex,
    offset: addr & (BigInt(prog.memory.pageSize) - 1n),
  };
}

/* ------------------------------------------------------------ kmem ADDR */

function symbolPart(prog: Program, vaddr: bigint): SymbolPart | undefined {
  let st: ReturnType<Program['symbols']['symbolize']>;
  const stext = prog.symbolAddress('_stext');
  const end = prog.symbolAddress('_end');
  const inImage = stext !== undefined && end !== undefined && vaddr >= stext && vaddr <= end;
  if (!inImage && vaddr < 0xffffffffa0000000n) return undefined;
  try {
    st = prog.symbols.symbolize(vaddr);
  } catch {
    return undefined;
  }
  if (!st) return undefined;
  if (!inImage && !st.symbol.module) return undefined;
  const r: SymbolPart = { kind: 'symbol', address: vaddr, letter: st.symbol.letter, name: st.symbol.name };
  if (st.offset) r.offset = Number(st.offset);
  if (st.symbol.module) r.module = st.symbol.module;
  if (st.symbol.letter === 't' || st.symbol.letter === 'T') {
    const l = prog.lineFor(vaddr);
    if (l) {
      r.file = l.file;
      r.line = l.line;
    }
  }
  return r;
}

/** What an address is, in crash's order; a fault ends the search with its message (the parts found kept). */
function kmemSearch(prog: Program, addr: bigint, parts: SearchPart[]): void {
  const kv = addr >= KVADDR_START;
  const mm = memMap(prog);
  let vaddr: bigint | undefined = addr;
  if (!kv) vaddr = mm.physToPage(addr) !== undefined ? physToVirt(prog, addr) : undefined;
  const tasks = allTasks(prog);
  if (vaddr !== undefined) {
    const sym = symbolPart(prog, vaddr);
    if (sym) parts.push(sym);
  }
  if (kv) {
    const area = vmallocAreas(prog).find((a) => addr >= a.start && addr < a.end);
    if (area) {
      const t = taskWithStack(prog, tasks, addr);
      if (t) parts.push(taskPart(prog, t, tasks));
      let phys: bigint | undefined;
      try {
        phys = prog.memory.virtToPhys(addr);
      } catch {
        phys = undefined;
      }
      if (phys !== undefined) {
        parts.push({ kind: 'vmalloc', area });
        parts.push(pageLookup(prog, phys, true));
        return;
      }
    }
  }
  if (vaddr !== undefined) {
    const slab = slabAddress(prog, vaddr, false);
    if (slab) parts.push(slab);
    const free = freeBlock(prog, addr, !kv);
    if (free) parts.push(free);
    const t = taskContaining(prog, tasks, vaddr) ?? taskWithStack(prog, tasks, vaddr);
    if (t) parts.push(taskPart(prog, t, tasks));
    parts.push(pageLookup(prog, addr, !kv, true));
    return;
  }
  parts.push({ kind: 'not-found', address: addr, virtual: kv });
}

/* --------------------------------------------------------------- vm_stat */

const items = (xs: [string, bigint][]): VmStatItem[] => xs.map(([name, value]) => ({ name, value }));

/** `kmem -z`: each zone's size, watermarks and vm_stat (crash's dump_zone_stats). */
function zoneStats(prog: Program): ZoneStats[] {
  const nodeIndex = new Map(onlineNodes(prog).map((n, i) => [n.id, i]));
  return zones(prog).map((z): ZoneStats => {
    const r: ZoneStats = {
      node: nodeIndex.get(z.node) ?? z.node,
      zone: z.index,
      address: z.obj.address as bigint,
      name: z.name,
      spanned: z.spanned,
      present: z.present,
      free: z.free,
    };
    if (!z.spanned) return r;
    const [min, low, high] = zoneWatermarks(prog, z.obj);
    r.watermarks = { min, low, high };
    r.vmStat = items(zoneVmStat(prog, z.obj));
    return r;
  });
}

/* ------------------------------------------------------------- command */

function parseAddress(a: string): bigint | undefined {
  if (!/^(0x)?[0-9a-f]+$/i.test(a)) return undefined;
  return BigInt(a.toLowerCase().startsWith('0x') ? a : `0x${a}`);
}

export const kmem: Command<KmemResult> = {
  name: 'kmem',
  summary: 'kernel memory: usage summary, slab caches, struct page, what an address is',
  help: `NAME
  kmem - kernel memory

SYNOPSIS
  kmem -i | -f|-F [address] | -s [name|address|list] | -S [name|address] | -p [address|pfn:N ...] | -v | -V | -z | address ...

DESCRIPTION
  Kernel memory as crash's kmem shows it, computed from the dump with the
  vmlinux's types.

    -i        memory usage: TOTAL MEM, FREE, USED, SHARED, BUFFERS, CACHED, SLAB,
              huge pages, swap, the commit limit and committed memory. Each figure
              is computed as crash computes it (zone NR_FREE_PAGES, the mem_map's
              PG_slab and shared pages, the block-device inodes' page cache,
              NR_FILE_PAGES less the swap cache and buffers, vm_committed_as).
    -s        every SLUB cache: CACHE, OBJSIZE, ALLOCATED, TOTAL, SLABS, SSIZE, NAME.
    -s name   one cache; -s address: the cache, slab and object holding it.
    -s list   the caches' addresses and names.
    -S        every cache as -S name shows it.
    -S name   the cache's per-CPU slabs, per-CPU partial slabs and per-node lists,
              each slab's objects marked free or [allocated]; -S address: the slab
              holding the address with all its objects.
    -p        struct page of every page (PAGE PHYSICAL MAPPING INDEX CNT FLAGS),
              or of the given addresses: a struct page address, a kernel virtual
              address, a physical address, or pfn:N. FLAGS are decoded with the
              kernel's page flag names.
    -f        free memory: each zone's free lists by order and migrate type, with
              their blocks and pages, and nr_free_pages checked against them;
              -f address: the free block holding the address.
    -F        as -f, listing each free block's first struct page.
    -v        the vmalloc areas.
    -z        each zone: size, present pages, watermarks and its vm_stat counters.
    -V        the vm_stat counters (zone, node) and the VM event counters summed
              over the CPUs.
    address   what the address is: a kernel symbol, a vmalloc area (a task's
              stack), a slab object (its cache, allocated or free), a task_struct,
              and its struct page. Addresses below the kernel's virtual space are
              physical.

EXAMPLES
  kmem -i
  kmem -s dentry
  kmem -S kmalloc-64
  kmem ffff8f52011fe000
  kmem -p 11fe000
`,
  resultType: 'KmemResult',
  async run(ctx, args): Promise<KmemResult | undefined> {
    // A walk that fails part-way (a fault in a damaged dump) has its records so far printed before the error.
    const partial: PartialResult = {};
    // `kmem -p` in a text session streams its lines as the mem_map is walked (no records kept); JSON gets them.
    if (ctx.format === 'text' && args.length === 1 && args[0] === '-p') {
      if (!ctx.program.hasDebugInfo) ctx.program.requireDebugInfo('kmem');
      streamPages(ctx);
      return undefined;
    }
    // kmem -i walks the whole memory map: its pages are decoded in libuv's pool meanwhile.
    if (args.length === 1 && args[0] === '-i' && ctx.program.hasDebugInfo) await prefetchMemMap(ctx.program);
    try {
      return kmemResult(ctx.program, args, partial);
    } catch (e) {
      if (partial.result && ctx.format === 'text' && !(e instanceof InterruptedError)) kmemText(partial.result, ctx);
      throw e;
    }
  },
  text: kmemText,
};

/** The result a long walk is filling in, for the text view of a walk that failed part-way. */
interface PartialResult {
  result?: KmemResult;
}

function kmemResult(prog: Program, args: string[], partial: PartialResult): KmemResult {
  const flags = new Set<string>();
  const rest: string[] = [];
  for (const a of args) {
    if (/^-[isSpvfFVz]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
    else if (a.startsWith('-')) throw new CommandError(`kmem: unknown option ${a}`);
    else rest.push(a);
  }
  if (flags.size > 1) throw new CommandError('kmem: only one flag allowed');
  const flag = [...flags][0];
  if (!prog.hasDebugInfo) prog.requireDebugInfo('kmem');
  const none = (): void => {
    if (rest.length) throw new CommandError(`kmem -${flag} takes no arguments`);
  };
  switch (flag) {
    case 'i':
      none();
      return { mode: 'info', pageSize: prog.memory.pageSize, pages: kmemInfo(prog) };
    case 'z':
      none();
      return { mode: 'zones', zones: zoneStats(prog) };
    case 'V': {
      none();
      const ev = vmEvents(prog, slabCpus(prog));
      return {
        mode: 'vmstat',
        groups: vmStatGroups(prog).map((g) => ({ label: g.label, items: items(g.items) })),
        events: ev ? items(ev) : undefined,
      };
    }
    case 'f':
    case 'F': {
      if (!rest.length) return freeLists(prog, flag === 'F');
      const addrs = rest.map((a) => parseAddress(a) ?? badAddr(a));
      return {
        mode: 'free-blocks',
        multiNode: onlineNodes(prog).length > 1,
        addresses: addrs.map((v) => ({ address: v, block: freeBlock(prog, v, v < KVADDR_START) })),
      };
    }
    case 'v': {
      const want = rest.map((a) => parseAddress(a) ?? badAddr(a));
      const areas = vmallocAreas(prog).filter((a) => !want.length || want.some((w) => w >= a.start && w < a.end));
      return { mode: 'vmalloc', areas };
    }
    case 'p': {
      if (!rest.length) {
        const r: KmemResult = { mode: 'pages', physWidth: physWidth(prog), pages: [] };
        partial.result = r;
        allPages(prog, r.pages);
        return r;
      }
      const lookups = rest.map((a) => {
        const pfn = /^pfn:(0x[0-9a-f]+|\d+)$/i.exec(a);
        if (pfn) return pageLookup(prog, BigInt(pfn[1]!) << memMap(prog).pageShift, true);
        return pageLookup(prog, parseAddress(a) ?? badAddr(a), false);
      });
      return { mode: 'page-lookup', physWidth: physWidth(prog), lookups };
    }
    case 's':
    case 'S':
      return slabs(prog, rest, flag === 'S', partial);
  }
  if (!rest.length) throw new CommandError('usage: kmem -i | -s [name] | -S name | -p [addr] | -v | address ...');
  const addrs = rest.map((a) => {
    const v = parseAddress(a);
    if (v === undefined) throw new CommandError(`kmem: ${a}: a cache name needs -s or -S`);
    return v;
  });
  return {
    mode: 'search',
    physWidth: physWidth(prog),
    multiNode: onlineNodes(prog).length > 1,
    addresses: addrs.map((v) => {
      // A fault ends an address's search with its message; the parts found before it are kept.
      const parts: SearchPart[] = [];
      try {
        kmemSearch(prog, v, parts);
      } catch (e) {
        if (e instanceof FaultError) parts.push({ kind: 'error', message: e.message });
        else throw e;
      }
      return { address: v, parts };
    }),
  };
}

function slabs(prog: Program, rest: string[], verbose: boolean, partial: PartialResult): KmemResult {
  const names = rest.filter((a) => parseAddress(a) === undefined || cacheByName(prog, a));
  const addrs = rest.filter((a) => !names.includes(a)).map((a) => parseAddress(a)!);
  if (names.length > 1) throw new CommandError('kmem: only one kmem_cache reference is allowed');
  if (addrs.length) {
    const items: (CacheEntry | SlabAddress | NotSlab)[] = [];
    partial.result = { mode: 'slabs', verbose, form: 'addresses', items };
    for (let addr of addrs) {
      if (addr < KVADDR_START && memMap(prog).physToPage(addr) !== undefined) addr = physToVirt(prog, addr);
      const c = cacheAt(prog, addr);
      if (c) items.push(cacheEntry(prog, c, verbose));
      else items.push(slabAddress(prog, addr, verbose) ?? { kind: 'not-slab', address: addr });
    }
    return partial.result;
  }
  if (names[0] === 'list')
    return { mode: 'cache-list', caches: kmemCaches(prog).map((c) => ({ address: c.address, name: c.name })) };
  if (names.length) {
    const c = cacheByName(prog, names[0]!);
    if (!c) throw new CommandError(`kmem: ${names[0]}: no such kmem_cache`);
    return { mode: 'slabs', verbose, form: 'name', items: [cacheEntry(prog, c, verbose)] };
  }
  const items: CacheEntry[] = [];
  partial.result = { mode: 'slabs', verbose, form: 'all', items };
  for (const c of kmemCaches(prog)) items.push(cacheEntry(prog, c, verbose));
  return partial.result;
}

function cacheByName(prog: Program, name: string): KmemCache | undefined {
  return kmemCaches(prog).find((c) => c.name === name);
}

function badAddr(a: string): never {
  throw new CommandError(`kmem: invalid address: ${a}`);
}
