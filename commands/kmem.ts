import { formatKmemInfo, type KmemInfo, kmemInfo } from '../helpers/meminfo.js';
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
  type VmapArea,
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
  type SlabObject,
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
import { CommandError, FaultError, TscrashError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import type { Command, CommandContext } from './registry.js';

const hex = (v: bigint): string => v.toString(16);

/** crash's mkstring(): pad to `width`, centred (odd extra goes right for ljust, left for rjust), or justified. */
export function justify(s: string, width: number, how: 'center-l' | 'center-r' | 'left' | 'right'): string {
  if (s.length >= width) return s;
  const extra = width - s.length;
  if (how === 'left') return s + ' '.repeat(extra);
  if (how === 'right') return ' '.repeat(extra) + s;
  const half = Math.floor(extra / 2);
  const left = extra % 2 ? (how === 'center-r' ? half + 1 : half) : half;
  return ' '.repeat(left) + s + ' '.repeat(extra - left);
}

/* -------------------------------------------------------------- slab output */

const CACHE_HDR = 'CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n';
const SLAB_HDR = `SLAB${' '.repeat(14)}MEMORY${' '.repeat(12)}NODE  TOTAL  ALLOCATED  FREE\n`;
const FREE_HDR = 'FREE / [ALLOCATED]\n';

function cacheLine(prog: Program, c: KmemCache, out: (s: string) => void): void {
  let counts: string;
  try {
    const n = cacheCounts(prog, c);
    counts = `${n.allocated.toString().padStart(9)}  ${n.total.toString().padStart(8)}  ${n.slabs.toString().padStart(5)}  `;
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
    out(`kmem: ${c.name}: cannot gather relevant slab data (${e.message})\n`);
    counts = `${'?'.padStart(9)}  ${'?'.padStart(8)}  ${'?'.padStart(5)}  `;
  }
  out(
    `${justify(hex(c.address), 16, 'left')} ${c.objectSize.toString().padStart(8)}  ${counts}${(c.slabBytes / 1024n).toString().padStart(4)}k  ${c.name}\n`,
  );
}

function slabInfoLine(s: SlabContents): string {
  return `  ${justify(hex(s.slab), 16, 'left')}  ${justify(hex(s.memory), 16, 'left')}  ${s.node.toString().padStart(4)}  ${s.objects.toString().padStart(5)}  ${s.inuse.toString().padStart(9)}  ${(s.objects - s.inuse).toString().padStart(4)}\n`;
}

function objectLine(o: SlabObject): string {
  return `  ${o.free ? ' ' : '['}${hex(o.address)}${o.free ? '  ' : ']'}${o.free && o.cpuCache !== undefined ? `(cpu ${o.cpuCache} cache)` : ''}\n`;
}

/** crash's do_slab_slub(): the slab line and, verbosely, its objects (only `only`'s object when given). */
function showSlab(
  prog: Program,
  c: KmemCache,
  slab: bigint,
  opts: { verbose: boolean; only?: bigint },
  out: (s: string) => void,
): boolean {
  let s: SlabContents;
  try {
    s = slabContents(prog, c, slab);
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
    out(`kmem: ${c.name}: invalid slab address: ${hex(slab)} (${e.message})\n`);
    return false;
  }
  if (opts.verbose) out(`  ${SLAB_HDR}`);
  out(slabInfoLine(s));
  if (!opts.verbose) return true;
  out(`  ${FREE_HDR}`);
  if (s.error) out(`kmem: ${s.error}\n`);
  for (const o of s.list) {
    if (opts.only !== undefined) {
      const start = o.address - c.redLeftPad;
      if (opts.only < start || opts.only >= start + BigInt(c.size)) continue;
    }
    out(objectLine(o));
  }
  return true;
}

/** `kmem -S`: per-CPU slabs and partial lists, then each node's partial and full lists. */
function showCacheVerbose(prog: Program, c: KmemCache, out: (s: string) => void): void {
  const perNodeCpu = new Map<number, number>();
  for (const cpu of slabCpus(prog)) {
    const cs = cpuSlab(prog, c, cpu);
    out(`CPU ${cpu} KMEM_CACHE_CPU:\n  ${hex(cs.kmemCacheCpu)}\n`);
    out(`CPU ${cpu} SLAB:\n${cs.slab ? '' : '  (empty)\n'}`);
    if (cs.slab) {
      const node = slabContentsNode(prog, c, cs.slab);
      if (node >= 0) perNodeCpu.set(node, (perNodeCpu.get(node) ?? 0) + 1);
      if (!showSlab(prog, c, cs.slab, { verbose: true }, out)) continue;
    }
    if (prog.hasMember('struct kmem_cache_cpu', 'partial')) {
      out(`CPU ${cpu} PARTIAL:\n${cs.partial ? '' : '  (empty)\n'}`);
      let chain: bigint[] = [];
      try {
        chain = cpuPartialSlabs(prog, cs.partial);
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
        out(`kmem: ${c.name}: ${e.message}\n`);
      }
      for (const p of chain) if (!showSlab(prog, c, p, { verbose: true }, out)) break;
    }
  }
  for (const n of cacheNodes(prog, c)) {
    out('KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n');
    out(
      `${hex(n.address)}  ${n.node.toString().padStart(4)}  ${n.nrSlabs.toString().padStart(5)}  ${n.nrPartial.toString().padStart(7)}  ${(perNodeCpu.get(n.node) ?? 0).toString().padStart(7)}\n`,
    );
    if (n.address === 0n) continue;
    const list = (which: 'partial' | 'full'): void => {
      const slabs = nodeListSlabs(prog, n.address, which);
      out(`NODE ${n.node} ${which.toUpperCase()}:\n${slabs.length ? '' : '  (empty)\n'}`);
      if (slabs.length) out(`  ${SLAB_HDR}`);
      for (const s of slabs) if (!showSlab(prog, c, s, { verbose: false }, out)) return;
    };
    list('partial');
    if (!prog.hasMember('struct kmem_cache_node', 'full') || !(c.flags & SLAB_STORE_USER)) {
      out(`NODE ${n.node} FULL:\n  (not tracked)\n`);
    } else list('full');
  }
  out('\n');
}

function slabContentsNode(prog: Program, c: KmemCache, slab: bigint): number {
  try {
    return slabContents(prog, c, slab).node;
  } catch {
    return -1;
  }
}

/** `kmem -s|-S ADDR`: the cache line, then the slab holding the address and its object. */
function showSlabAddress(prog: Program, addr: bigint, verbose: boolean, out: (s: string) => void): boolean {
  const pageCache = slabPageCache(prog, addr);
  if (pageCache) {
    out(CACHE_HDR);
    cacheLine(prog, pageCache, out);
    showSlab(prog, pageCache, addr, { verbose: true }, out);
    return true;
  }
  const hit = findSlabObject(prog, addr);
  if (!hit) return false;
  out(CACHE_HDR);
  cacheLine(prog, hit.cache, out);
  showSlab(prog, hit.cache, hit.slab, { verbose: true, only: verbose ? undefined : addr }, out);
  return true;
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

function pageHeader(prog: Program): string {
  return `${justify('PAGE', 16, 'center-l')} ${justify('PHYSICAL', physWidth(prog), 'right')} ${justify('MAPPING', 16, 'center-r')} ${justify('INDEX', 8, 'center-r')}CNT FLAGS\n`;
}

function pageLine(prog: Program, p: PageInfo, width: number): string {
  return `${justify(hex(p.page), 16, 'left')} ${hex(p.phys).padStart(width)} ${hex(p.mapping).padStart(16)} ${hex(p.index).padStart(8)} ${p.count.toString().padStart(2)} ${formatPageFlags(prog, p.flags)}\n`;
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

function showPageOf(prog: Program, addr: bigint, physical: boolean, out: (s: string) => void, search = false): void {
  const { page, phys } = pageFor(prog, addr, physical);
  if (page === undefined) {
    if (search && !physical && phys !== undefined && addr >= KVADDR_START) {
      // crash's slab lookup and free-list search each complain before the mem_map says no.
      out(
        `WARNING: cannot find mem_map page for address: ${hex(addr)}\nkmem: cannot determine page for ${hex(addr)}\n`,
      );
    }
    const kv = !physical && addr >= KVADDR_START;
    out(`${hex(phys ?? addr)}: ${kv ? 'kernel virtual' : 'physical'} address not found in mem map\n`);
    return;
  }
  out(pageHeader(prog));
  out(pageLine(prog, readPage(prog, page), physWidth(prog)));
}

function showAllPages(prog: Program, out: (s: string) => void): void {
  const mm = memMap(prog);
  const f = pageFields(prog);
  const width = physWidth(prog);
  out(pageHeader(prog));
  let buf = '';
  mm.forEachPage((page, pfn, b, o) => {
    buf += pageLine(prog, decodePage(page, pfn, mm.pageShift, f, b, o), width);
    if (buf.length > 1 << 20) {
      out(buf);
      buf = '';
    }
  });
  out(buf);
}

/* ------------------------------------------------------------- vmalloc */

const VMLIST_HDR = `${justify('VMAP_AREA', 16, 'center-l')}  ${justify('VM_STRUCT', 16, 'center-l')}  ${justify('ADDRESS RANGE', 35, 'center-l')}     SIZE\n`;

function vmLine(a: VmapArea): string {
  return `${hex(a.vmapArea)}  ${hex(a.vmStruct)}  ${hex(a.start).padStart(16)} - ${justify(hex(a.end), 16, 'left')}  ${a.size.toString().padStart(7)}\n`;
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
function showContext(prog: Program, task: Obj, tasks: Obj[], out: (s: string) => void): void {
  const pid = taskPid(task);
  const same = tasks.filter((t) => taskPid(t) === pid).length;
  const addr = task.address as bigint;
  const active = activeTasks(prog);
  let tail = '';
  if (active.has(addr)) tail = panicTaskAddress(prog) === addr ? '(PANIC)' : '(ACTIVE)';
  out(`    PID: ${pid}\n`);
  out(`COMMAND: "${taskComm(task)}"\n`);
  out(`   TASK: ${hex(addr)}  ${same > 1 ? `(1 of ${same})  ` : ''}[THREAD_INFO: ${hex(threadInfo(task))}]\n`);
  out(`    CPU: ${taskCpu(task)}\n`);
  out(`  STATE: ${taskStateString(task)} ${tail}\n`);
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

function ordinal(n: bigint): string {
  const t = n % 100n;
  const suffix = t >= 11n && t <= 13n ? 'th' : (['th', 'st', 'nd', 'rd'][Number(n % 10n)] ?? 'th');
  return `${n}${suffix}`;
}

const ZONE_HDR = `ZONE  NAME        SIZE    FREE  ${justify('MEM_MAP', 16, 'center-l')}  START_PADDR  START_MAPNR\n`;

function zoneLine(prog: Program, z: ZoneInfo): string {
  const zm = zoneMemMap(prog, z);
  const paddr = z.startPfn << memMap(prog).pageShift;
  return `${z.index.toString().padStart(3)}   ${z.name.padEnd(9)} ${z.spanned.toString().padStart(6)}  ${z.free.toString().padStart(6)}  ${justify(hex(zm.memMap), 16, 'center-l')}  ${justify(hex(paddr), 11, 'center-r')}  ${justify(zm.startMapnr.toString(), 11, 'center-r')}\n`;
}

function areaPrefix(prog: Program, order: number, head: bigint): string {
  const size = `${(BigInt(prog.memory.pageSize) << BigInt(order)) / 1024n}k`;
  return `${order.toString().padStart(3)}  ${size.padStart(7)}  ${justify(hex(head), 16, 'center-l')}  `;
}

/** `kmem -f` / `kmem -F`: each zone's free lists, block counts (or, verbosely, the blocks). */
function showFreeLists(prog: Program, verbose: boolean, out: (s: string) => void): void {
  const nodes = onlineNodes(prog);
  let sum = 0n;
  let found = 0n;
  let lastNode = -1;
  for (const z of zones(prog)) {
    if (nodes.length > 1 && z.node !== lastNode) {
      if (lastNode >= 0) out(`\n${'-'.repeat(74)}\n`);
      out(`${lastNode >= 0 ? '\n' : ''}NODE\n ${z.node.toString().padStart(2)}\n`);
    }
    out(`${z.node === lastNode ? '\n' : ''}${ZONE_HDR}`);
    lastNode = z.node;
    out(zoneLine(prog, z));
    sum += z.free;
    if (!z.free) continue;
    if (!verbose) out('AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n');
    for (const l of zoneFreeLists(prog, z, true)) {
      if (verbose) out('AREA    SIZE  FREE_AREA_STRUCT\n');
      const pages = BigInt(l.blocks.length) << BigInt(l.order);
      found += pages;
      if (verbose) out(`${areaPrefix(prog, l.order, l.head)}\n${l.blocks.map((b) => `${hex(b)}\n`).join('')}`);
      else
        out(
          `${areaPrefix(prog, l.order, l.head)}${l.blocks.length.toString().padStart(6)} ${pages.toString().padStart(6)}\n`,
        );
    }
  }
  out(`\nnr_free_pages: ${sum}  ${sum === found ? '(verified)' : `(found ${found})`}\n`);
}

/** crash's free-list search for one address (dump_free_pages_zones_v2 with an address): true when found. */
function showFreeBlock(prog: Program, addr: bigint, physical: boolean, out: (s: string) => void): boolean {
  const mm = memMap(prog);
  let phys: bigint | undefined = physical ? addr : mm.pageToPhys(addr);
  if (phys === undefined) {
    try {
      phys = prog.memory.virtToPhys(addr);
    } catch {
      return false;
    }
  }
  const b = findFreeBlock(prog, phys);
  if (!b) return false;
  const z = b.zone;
  if (onlineNodes(prog).length > 1) out(`NODE\n ${z.node.toString().padStart(2)}\n`);
  out(ZONE_HDR);
  out(zoneLine(prog, z));
  out('AREA    SIZE  FREE_AREA_STRUCT\n');
  out(`${areaPrefix(prog, b.order, b.freeList)}\n`);
  let s = `${hex(b.page)}  `;
  if (b.order) {
    const offset = addr & (BigInt(prog.memory.pageSize) - 1n);
    s += physical ? `(${hex(addr)} is ${offset ? 'in ' : ''}` : `(${hex(addr)} is `;
    s += `${ordinal(b.pageIndex + 1n)} of ${1n << BigInt(b.order)} pages)`;
  }
  out(`${s}\n`);
  return true;
}

/* ------------------------------------------------------------ kmem ADDR */

function symbolLine(prog: Program, vaddr: bigint): string | undefined {
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
  let line = '';
  if (st.symbol.letter === 't' || st.symbol.letter === 'T') {
    // crash prints the source line of a text address (an empty one when there is none).
    const l = prog.lineFor(vaddr);
    line = ` ${l ? `${l.file}: ${l.line}` : ''}`;
  }
  return `${hex(vaddr)} (${st.symbol.letter}) ${st.symbol.name}${st.offset ? `+${st.offset}` : ''}${st.symbol.module ? ` [${st.symbol.module}]` : ''}${line}\n`;
}

function kmemSearch(prog: Program, addr: bigint, out: (s: string) => void): void {
  const kv = addr >= KVADDR_START;
  const mm = memMap(prog);
  let vaddr: bigint | undefined = addr;
  if (!kv) vaddr = mm.physToPage(addr) !== undefined ? physToVirt(prog, addr) : undefined;
  const tasks = allTasks(prog);
  if (vaddr !== undefined) {
    const sym = symbolLine(prog, vaddr);
    if (sym) out(`${sym}\n`);
  }
  if (kv) {
    const area = vmallocAreas(prog).find((a) => addr >= a.start && addr < a.end);
    if (area) {
      const t = taskWithStack(prog, tasks, addr);
      if (t) {
        showContext(prog, t, tasks, out);
        out('\n');
      }
      let phys: bigint | undefined;
      try {
        phys = prog.memory.virtToPhys(addr);
      } catch {
        phys = undefined;
      }
      if (phys !== undefined) {
        out(VMLIST_HDR);
        out(vmLine(area));
        out('\n');
        showPageOf(prog, phys, true, out);
        return;
      }
    }
  }
  if (vaddr !== undefined) {
    if (showSlabAddress(prog, vaddr, false, out)) out('\n');
    if (showFreeBlock(prog, addr, !kv, out)) out('\n');
    const t = taskContaining(prog, tasks, vaddr) ?? taskWithStack(prog, tasks, vaddr);
    if (t) {
      showContext(prog, t, tasks, out);
      out('\n');
    }
    showPageOf(prog, addr, !kv, out, true);
    return;
  }
  out(`${hex(addr)}: ${kv ? 'kernel virtual' : 'physical'} address not found in mem map\n`);
}

/* --------------------------------------------------------------- vm_stat */

function aligned(items: [string, bigint][], width: number): string {
  return items.map(([n, v]) => `${n.padStart(width)}: ${v}\n`).join('');
}

/** `kmem -V`: the vm_stat counters (crash's dump_vm_stat) and the summed VM event counters. */
function showVmStat(prog: Program, out: (s: string) => void): void {
  const groups = vmStatGroups(prog);
  const width = Math.max(0, ...groups.flatMap((g) => g.items.map(([n]) => n.length)));
  groups.forEach((g, i) => {
    out(`${i ? '\n' : ''}  ${g.label}:\n${aligned(g.items, width)}`);
  });
  const ev = vmEvents(prog, slabCpus(prog));
  if (ev) out(`\n  VM_EVENT_STATES:\n${aligned(ev, Math.max(0, ...ev.map(([n]) => n.length)))}`);
}

/** `kmem -z`: each zone's size, watermarks and vm_stat (crash's dump_zone_stats). */
function showZones(prog: Program, out: (s: string) => void): void {
  const nodeIndex = new Map(onlineNodes(prog).map((n, i) => [n.id, i]));
  for (const z of zones(prog)) {
    out(
      `NODE: ${nodeIndex.get(z.node) ?? z.node}  ZONE: ${z.index}  ADDR: ${hex(z.obj.address as bigint)}  NAME: "${z.name}"\n`,
    );
    if (!z.spanned) {
      out('  [unpopulated]\n\n');
      continue;
    }
    const [min, low, high] = zoneWatermarks(prog, z.obj);
    out(
      `  SIZE: ${z.spanned}${z.present < z.spanned ? `  PRESENT: ${z.present}` : ''}  MIN/LOW/HIGH: ${min}/${low}/${high}`,
    );
    const items = zoneVmStat(prog, z.obj);
    if (items.length) out(`\n  VM_STAT:\n${aligned(items, Math.max(...items.map(([n]) => n.length)))}`);
    else out(`  FREE: ${z.free}\n`);
    out('\n\n');
  }
}

/* ------------------------------------------------------------- command */

function parseAddress(a: string): bigint | undefined {
  if (!/^(0x)?[0-9a-f]+$/i.test(a)) return undefined;
  return BigInt(a.toLowerCase().startsWith('0x') ? a : `0x${a}`);
}

/** kmem: -i as data; the other forms (not modelled yet) as crash's text. */
export type KmemResult = { mode: 'info'; pageSize: number; pages: KmemInfo } | { mode: 'text'; text: string };

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
  run(ctx, args): KmemResult {
    const prog = ctx.program;
    if (args.length === 1 && /^-i+$/.test(args[0]!)) {
      if (!prog.hasDebugInfo) prog.requireDebugInfo('kmem');
      return { mode: 'info', pageSize: prog.memory.pageSize, pages: kmemInfo(prog) };
    }
    // The other forms are not modelled yet: their result is crash's text.
    let text = '';
    kmemText({ ...ctx, out: (s) => (text += s) }, args);
    return { mode: 'text', text };
  },
  text(r, ctx) {
    if (r.mode === 'text') {
      ctx.out(r.text);
      return;
    }
    ctx.out(formatKmemInfo(r.pages, r.pageSize));
  },
};

/** kmem's forms in crash's text (all but -i, which has a result model). */
function kmemText(ctx: CommandContext, args: string[]): void {
  {
    const prog = ctx.program;
    const out = (s: string): void => ctx.out(s);
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
    if (flag === 'i') {
      if (rest.length) throw new CommandError('kmem -i takes no arguments');
      out(formatKmemInfo(kmemInfo(prog), prog.memory.pageSize));
      return;
    }
    if (flag === 'z') {
      if (rest.length) throw new CommandError('kmem -z takes no arguments');
      showZones(prog, out);
      return;
    }
    if (flag === 'V') {
      if (rest.length) throw new CommandError('kmem -V takes no arguments');
      showVmStat(prog, out);
      return;
    }
    if (flag === 'f' || flag === 'F') {
      if (!rest.length) {
        showFreeLists(prog, flag === 'F', out);
        return;
      }
      rest.forEach((a, i) => {
        const v = parseAddress(a) ?? badAddr(a);
        if (i) out('\n');
        showFreeBlock(prog, v, v < KVADDR_START, out);
      });
      return;
    }
    if (flag === 'v') {
      const areas = vmallocAreas(prog);
      const want = rest.map((a) => parseAddress(a) ?? badAddr(a));
      out(VMLIST_HDR);
      for (const a of areas) if (!want.length || want.some((w) => w >= a.start && w < a.end)) out(vmLine(a));
      return;
    }
    if (flag === 'p') {
      if (!rest.length) {
        showAllPages(prog, out);
        return;
      }
      for (const a of rest) {
        const pfn = /^pfn:(0x[0-9a-f]+|\d+)$/i.exec(a);
        if (pfn) {
          showPageOf(prog, BigInt(pfn[1]!) << memMap(prog).pageShift, true, out);
          continue;
        }
        const v = parseAddress(a) ?? badAddr(a);
        showPageOf(prog, v, false, out);
      }
      return;
    }
    if (flag === 's' || flag === 'S') {
      const verbose = flag === 'S';
      const names = rest.filter((a) => parseAddress(a) === undefined || cacheByName(prog, a));
      const addrs = rest.filter((a) => !names.includes(a)).map((a) => parseAddress(a)!);
      if (names.length > 1) throw new CommandError('kmem: only one kmem_cache reference is allowed');
      let calls = 0;
      for (let addr of addrs) {
        if (addr < KVADDR_START && memMap(prog).physToPage(addr) !== undefined) addr = physToVirt(prog, addr);
        if (calls++) out('\n');
        const c = cacheAt(prog, addr);
        if (c) {
          out(CACHE_HDR);
          cacheLine(prog, c, out);
          if (verbose) showCacheVerbose(prog, c, out);
          continue;
        }
        if (!showSlabAddress(prog, addr, verbose, out))
          out(`kmem: address is not allocated in slab subsystem: ${hex(addr)}\n`);
      }
      if (addrs.length) return;
      if (names[0] === 'list') {
        for (const c of kmemCaches(prog)) out(`${hex(c.address)} ${c.name}\n`);
        return;
      }
      if (names.length) {
        const c = cacheByName(prog, names[0]!);
        if (!c) throw new CommandError(`kmem: ${names[0]}: no such kmem_cache`);
        out(CACHE_HDR);
        cacheLine(prog, c, out);
        if (verbose) showCacheVerbose(prog, c, out);
        return;
      }
      const all = kmemCaches(prog);
      out(CACHE_HDR);
      all.forEach((c, i) => {
        cacheLine(prog, c, out);
        if (!verbose) return;
        showCacheVerbose(prog, c, out);
        if (i + 1 < all.length) out(CACHE_HDR);
      });
      return;
    }
    if (!rest.length) throw new CommandError('usage: kmem -i | -s [name] | -S name | -p [addr] | -v | address ...');
    rest.forEach((a, i) => {
      const v = parseAddress(a);
      if (v === undefined) throw new CommandError(`kmem: ${a}: a cache name needs -s or -S`);
      if (i) out('\n');
      try {
        kmemSearch(prog, v, out);
      } catch (e) {
        if (e instanceof FaultError) out(`kmem: ${e.message}\n`);
        else throw e;
      }
    });
  }
}

function cacheByName(prog: Program, name: string): KmemCache | undefined {
  return kmemCaches(prog).find((c) => c.name === name);
}

function badAddr(a: string): never {
  throw new CommandError(`kmem: invalid address: ${a}`);
}
