/**
 * kmem's result model and its text view: each form's records (caches, slabs and their objects, struct pages,
 * free lists, vmalloc areas, vm_stat counters, zones, what an address is) and crash's layout of them.
 */

import type { KmemInfo } from '../helpers/meminfo.js';
import { formatKmemInfo } from '../helpers/meminfo.js';
import type { VmapArea } from '../helpers/mm.js';
import type { CommandContext } from './registry.js';
import type { Hex } from './result.js';
import type { SymRecord } from './sym.js';

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

/* ------------------------------------------------------------------ records */

/** A slab cache: crash's CACHE line. The counts are absent when they could not be gathered (`error`). */
export interface CacheRecord {
  address: Hex;
  name: string;
  objectSize: number;
  allocated?: Hex;
  total?: Hex;
  slabs?: Hex;
  /** The bytes of one slab (SSIZE). */
  slabBytes: Hex;
  error?: string;
}

export interface SlabObjectRecord {
  address: Hex;
  free: boolean;
  /** The CPU whose per-CPU freelist holds the free object. */
  cpuCache?: number;
}

/** A slab: where it is, its node and object counts; `objects` (kmem -S, an address's slab) each marked free. */
export interface SlabRecord {
  slab: Hex;
  memory?: Hex;
  node?: number;
  total?: number;
  allocated?: number;
  objects?: SlabObjectRecord[];
  /** What was wrong with the slab's freelist (its objects are still listed). */
  error?: string;
  /** The slab could not be read: the message (nothing else is known). */
  invalid?: string;
}

/** kmem -S: a CPU's current slab and its partial slabs (absent when the kernel has no per-CPU partial lists). */
export interface CpuSlabs {
  cpu: number;
  kmemCacheCpu: Hex;
  slab?: SlabRecord;
  /** kmem_cache_cpu.partial (0: none); `partial` the slabs on it, up to the first that could not be read. */
  partialHead?: Hex;
  partial?: SlabRecord[];
  partialError?: string;
}

/** kmem -S: a node's lists. `full` is absent when it is not tracked (no SLAB_STORE_USER). */
export interface NodeSlabs {
  address: Hex;
  node: number;
  slabs: Hex;
  partialCount: Hex;
  /** CPU slabs on this node. */
  perCpu: number;
  partial?: SlabRecord[];
  full?: SlabRecord[];
  fullTracked: boolean;
}

/** A cache, and with kmem -S its per-CPU and per-node slabs. */
export interface CacheEntry {
  kind: 'cache';
  cache: CacheRecord;
  cpus?: CpuSlabs[];
  nodes?: NodeSlabs[];
}

/** An address in a slab: its cache and the slab (with the object holding it, or with -S all objects). */
export interface SlabAddress {
  kind: 'object';
  address: Hex;
  cache: CacheRecord;
  slab: SlabRecord;
}

export interface NotSlab {
  kind: 'not-slab';
  address: Hex;
}

/** A struct page as kmem -p shows it; `flagNames` are the kernel's page flag names of `flags`. */
export interface PageRecord {
  page: Hex;
  pfn: Hex;
  phys: Hex;
  mapping: Hex;
  index: Hex;
  count: number;
  flags: Hex;
  flagNames: string[];
}

/** The struct page of an address, or why there is none. */
export interface PageLookup {
  kind: 'page';
  address: Hex;
  physical: boolean;
  page?: PageRecord;
  /** No struct page: the address looked for (physical, when translated) and whether it was a kernel virtual one. */
  notFound?: { address: Hex; virtual: boolean; warned: boolean };
}

/** A zone as kmem -f shows it. */
export interface ZoneRow {
  node: number;
  index: number;
  name: string;
  size: Hex;
  free: Hex;
  memMap: Hex;
  startPaddr: Hex;
  startMapnr: Hex;
}

export interface FreeArea {
  order: number;
  /** Bytes of one block of this order. */
  blockBytes: Hex;
  /** free_area[order].free_list[type]. */
  freeList: Hex;
  blocks: number;
  pages: Hex;
  /** kmem -F: each block's first struct page. */
  blockPages?: Hex[];
}

/** The free block holding an address. */
export interface FreeBlockRecord {
  kind: 'free';
  address: Hex;
  physical: boolean;
  zone: ZoneRow;
  order: number;
  /** Bytes of a block of this order. */
  blockBytes: Hex;
  freeList: Hex;
  /** The block's first struct page, and which page of the block holds the address (0-based). */
  page: Hex;
  pageIndex: Hex;
  /** The address's offset in its page. */
  offset: Hex;
}

