/**
 * The figures of crash's `kmem -i`, each computed the way crash 8.0.2 computes
 * it (memory.c dump_kmeminfo): totalram_pages, the zones' NR_FREE_PAGES, a
 * mem_map pass for SHARED and SLAB, the block-device inodes' page cache for
 * BUFFERS, NR_FILE_PAGES less the swap cache and buffers for CACHED, hstates,
 * swap_info, and the overcommit limit against vm_committed_as.
 */
import { TscrashError } from '../core/errors.js';
import { type Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listForEach } from './lists.js';
import { memMap, pageFields, pageFlagBit, vmStat, zones } from './mm.js';
import { totalRamPages } from './tasks.js';

function atomicValue(o: Obj): bigint {
  return o.hasMember('counter') ? o.member('counter').value() : o.value();
}

/* ------------------------------------------------------------------ kmem -i */

/** Page counts crash's kmem -i reads from the memory map: total RAM, reserved, shared, buffers, slab. */
export interface MemMapCounts {
  /** Pages of valid sections that are not PG_reserved. */
  totalram: bigint;
  reserved: bigint;
  /** Non-reserved pages with a reference count above one (crash's SHARED). */
  shared: bigint;
  /** Pages with PG_private set (buffer heads attached). */
  buffers: bigint;
  /** Pages with PG_slab set. */
  slab: bigint;
}

/** One pass over the mem_map, counting what crash's dump_mem_map(GET_ALL) counts. */
export function memMapCounts(prog: Program): MemMapCounts {
  const mm = memMap(prog);
  const f = pageFields(prog);
  const bit = (name: string): bigint => {
    const b = pageFlagBit(prog, name);
    return b === undefined ? 0n : 1n << b;
  };
  // Flag bits as (word, mask) over the two 32-bit halves of page->flags, so the walk does no bigint work.
  const half = (m: bigint): [number, number] => (m < 1n << 32n ? [0, Number(m)] : [4, Number(m >> 32n)]);
  const [resW, resM] = half(bit('PG_reserved'));
  const [slabW, slabM] = half(bit('PG_slab'));
  const [privW, privM] = half(bit('PG_private'));
  const sz = mm.pageStructSize;
  let total = 0;
  let reserved = 0;
  let shared = 0;
  let buffers = 0;
  let slab = 0;
  mm.forEachChunk((_page, _pfn, b, n) => {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let j = 0, o = 0; j < n; j++, o += sz) {
      const fo = o + f.flags;
      if (dv.getUint32(fo + privW, true) & privM) buffers++;
      if (dv.getUint32(fo + slabW, true) & slabM) slab++;
      if (dv.getUint32(fo + resW, true) & resM) reserved++;
      else if (dv.getInt32(o + f.refcount, true) > 1) shared++;
    }
    total += n;
  });
  const r: MemMapCounts = {
    totalram: 0n,
    reserved: BigInt(reserved),
    shared: BigInt(shared),
    buffers: BigInt(buffers),
    slab: BigInt(slab),
  };
  r.totalram = BigInt(total) - r.reserved;
  return r;
}

/**
 * Start decoding the memory map's pages off the main thread for a memMapCounts soon after (see MemMap.prefetch);
 * never fails: a kernel whose memory map cannot be found gets its error from the walk itself.
 */
export function prefetchMemMap(prog: Program): Promise<number> {
  try {
    return memMap(prog).prefetch();
  } catch (e) {
    if (e instanceof TscrashError) return Promise.resolve(0);
    throw e;
  }
}

