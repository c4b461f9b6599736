/**
 * Everything decided before pages are copied: the 1st bitmap (pages that
 * exist), the 2nd bitmap (pages to dump, after -d filtering), the header facts
 * (utsname read from init_uts_ns, CRASHTIME, phys_base, CPUs), and the split
 * ranges. Mirrors makedumpfile's create_1st_bitmap / create_2nd_bitmap.
 */
import {
  type ExclusionCounts,
  excludeUnnecessaryPages,
  FilterError,
  needsStructPages,
  newCounts,
} from '../filter/exclude.js';
import { kernelImageRanges } from '../filter/kallsyms.js';
import { KernelMemory } from '../filter/kvm.js';
import { memMapRanges } from '../filter/mem-map.js';
import { VmcoreinfoTable } from '../filter/vmcoreinfo-table.js';
import { Bitmap } from './bitmap.js';
import type { HeaderFacts } from './kdump-writer.js';
import { type Messages, PROGRESS_HOLES, PROGRESS_UNN_PAGES } from './messages.js';
import type { DumpSource } from './source.js';

const EM_X86_64 = 62;

export interface Prepared {
  bitmap1: Bitmap;
  bitmap2: Bitmap;
  counts: ExclusionCounts;
  memHole: number;
  numDumpable: number;
  header: HeaderFacts;
  info: VmcoreinfoTable | undefined;
  kmem: KernelMemory | undefined;
}

export interface PrepareOptions {
  dumpLevel: number;
  /** VMCOREINFO text from -i (overrides the dump's). */
  vmcoreinfoOverride?: string;
  messages: Messages;
}

export function prepareDump(src: DumpSource, opts: PrepareOptions): Prepared {
  const ps = src.pageSize;
  const maxPfn = src.maxPfn;
  const msgs = opts.messages;
  const tHoles = performance.now();
  const bitmap1 = new Bitmap(maxPfn);
  src.segments.forEach((s, i) => {
    msgs.progress(PROGRESS_HOLES, i, src.segments.length);
    const a = Math.floor(s.paddr / ps);
    const b = Math.floor((s.paddr + s.memsz) / ps);
    if (a < b) bitmap1.setRange(a, b);
  });
  msgs.progressDone(PROGRESS_HOLES, maxPfn);
  msgs.stepTime(PROGRESS_HOLES, tHoles);
  const bitmap2 = bitmap1.copy();
  // pages past p_filesz have no data (a re-filtered ELF dump): not dumpable
  for (const s of src.segments) {
    const a = Math.ceil((s.paddr + s.filesz) / ps);
    const b = Math.min(Math.ceil((s.paddr + s.memsz) / ps), maxPfn);
    for (let pfn = a; pfn < b; pfn++) bitmap2.clear(pfn);
  }
  if (src.hasData) {
    for (let pfn = bitmap2.nextSet(0); pfn >= 0; pfn = pfn + 1 < maxPfn ? bitmap2.nextSet(pfn + 1) : -1) {
      if (!src.hasData(pfn)) bitmap2.clear(pfn);
    }
  }
  const text = opts.vmcoreinfoOverride ?? src.vmcoreinfo;
  const info = text !== undefined ? new VmcoreinfoTable(text) : undefined;

  let kmem: KernelMemory | undefined;
  const kmemError = (): string | undefined => {
    if (!info) return 'the dump has no VMCOREINFO (give one with -i)';
    if (src.elfMachine !== EM_X86_64)
      return `page filtering from VMCOREINFO supports x86-64 only (e_machine ${src.elfMachine})`;
    try {
      kmem = new KernelMemory(src, info);
    } catch (e) {
      return truncation((e as Error).message);
    }
    return undefined;
  };
  // A cut input fails wherever its missing part is first needed: say that, and where the file ends.
  const truncation = (why: string): string =>
    src.truncatedAt === undefined
      ? why
      : `the input is truncated at offset ${src.truncatedAt} (0x${src.truncatedAt.toString(16)}), so ${why}`;
  const kerr = kmemError();

  let counts = newCounts();
  if (needsStructPages(opts.dumpLevel, info)) {
    const structNeeded = (opts.dumpLevel & 30) !== 0;
    if (kerr || !kmem || !info) {
      if (structNeeded) throw new FilterError(`Can't exclude unnecessary pages: ${kerr}`);
    } else {
      const tUnn = performance.now();
      // the kernel's text, rodata, data and bss are never excluded (not the whole kernel PT_LOAD:
      // its init sections are freed after boot and then hold ordinary pages)
      const protect = kernelImageRanges(kmem, info, ps);
      if (process.env.TSCRASH_DEBUG_PROTECT)
        msgs.debug(
          `kernel image pfn ranges: ${protect.map(([s, e]) => `${s.toString(16)}-${e.toString(16)}`).join(' ')}\n`,
        );
      if (!protect.length) msgs.debug('kernel image sections not found (no kallsyms in VMCOREINFO)\n');
      try {
        const ranges = memMapRanges(kmem, info, maxPfn, ps);
        counts = excludeUnnecessaryPages(kmem, info, ranges, bitmap2, {
          dumpLevel: opts.dumpLevel,
          protect,
          present: bitmap1.bytes,
          warn: (m) => msgs.error(`${m}\n`),
          progress: (d, t) => msgs.progress(PROGRESS_UNN_PAGES, d, t),
        });
      } catch (e) {
        if (structNeeded)
          throw new FilterError(`Can't exclude unnecessary pages: ${truncation((e as Error).message)}`, { cause: e });
        msgs.error(`warning: hwpoison/offline pages not checked: ${(e as Error).message}\n`);
      }
      msgs.progressDone(PROGRESS_UNN_PAGES, 1);
      msgs.stepTime(PROGRESS_UNN_PAGES, tUnn);
    }
  }

  const header = headerFacts(src, info, kmem, msgs);
  return {
    bitmap1,
    bitmap2,
    counts,
    memHole: maxPfn - bitmap1.count(),
    numDumpable: bitmap2.count(),
    header,
    info,
    kmem,
  };
}