/** kmem ADDR: the kernel symbol at the address (as sym shows it). */
export interface SymbolPart extends SymRecord {
  kind: 'symbol';
}

/** kmem ADDR: the task the address belongs to (its task_struct or stack). */
export interface TaskPart {
  kind: 'task';
  pid: number;
  comm: string;
  task: Hex;
  /** Threads with the same PID. */
  samePid: number;
  threadInfo: Hex;
  cpu: number;
  state: string;
  active?: 'panic' | 'active';
}

export interface VmallocPart {
  kind: 'vmalloc';
  area: VmapArea;
}

export interface ErrorPart {
  kind: 'error';
  message: string;
}

export type SearchPart =
  | SymbolPart
  | TaskPart
  | VmallocPart
  | SlabAddress
  | FreeBlockRecord
  | PageLookup
  | ErrorPart
  | { kind: 'not-found'; address: Hex; virtual: boolean };

export interface VmStatItem {
  name: string;
  value: Hex;
}

export interface ZoneStats {
  /** The node's index among the online nodes. */
  node: number;
  zone: number;
  address: Hex;
  name: string;
  spanned: Hex;
  present: Hex;
  free: Hex;
  watermarks?: { min: Hex; low: Hex; high: Hex };
  vmStat?: VmStatItem[];
}

/**
 * kmem: `-i` (memory usage), `-s`/`-S` (caches: all, one by name, or those holding addresses), `-s list`, `-p`
 * (struct pages: all, or those of addresses), `-f`/`-F` (free lists; with addresses: their free blocks), `-v`
 * (vmalloc areas), `-V` (vm_stat), `-z` (zones), `kmem ADDR` (what each address is).
 */
export type KmemResult =
  | { mode: 'info'; pageSize: number; pages: KmemInfo }
  | {
      mode: 'slabs';
      verbose: boolean;
      /** all caches, one by name, or the caches, slabs and objects of addresses */
      form: 'all' | 'name' | 'addresses';
      items: (CacheEntry | SlabAddress | NotSlab)[];
    }
  | { mode: 'cache-list'; caches: { address: Hex; name: string }[] }
  | { mode: 'pages'; physWidth: number; pages: PageRecord[] }
  | { mode: 'page-lookup'; physWidth: number; lookups: PageLookup[] }
  | {
      mode: 'free';
      verbose: boolean;
      multiNode: boolean;
      zones: { zone: ZoneRow; areas: FreeArea[] }[];
      nrFreePages: Hex;
      found: Hex;
    }
  | { mode: 'free-blocks'; multiNode: boolean; addresses: { address: Hex; block?: FreeBlockRecord }[] }
  | { mode: 'vmalloc'; areas: VmapArea[] }
  | { mode: 'vmstat'; groups: { label: string; items: VmStatItem[] }[]; events?: VmStatItem[] }
  | { mode: 'zones'; zones: ZoneStats[] }
  | { mode: 'search'; physWidth: number; multiNode: boolean; addresses: { address: Hex; parts: SearchPart[] }[] };

/* -------------------------------------------------------------- text view */

const CACHE_HDR = 'CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n';
const SLAB_HDR = `SLAB${' '.repeat(14)}MEMORY${' '.repeat(12)}NODE  TOTAL  ALLOCATED  FREE\n`;
const FREE_HDR = 'FREE / [ALLOCATED]\n';
const VMLIST_HDR = `${justify('VMAP_AREA', 16, 'center-l')}  ${justify('VM_STRUCT', 16, 'center-l')}  ${justify('ADDRESS RANGE', 35, 'center-l')}     SIZE\n`;
const ZONE_HDR = `ZONE  NAME        SIZE    FREE  ${justify('MEM_MAP', 16, 'center-l')}  START_PADDR  START_MAPNR\n`;

type Out = (s: string) => void;

function cacheLine(c: CacheRecord, out: Out): void {
  let counts: string;
  if (c.error !== undefined) {
    out(`kmem: ${c.name}: cannot gather relevant slab data (${c.error})\n`);
    counts = `${'?'.padStart(9)}  ${'?'.padStart(8)}  ${'?'.padStart(5)}  `;
  } else
    counts = `${c.allocated!.toString().padStart(9)}  ${c.total!.toString().padStart(8)}  ${c.slabs!.toString().padStart(5)}  `;
  out(
    `${justify(hex(c.address), 16, 'left')} ${c.objectSize.toString().padStart(8)}  ${counts}${(c.slabBytes / 1024n).toString().padStart(4)}k  ${c.name}\n`,
  );
}