/** Pages of the block-device page cache: crash's emulation of nr_blockdev_pages(). */
export function blockdevPages(prog: Program): bigint {
  const nrpages = (inode: Obj): bigint => {
    const m = inode.member('i_mapping');
    return m.isNull() ? 0n : m.member('nrpages').value();
  };
  let total = 0n;
  if (prog.hasVariable('all_bdevs')) {
    const bdT = prog.type('struct block_device');
    const off = BigInt(prog.offsetOf(bdT, 'bd_list'));
    for (const n of listForEach(prog.variable('all_bdevs'))) {
      total += nrpages(
        prog
          .object(bdT, n - off)
          .member('bd_inode')
          .deref(),
      );
    }
    return total;
  }
  if (prog.hasVariable('blockdev_superblock')) {
    const sb = prog.variable('blockdev_superblock');
    if (sb.isNull()) return 0n;
    const inodeT = prog.type('struct inode');
    const off = BigInt(prog.offsetOf(inodeT, 'i_sb_list'));
    for (const n of listForEach(sb.member('s_inodes'))) total += nrpages(prog.object(inodeT, n - off));
  }
  return total;
}

/** Pages in the swap cache: the swapper address spaces' nrpages. */
export function swapperSpacePages(prog: Program): bigint {
  let total = 0n;
  if (prog.hasVariable('nr_swapper_spaces') && prog.hasVariable('swapper_spaces')) {
    const nr = prog.variable('nr_swapper_spaces');
    const sp = prog.variable('swapper_spaces');
    const t = strip(nr.type);
    const len = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
    const asSize = BigInt(prog.sizeof('struct address_space'));
    const nrOff = BigInt(prog.offsetOf('struct address_space', 'nrpages'));
    for (let i = 0; i < len; i++) {
      const banks = nr.index(i).value();
      if (!banks) continue;
      const base = sp.index(i).value();
      if (!base) continue;
      for (let j = 0n; j < banks; j++) total += prog.memory.readU64(base + j * asSize + nrOff, 'swapper_space.nrpages');
    }
    return total;
  }
  if (prog.hasVariable('swapper_spaces')) {
    const sp = prog.variable('swapper_spaces');
    const t = strip(sp.type);
    const len = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
    for (let i = 0; i < len; i++) total += sp.index(i).member('nrpages').value();
    return total;
  }
  if (prog.hasVariable('swapper_space')) return prog.variable('swapper_space').member('nrpages').value();
  return 0n;
}

/** Huge pages of every hstate (order > 0), or the pre-hstate nr_huge_pages counters; undefined when unknown. */
export function hugetlbPages(prog: Program): { total: bigint; free: bigint } | undefined {
  if (prog.symbolAddress('hstates') !== undefined) {
    if (!prog.hasType('struct hstate') || !prog.hasVariable('hstates')) return undefined;
    const hs = prog.variable('hstates');
    const t = strip(hs.type);
    const len = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
    let total = 0n;
    let free = 0n;
    for (let i = 0; i < len; i++) {
      const h = hs.index(i);
      const order = h.member('order').value();
      if (!order) continue;
      total += h.member('nr_huge_pages').value() << order;
      free += h.member('free_huge_pages').value() << order;
    }
    return { total, free };
  }
  if (prog.hasVariable('nr_huge_pages')) {
    const per = (1n << 21n) / BigInt(prog.memory.pageSize);
    return {
      total: prog.variable('nr_huge_pages').value() * per,
      free: prog.variable('free_huge_pages').value() * per,
    };
  }
  return { total: 0n, free: 0n };
}