function headerFacts(
  src: DumpSource,
  info: VmcoreinfoTable | undefined,
  kmem: KernelMemory | undefined,
  msgs: Messages,
): HeaderFacts {
  let uts = src.utsname ? src.utsname.slice(0, 390) : undefined;
  if (!uts && info && kmem) {
    const sym = info.symbol('system_utsname') ?? info.symbol('init_uts_ns');
    if (sym !== undefined) {
      const off = info.has('SYMBOL(system_utsname)') ? 0 : (info.offset('uts_namespace.name') ?? 4);
      const b = new Uint8Array(390);
      try {
        kmem.read(sym + BigInt(off), 390, b);
        uts = b;
      } catch (e) {
        msgs.error(
          `warning: can't read the utsname at 0x${(sym + BigInt(off)).toString(16)}: ${(e as Error).message}\n`,
        );
      }
    }
  }
  if (!uts) {
    // what VMCOREINFO says: the release; the rest stays empty
    uts = new Uint8Array(390);
    const put = (i: number, s: string) => uts!.set(Buffer.from(s.slice(0, 64), 'latin1'), i * 65);
    put(0, 'Linux');
    const rel = info?.raw('OSRELEASE');
    if (rel) put(2, rel);
    if (src.elfMachine === EM_X86_64) put(4, 'x86_64');
  }
  const ct = info?.raw('CRASHTIME');
  const crashTime = ct && /^\d+$/.test(ct) ? BigInt(ct) : 0n;
  const physBase = src.physBase ?? kmem?.kernelPhysBase ?? 0n;
  return { utsname: uts, crashTime, nrCpus: src.nrCpus, physBase };
}

/**
 * Split [0, maxPfn) into `n` ranges holding about the same number of dumpable
 * pages, on splitblock boundaries (makedumpfile's setup_splitting).
 */
export function splitRanges(
  bitmap2: Bitmap,
  maxPfn: number,
  n: number,
  pagesPerBlock: number,
): { startPfn: number; endPfn: number }[] {
  const total = bitmap2.count();
  const need = Math.floor(total / n);
  const out: { startPfn: number; endPfn: number }[] = [];
  let block = 0;
  const nBlocks = Math.ceil(maxPfn / pagesPerBlock);
  let end = 0;
  for (let i = 0; i < n - 1; i++) {
    const start = end;
    if (start >= maxPfn) {
      out.push({ startPfn: maxPfn, endPfn: maxPfn });
      continue;
    }
    let needed = need;
    while (block < nBlocks && needed > 0) {
      needed -= bitmap2.count(block * pagesPerBlock, Math.min((block + 1) * pagesPerBlock, maxPfn));
      block++;
    }
    end = Math.min(block * pagesPerBlock, maxPfn);
    out.push({ startPfn: start, endPfn: end });
  }
  out.push({ startPfn: end, endPfn: maxPfn });
  return out;
}