function objectLine(o: SlabObjectRecord): string {
  return `  ${o.free ? ' ' : '['}${hex(o.address)}${o.free ? '  ' : ']'}${o.free && o.cpuCache !== undefined ? `(cpu ${o.cpuCache} cache)` : ''}\n`;
}

/** crash's do_slab_slub(): the slab line and, verbosely, its objects. False for a slab that could not be read. */
function slabText(s: SlabRecord, verbose: boolean, out: Out): boolean {
  if (s.invalid !== undefined) {
    out(`kmem: ${s.invalid}\n`);
    return false;
  }
  if (verbose) out(`  ${SLAB_HDR}`);
  out(
    `  ${justify(hex(s.slab), 16, 'left')}  ${justify(hex(s.memory!), 16, 'left')}  ${s.node!.toString().padStart(4)}  ${s.total!.toString().padStart(5)}  ${s.allocated!.toString().padStart(9)}  ${(s.total! - s.allocated!).toString().padStart(4)}\n`,
  );
  if (!verbose) return true;
  out(`  ${FREE_HDR}`);
  if (s.error) out(`kmem: ${s.error}\n`);
  for (const o of s.objects ?? []) out(objectLine(o));
  return true;
}

function cacheDetailText(e: CacheEntry, out: Out): void {
  for (const cs of e.cpus ?? []) {
    out(`CPU ${cs.cpu} KMEM_CACHE_CPU:\n  ${hex(cs.kmemCacheCpu)}\n`);
    out(`CPU ${cs.cpu} SLAB:\n${cs.slab ? '' : '  (empty)\n'}`);
    if (cs.slab && !slabText(cs.slab, true, out)) continue;
    if (cs.partialHead !== undefined) {
      out(`CPU ${cs.cpu} PARTIAL:\n${cs.partialHead ? '' : '  (empty)\n'}`);
      if (cs.partialError !== undefined) out(`kmem: ${e.cache.name}: ${cs.partialError}\n`);
      for (const p of cs.partial ?? []) if (!slabText(p, true, out)) break;
    }
  }
  for (const n of e.nodes ?? []) {
    out('KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n');
    out(
      `${hex(n.address)}  ${n.node.toString().padStart(4)}  ${n.slabs.toString().padStart(5)}  ${n.partialCount.toString().padStart(7)}  ${n.perCpu.toString().padStart(7)}\n`,
    );
    if (n.address === 0n) continue;
    const list = (which: string, slabs: SlabRecord[]): void => {
      out(`NODE ${n.node} ${which}:\n${slabs.length ? '' : '  (empty)\n'}`);
      if (slabs.length) out(`  ${SLAB_HDR}`);
      for (const s of slabs) if (!slabText(s, false, out)) return;
    };
    list('PARTIAL', n.partial ?? []);
    if (!n.fullTracked) out(`NODE ${n.node} FULL:\n  (not tracked)\n`);
    else list('FULL', n.full ?? []);
  }
  out('\n');
}

function slabAddressText(a: SlabAddress, out: Out): void {
  out(CACHE_HDR);
  cacheLine(a.cache, out);
  slabText(a.slab, true, out);
}

export function pageHeader(width: number): string {
  return `${justify('PAGE', 16, 'center-l')} ${justify('PHYSICAL', width, 'right')} ${justify('MAPPING', 16, 'center-r')} ${justify('INDEX', 8, 'center-r')}CNT FLAGS\n`;
}

export function pageLine(p: PageRecord, width: number): string {
  const flags = `${hex(p.flags)}${p.flagNames.length ? ` ${p.flagNames.join(',')}` : ''}`;
  return `${justify(hex(p.page), 16, 'left')} ${hex(p.phys).padStart(width)} ${hex(p.mapping).padStart(16)} ${hex(p.index).padStart(8)} ${p.count.toString().padStart(2)} ${flags}\n`;
}

function pageLookupText(l: PageLookup, width: number, out: Out): void {
  if (!l.page) {
    const nf = l.notFound!;
    if (nf.warned) {
      // crash's slab lookup and free-list search each complain before the mem_map says no.
      out(
        `WARNING: cannot find mem_map page for address: ${hex(l.address)}\nkmem: cannot determine page for ${hex(l.address)}\n`,
      );
    }
    out(`${hex(nf.address)}: ${nf.virtual ? 'kernel virtual' : 'physical'} address not found in mem map\n`);
    return;
  }
  out(pageHeader(width));
  out(pageLine(l.page, width));
}

