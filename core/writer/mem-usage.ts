/**
 * --mem-usage: makedumpfile's page-class table (print_mem_usage: what -d 31 would exclude, class by class, and
 * the dumpable kernel data left), from any dump tsmakedumpfile reads (makedumpfile reads only /proc/kcore), then
 * what each dump level 0..31 would keep, in pages and bytes.
 *
 * Each class is found by the page filter run at its own level (2, 4, 8, 16; 0 gives the pages present, less the
 * hwpoison and offline ones that are always excluded) and zero pages by reading every remaining page once; the
 * exclusions of a level are the union of its bits' (the classifier's tests do not depend on the other bits).
 */
import { DL_EXCLUDE_CACHE, DL_EXCLUDE_CACHE_PRI, DL_EXCLUDE_FREE, DL_EXCLUDE_USER_DATA } from '../filter/exclude.js';
import { isZeroPage } from './batch.js';
import { Bitmap } from './bitmap.js';
import { Messages, ML_PRINT_PROGRESS } from './messages.js';
import type { Options } from './options.js';
import { prepareDump } from './prepare.js';
import type { DumpSource } from './source.js';

const pad16 = (n: number | bigint) => String(n).padEnd(16);

export interface MemUsage {
  pageSize: number;
  /** Pages present (max_mapnr less the memory holes). */
  original: number;
  /** Pages of each class, as makedumpfile's -d 31 counts them. */
  zero: number;
  cache: number;
  cachePrivate: number;
  user: number;
  free: number;
  /** hwpoison + offline: always excluded. */
  always: number;
  /** Pages present but not in the input (a dump already filtered with -d): in no class, kept by no level. */
  missing: number;
  /** The input's own dump level, when it is a filtered dump. */
  inputDumpLevel?: number;
  /** kept[level]: the pages -d level keeps. */
  kept: number[];
}

function popAnd(maps: Uint8Array[], notMap: Uint8Array | undefined, nbits: number): number {
  const n = maps[0]!.length;
  let c = 0;
  for (let i = 0; i < n; i++) {
    let b = maps[0]![i]!;
    for (let k = 1; k < maps.length && b; k++) b &= maps[k]![i]!;
    if (notMap) b &= ~notMap[i]! & 0xff;
    if (i === n - 1 && nbits % 8) b &= (1 << (nbits % 8)) - 1;
    while (b) {
      b &= b - 1;
      c++;
    }
  }
  return c;
}

export function memUsage(src: DumpSource, m: Messages, vmcoreinfoOverride?: string): MemUsage {
  // makedumpfile prints no progress for --mem-usage
  const quiet = new Messages(m.level & ~ML_PRINT_PROGRESS, false, m.toStderr);
  const run = (dumpLevel: number) => prepareDump(src, { dumpLevel, vmcoreinfoOverride, messages: quiet });
  const p31 = run(31);
  const p0 = run(0);
  const base = p0.bitmap2;
  const byBit = new Map<number, Bitmap>();
  for (const bit of [DL_EXCLUDE_CACHE, DL_EXCLUDE_CACHE_PRI, DL_EXCLUDE_USER_DATA, DL_EXCLUDE_FREE]) {
    byBit.set(bit, run(bit).bitmap2);
  }
  // zero pages among the pages present (each read once)
  const ps = src.pageSize;
  const zero = new Bitmap(src.maxPfn);
  const buf = new Uint8Array(256 * ps);
  for (let pfn = base.nextSet(0); pfn >= 0; ) {
    let run = 1;
    while (run < 256 && pfn + run < base.nbits && base.get(pfn + run)) run++;
    src.readPages(pfn, run, buf, 0);
    for (let i = 0; i < run; i++) if (isZeroPage(buf, i * ps, ps)) zero.set(pfn + i);
    const next = pfn + run;
    pfn = next < base.nbits ? base.nextSet(next) : -1;
  }
  const kept: number[] = [];
  for (let level = 0; level < 32; level++) {
    const maps = [base.bytes];
    for (const [bit, bm] of byBit) if (level & bit) maps.push(bm.bytes);
    kept.push(popAnd(maps, level & 1 ? zero.bytes : undefined, src.maxPfn));
  }
  const c = p31.counts;
  const zero31 = popAnd([p31.bitmap2.bytes, zero.bytes], undefined, src.maxPfn);
  return {
    pageSize: ps,
    original: src.maxPfn - p31.memHole,
    zero: zero31,
    cache: c.cache,
    cachePrivate: c.cachePrivate,
    user: c.user,
    free: c.free,
    always: c.hwpoison + c.offline,
    // level 0 excludes only hwpoison and offline pages: the rest of what it lacks the input does not have
    missing: src.maxPfn - p0.memHole - base.count() - (p0.counts.hwpoison + p0.counts.offline),
    inputDumpLevel: src.inputDumpLevel,
    kept,
  };
}

/** makedumpfile's print_mem_usage() text, then the table of levels. */
export function formatMemUsage(u: MemUsage): string {
  const excluded = u.zero + u.cache + u.cachePrivate + u.user + u.free + u.always + u.missing;
  const L: string[] = [''];
  L.push('TYPE\t\tPAGES\t\t\tEXCLUDABLE\tDESCRIPTION');
  L.push('----------------------------------------------------------------------');
  L.push(`ZERO\t\t${pad16(u.zero)}\tyes\t\tPages filled with zero`);
  L.push(`NON_PRI_CACHE\t${pad16(u.cache)}\tyes\t\tCache pages without private flag`);
  L.push(`PRI_CACHE\t${pad16(u.cachePrivate)}\tyes\t\tCache pages with private flag`);
  L.push(`USER\t\t${pad16(u.user)}\tyes\t\tUser process pages`);
  L.push(`FREE\t\t${pad16(u.free)}\tyes\t\tFree pages`);
  L.push(`KERN_DATA\t${pad16(u.original - excluded)}\tno\t\tDumpable kernel data `);
  // not makedumpfile's (it reads the live /proc/kcore): the pages an already filtered dump does not have
  if (u.missing)
    L.push(`NOT_IN_DUMP\t${pad16(u.missing)}\t-\t\tLeft out of the input (written with -d ${u.inputDumpLevel ?? '?'})`);
  L.push('');
  L.push(`page size:\t\t${pad16(u.pageSize)}`);
  L.push(`Total pages on system:\t${pad16(u.original)}`);
  L.push(`Total size on system:\t${pad16(BigInt(u.pageSize) * BigInt(u.original))} Byte`);
  L.push('');
  L.push('DUMP_LEVEL\tPAGES KEPT\t\tBYTES KEPT');
  L.push('----------------------------------------------------------------------');
  u.kept.forEach((n, level) => {
    L.push(`${String(level).padEnd(8)}\t${pad16(n)}\t${BigInt(n) * BigInt(u.pageSize)}`);
  });
  return `${L.join('\n')}\n`;
}

export async function showMemUsage(src: DumpSource, o: Options, m: Messages): Promise<number> {
  try {
    const { readFileSync } = await import('node:fs');
    const vi = o.vmcoreinfo ? readFileSync(o.vmcoreinfo, 'latin1') : undefined;
    m.msg(formatMemUsage(memUsage(src, m, vi)));
    return 0;
  } finally {
    src.close();
  }
}