/** Total and used swap pages over the swap_info entries in use. */
export function swapPages(prog: Program): { total: bigint; used: bigint } {
  let total = 0n;
  let used = 0n;
  if (!prog.hasVariable('swap_info') || !prog.hasVariable('nr_swapfiles')) return { total, used };
  const n = prog.variable('nr_swapfiles').num();
  const si = prog.variable('swap_info');
  const t = strip(si.type);
  const pointers = t.kind === 'array' && strip(t.element).kind === 'pointer';
  const SWP_USED = 1n;
  for (let i = 0; i < n; i++) {
    let s: Obj;
    if (pointers) {
      const p = si.index(i);
      if (p.isNull()) continue;
      s = p.deref();
    } else s = si.index(i);
    if (!(s.member('flags').value() & SWP_USED)) continue;
    total += s.member('pages').value();
    if (s.hasMember('inuse_pages')) used += s.member('inuse_pages').value();
    else {
      const max = s.member('max').num();
      const map = s.member('swap_map');
      const elem = strip(map.type).kind === 'pointer' ? map.deref().size : 2;
      const b = prog.memory.readVirt(map.value(), max * elem, 'swap_map');
      for (let j = 0; j < max; j++) {
        const v = elem === 1 ? b[j]! : b[j * 2]! | (b[j * 2 + 1]! << 8);
        if (v !== 0 && v !== (elem === 1 ? 0x3f : 0x8000)) used++;
      }
    }
  }
  return { total, used };
}

/**
 * The memory summary of kmem -i, in pages: total, free, used, shared, buffers, cached, slab, high/huge, swap, commit.
 */
export interface KmemInfo {
  totalram: bigint;
  free: bigint;
  used: bigint;
  shared: bigint;
  buffers: bigint;
  cached: bigint;
  slab: bigint;
  high?: { total: bigint; free: bigint };
  huge?: { total: bigint; free: bigint };
  swap?: { total: bigint; used: bigint };
  commit?: { limit: bigint; committed: bigint };
}

/** The figures of crash's `kmem -i`, each computed the way crash 8.0.2's dump_kmeminfo does. */
export function kmemInfo(prog: Program): KmemInfo {
  const counts = memMapCounts(prog);
  const stat = vmStat(prog);
  let slab = counts.slab;
  if (stat.has('NR_SLAB')) slab = stat.get('NR_SLAB')!;
  else if (stat.has('NR_SLAB_RECLAIMABLE'))
    slab = stat.get('NR_SLAB_RECLAIMABLE')! + (stat.get('NR_SLAB_UNRECLAIMABLE') ?? 0n);
  let totalram = counts.totalram;
  try {
    const t = totalRamPages(prog);
    if (t) totalram = t;
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
  }
  const zs = zones(prog);
  const free = zs.reduce((a, z) => a + z.free, 0n);
  const buffers = blockdevPages(prog);
  const filePages = stat.get('NR_FILE_PAGES');
  const cached = filePages === undefined ? 0n : filePages - swapperSpacePages(prog) - buffers;
  const info: KmemInfo = { totalram, free, used: totalram - free, shared: counts.shared, buffers, cached, slab };
  for (const n of ['_totalhigh_pages', 'totalhigh_pages']) {
    if (!prog.hasVariable(n)) continue;
    const v = prog.variable(n);
    info.high = {
      total: v.hasMember('counter') ? v.member('counter').value() : v.value(),
      free: zs.filter((z) => z.name === 'HighMem').reduce((a, z) => a + z.free, 0n),
    };
    break;
  }
  info.huge = hugetlbPages(prog);
  if (prog.symbolAddress('swapper_space') !== undefined || prog.symbolAddress('swapper_spaces') !== undefined) {
    info.swap = swapPages(prog);
  }
  if (prog.hasVariable('sysctl_overcommit_memory')) {
    const kbytes = prog.hasVariable('sysctl_overcommit_kbytes')
      ? prog.variable('sysctl_overcommit_kbytes').value()
      : 0n;
    let allowed: bigint | undefined;
    const shift = BigInt(Math.log2(prog.memory.pageSize)) - 10n;
    if (kbytes) allowed = kbytes >> shift;
    else if (info.huge) {
      const ratio = prog.variable('sysctl_overcommit_ratio').value();
      allowed = ((totalram - info.huge.total) * ratio) / 100n;
    }
    let committed: bigint | undefined;
    if (prog.hasVariable('vm_committed_as')) committed = prog.variable('vm_committed_as').member('count').value();
    else if (prog.hasVariable('vm_committed_space')) committed = atomicValue(prog.variable('vm_committed_space'));
    if (allowed !== undefined && committed !== undefined) {
      if (committed < 0n) committed = 0n;
      info.commit = { limit: allowed + (info.swap?.total ?? 0n), committed };
    }
  }
  return info;
}