function vmLine(a: VmapArea): string {
  return `${hex(a.vmapArea)}  ${hex(a.vmStruct)}  ${hex(a.start).padStart(16)} - ${justify(hex(a.end), 16, 'left')}  ${a.size.toString().padStart(7)}\n`;
}

function ordinal(n: bigint): string {
  const t = n % 100n;
  const suffix = t >= 11n && t <= 13n ? 'th' : (['th', 'st', 'nd', 'rd'][Number(n % 10n)] ?? 'th');
  return `${n}${suffix}`;
}

function zoneLine(z: ZoneRow): string {
  return `${z.index.toString().padStart(3)}   ${z.name.padEnd(9)} ${z.size.toString().padStart(6)}  ${z.free.toString().padStart(6)}  ${justify(hex(z.memMap), 16, 'center-l')}  ${justify(hex(z.startPaddr), 11, 'center-r')}  ${justify(z.startMapnr.toString(), 11, 'center-r')}\n`;
}

function areaPrefix(order: number, blockBytes: bigint, head: bigint): string {
  const size = `${blockBytes / 1024n}k`;
  return `${order.toString().padStart(3)}  ${size.padStart(7)}  ${justify(hex(head), 16, 'center-l')}  `;
}

function freeBlockText(b: FreeBlockRecord, multiNode: boolean, out: Out): void {
  const z = b.zone;
  if (multiNode) out(`NODE\n ${z.node.toString().padStart(2)}\n`);
  out(ZONE_HDR);
  out(zoneLine(z));
  out('AREA    SIZE  FREE_AREA_STRUCT\n');
  out(`${areaPrefix(b.order, b.blockBytes, b.freeList)}\n`);
  let s = `${hex(b.page)}  `;
  if (b.order) {
    s += b.physical ? `(${hex(b.address)} is ${b.offset ? 'in ' : ''}` : `(${hex(b.address)} is `;
    s += `${ordinal(b.pageIndex + 1n)} of ${1n << BigInt(b.order)} pages)`;
  }
  out(`${s}\n`);
}

function freeListsText(r: Extract<KmemResult, { mode: 'free' }>, out: Out): void {
  let lastNode = -1;
  for (const { zone: z, areas } of r.zones) {
    if (r.multiNode && z.node !== lastNode) {
      if (lastNode >= 0) out(`\n${'-'.repeat(74)}\n`);
      out(`${lastNode >= 0 ? '\n' : ''}NODE\n ${z.node.toString().padStart(2)}\n`);
    }
    out(`${z.node === lastNode ? '\n' : ''}${ZONE_HDR}`);
    lastNode = z.node;
    out(zoneLine(z));
    if (!z.free) continue;
    if (!r.verbose) out('AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n');
    for (const l of areas) {
      if (r.verbose) {
        out('AREA    SIZE  FREE_AREA_STRUCT\n');
        let s = `${areaPrefix(l.order, l.blockBytes, l.freeList)}\n`;
        for (const b of l.blockPages ?? []) s += `${hex(b)}\n`;
        out(s);
      } else
        out(
          `${areaPrefix(l.order, l.blockBytes, l.freeList)}${l.blocks.toString().padStart(6)} ${l.pages.toString().padStart(6)}\n`,
        );
    }
  }
  const { nrFreePages: sum, found } = r;
  out(`\nnr_free_pages: ${sum}  ${sum === found ? '(verified)' : `(found ${found})`}\n`);
}

function symbolText(p: SymbolPart): string {
  let line = '';
  // crash prints the source line of a text address (an empty one when there is none).
  if (p.letter === 't' || p.letter === 'T') line = ` ${p.file !== undefined ? `${p.file}: ${p.line}` : ''}`;
  return `${hex(p.address)} (${p.letter}) ${p.name}${p.offset ? `+${p.offset}` : ''}${p.module ? ` [${p.module}]` : ''}${line}\n`;
}

function taskText(t: TaskPart, out: Out): void {
  const tail = t.active === 'panic' ? '(PANIC)' : t.active === 'active' ? '(ACTIVE)' : '';
  out(`    PID: ${t.pid}\n`);
  out(`COMMAND: "${t.comm}"\n`);
  out(`   TASK: ${hex(t.task)}  ${t.samePid > 1 ? `(1 of ${t.samePid})  ` : ''}[THREAD_INFO: ${hex(t.threadInfo)}]\n`);
  out(`    CPU: ${t.cpu}\n`);
  out(`  STATE: ${t.state} ${tail}\n`);
}

function aligned(items: VmStatItem[], width: number): string {
  return items.map(({ name, value }) => `${name.padStart(width)}: ${value}\n`).join('');
}

/** crash's layout of a kmem result. */
export function kmemText(r: KmemResult, ctx: CommandContext): void {
  const out: Out = (s) => ctx.out(s);
  switch (r.mode) {
    case 'info':
      out(formatKmemInfo(r.pages, r.pageSize));
      return;
    case 'slabs': {
      if (r.form === 'all') {
        out(CACHE_HDR);
        r.items.forEach((e, i) => {
          if (e.kind !== 'cache') return;
          cacheLine(e.cache, out);
          if (!r.verbose) return;
          cacheDetailText(e, out);
          if (i + 1 < r.items.length) out(CACHE_HDR);
        });
        return;
      }
      r.items.forEach((e, i) => {
        if (i && r.form === 'addresses') out('\n');
        if (e.kind === 'cache') {
          out(CACHE_HDR);
          cacheLine(e.cache, out);
          if (r.verbose) cacheDetailText(e, out);
        } else if (e.kind === 'object') slabAddressText(e, out);
        else out(`kmem: address is not allocated in slab subsystem: ${hex(e.address)}\n`);
      });
      return;
    }
    case 'cache-list':
      out(r.caches.map((c) => `${hex(c.address)} ${c.name}\n`).join(''));
      return;
    case 'pages': {
      out(pageHeader(r.physWidth));
      let buf = '';
      for (const p of r.pages) {
        buf += pageLine(p, r.physWidth);
        if (buf.length > 1 << 20) {
          out(buf);
          buf = '';
        }
      }
      out(buf);
      return;
    }
    case 'page-lookup':
      for (const l of r.lookups) pageLookupText(l, r.physWidth, out);
      return;
    case 'free':
      freeListsText(r, out);
      return;
    case 'free-blocks':
      r.addresses.forEach((a, i) => {
        if (i) out('\n');
        if (a.block) freeBlockText(a.block, r.multiNode, out);
      });
      return;
    case 'vmalloc':
      out(VMLIST_HDR);
      for (const a of r.areas) out(vmLine(a));
      return;
    case 'vmstat': {
      const width = Math.max(0, ...r.groups.flatMap((g) => g.items.map((x) => x.name.length)));
      r.groups.forEach((g, i) => {
        out(`${i ? '\n' : ''}  ${g.label}:\n${aligned(g.items, width)}`);
      });
      const ev = r.events;
      if (ev) out(`\n  VM_EVENT_STATES:\n${aligned(ev, Math.max(0, ...ev.map((x) => x.name.length)))}`);
      return;
    }
    case 'zones':
      for (const z of r.zones) {
        out(`NODE: ${z.node}  ZONE: ${z.zone}  ADDR: ${hex(z.address)}  NAME: "${z.name}"\n`);
        if (!z.spanned) {
          out('  [unpopulated]\n\n');
          continue;
        }
        const w = z.watermarks!;
        out(
          `  SIZE: ${z.spanned}${z.present < z.spanned ? `  PRESENT: ${z.present}` : ''}  MIN/LOW/HIGH: ${w.min}/${w.low}/${w.high}`,
        );
        const items = z.vmStat ?? [];
        if (items.length) out(`\n  VM_STAT:\n${aligned(items, Math.max(...items.map((x) => x.name.length)))}`);
        else out(`  FREE: ${z.free}\n`);
        out('\n\n');
      }
      return;
    case 'search':
      r.addresses.forEach((a, i) => {
        if (i) out('\n');
        for (const p of a.parts) {
          switch (p.kind) {
            case 'symbol':
              out(`${symbolText(p)}\n`);
              break;
            case 'task':
              taskText(p, out);
              out('\n');
              break;
            case 'vmalloc':
              out(VMLIST_HDR);
              out(vmLine(p.area));
              out('\n');
              break;
            case 'object':
              slabAddressText(p, out);
              out('\n');
              break;
            case 'free':
              freeBlockText(p, r.multiNode, out);
              out('\n');
              break;
            case 'page':
              pageLookupText(p, r.physWidth, out);
              break;
            case 'error':
              out(`kmem: ${p.message}\n`);
              break;
            case 'not-found':
              out(`${hex(p.address)}: ${p.virtual ? 'kernel virtual' : 'physical'} address not found in mem map\n`);
              break;
          }
        }
      });
      return;
  }
}