/** crash's pages_to_size(): "0", "N KB", "N.N MB" / "N.N GB" with a ".0" dropped. */
export function pagesToSize(pages: bigint, pageSize: number): string {
  if (pages === 0n) return '0';
  const bytes = pages * BigInt(pageSize);
  const fmt = (unit: bigint, suffix: string): string => {
    // printf("%.1f") of bytes/unit: round half to even on the exact value.
    const num = bytes * 10n;
    let q = num / unit;
    const rem = num % unit;
    if (rem * 2n > unit || (rem * 2n === unit && q % 2n === 1n)) q++;
    const s = `${q / 10n}.${q % 10n}`;
    return `${s.endsWith('.0') ? s.slice(0, -2) : s} ${suffix}`;
  };
  if (bytes >= 1n << 30n) return fmt(1n << 30n, 'GB');
  if (bytes >= 1n << 20n) return fmt(1n << 20n, 'MB');
  return `${bytes / 1024n} KB`;
}

/** `kmem -i` in crash's layout. */
export function formatKmemInfo(info: KmemInfo, pageSize: number): string {
  const sz = (p: bigint): string => pagesToSize(p, pageSize);
  const pct = (a: bigint, b: bigint): string => (b ? ((a * 100n) / b).toString() : '0').padStart(3);
  const line = (label: string, pages: bigint, tail: string): string =>
    `${label.padStart(13)}  ${pages.toString().padStart(7)}  ${sz(pages).padStart(11)}  ${tail}\n`;
  const ofTotal = (p: bigint): string => `${pct(p, info.totalram)}% of TOTAL MEM`;
  let s = '                 PAGES        TOTAL      PERCENTAGE\n';
  s += line('TOTAL MEM', info.totalram, '       ----');
  s += line('FREE', info.free, ofTotal(info.free));
  s += line('USED', info.used, ofTotal(info.used));
  s += line('SHARED', info.shared, ofTotal(info.shared));
  s += line('BUFFERS', info.buffers, ofTotal(info.buffers));
  s += line('CACHED', info.cached, ofTotal(info.cached));
  s += line('SLAB', info.slab, ofTotal(info.slab));
  if (info.high) {
    const low = info.totalram - info.high.total;
    s += `\n${line('TOTAL HIGH', info.high.total, ofTotal(info.high.total))}`;
    s += line('FREE HIGH', info.high.free, `${pct(info.high.free, info.high.total)}% of TOTAL HIGH`);
    s += line('TOTAL LOW', low, ofTotal(low));
    s += line('FREE LOW', info.free - info.high.free, `${pct(info.free - info.high.free, low)}% of TOTAL LOW`);
  }
  if (info.huge) {
    s += `\n${line('TOTAL HUGE', info.huge.total, '       ----')}`;
    s += line('HUGE FREE', info.huge.free, `${pct(info.huge.free, info.huge.total)}% of TOTAL HUGE`);
  }
  s += '\n';
  if (info.swap) {
    const { total, used } = info.swap;
    s += line('TOTAL SWAP', total, '       ----');
    s += line('SWAP USED', used, `${pct(used, total)}% of TOTAL SWAP`);
    s += line('SWAP FREE', total - used, `${pct(total - used, total)}% of TOTAL SWAP`);
  }
  if (info.commit) {
    const { limit, committed } = info.commit;
    s += '\n';
    s += line('COMMIT LIMIT', limit, '       ----');
    s += limit
      ? line('COMMITTED', committed, `${pct(committed, limit)}% of TOTAL LIMIT`)
      : line('COMMITTED', committed, '       ----');
  }
  return s;
}
