/**
 * What a dump is, for `tscrash info`: format and header facts, page counts,
 * the kernel (release, build id, crash time), KASLR offset, phys_base,
 * page_offset_base, paging levels, and the panic string from the log.
 */
import { dumpDmesg, printkLayoutFromVmcoreinfo, readDmesg } from './dmesg.js';
import type { Dump } from './dump.js';
import { KernelMemory } from './kernel-memory.js';

/** The debug data the dump itself carries (filled in by program/debug-data.ts). */
export interface DumpDebugData {
  vmcoreinfo: boolean;
  kallsyms?: { symbols: number };
  /** ORC unwind entries (the __start_orc_unwind_ip table). */
  orc?: { entries: number };
  /** The vmlinux BTF between __start_BTF and __stop_BTF: its size in bytes, its address and type count. */
  btf?: { size: number; address: string; types?: number };
  /** What was found but could not be read. */
  problems?: string[];
}

export interface DumpFacts {
  file: string;
  format: string;
  compression?: string[];
  headerVersion?: number;
  pageSize: number;
  maxPfn: number;
  pagesPresent?: number;
  pagesDumped?: number;
  pagesExcluded?: number;
  dumpLevel?: number;
  cpus?: number;
  utsname?: Record<string, string>;
  crashTime?: string;
  release?: string;
  buildId?: string;
  kaslrOffset?: string;
  physBase?: string;
  pageOffsetBase?: string;
  pagingLevels?: number;
  panic?: string;
  incomplete?: boolean;
  truncated?: boolean;
  split?: { startPfn: number; endPfn: number };
  debugData?: DumpDebugData;
  warnings: string[];
}

function debugDataLine(d: DumpDebugData | undefined): string | undefined {
  if (!d) return undefined;
  const parts: string[] = [];
  if (d.vmcoreinfo) parts.push('VMCOREINFO');
  if (d.kallsyms) parts.push(`kallsyms (${d.kallsyms.symbols} symbols)`);
  if (d.orc) parts.push(`ORC (${d.orc.entries} entries)`);
  if (d.btf) parts.push(`BTF (${d.btf.size} bytes${d.btf.types !== undefined ? `, ${d.btf.types} types` : ''})`);
  return parts.length ? parts.join(', ') : 'none';
}

/**
 * The panic message as crash's `sys` shows it: the "Kernel panic - not syncing"
 * line when there is one, else the first line that reports the fatal event.
 */
export function findPanicString(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.replace(/^\[[ \d.]+\] (\[ *[TC]\d+\] )?/, ''));
  const panic = lines.find((l) => l.startsWith('Kernel panic - not syncing'));
  if (panic) return panic.trim();
  const patterns = [
    /^sysrq: (SysRq : )?Trigger a crash/,
    /^SysRq : Trigger a crash/,
    /^BUG: /,
    /^general protection fault/,
    /^Oops: /,
    /^kernel BUG at /,
    /^Unable to handle kernel/,
  ];
  for (const re of patterns) {
    const l = lines.find((x) => re.test(x));
    if (l) return l.trim();
  }
  return undefined;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function describeDump(dump: Dump): DumpFacts {
  const i = dump.info;
  const facts: DumpFacts = {
    file: dump.path,
    format: i.format,
    compression: i.compression,
    headerVersion: i.headerVersion,
    pageSize: dump.pageSize,
    maxPfn: dump.maxPfn,
    pagesPresent: i.pagesPresent as number | undefined,
    pagesDumped: i.pagesDumped as number | undefined,
    pagesExcluded: i.pagesExcluded as number | undefined,
    dumpLevel: i.dumpLevel,
    cpus: i.nrCpus,
    utsname: i.utsname,
    incomplete: i.incomplete || undefined,
    truncated: (i.truncated as boolean | undefined) || i.flattenedTruncatedAt !== undefined || undefined,
    split: i.split,
    warnings: [...dump.warnings],
  };
  if (facts.pagesDumped === undefined) {
    let n = 0;
    for (const pfn of dump.presentPfns()) if (dump.pageState(pfn) === 'dumped') n++;
    facts.pagesDumped = n;
  }
  if (!dump.vmcoreinfo) facts.warnings.push("no VMCOREINFO note in the dump: it is searched for in the dump's memory");
  try {
    // KernelMemory takes VMCOREINFO from the notes, or finds it in memory (QEMU dumps, a damaged note area).
    const mem = new KernelMemory(dump);
    const vi = mem.vmcoreinfo;
    facts.release = vi.osrelease;
    facts.buildId = vi.buildId;
    if (vi.crashTime !== undefined) facts.crashTime = new Date(vi.crashTime * 1000).toISOString();
    facts.kaslrOffset = hex(mem.kaslrOffset);
    facts.physBase = hex(mem.physBase);
    if (mem.pageOffsetBase !== undefined) facts.pageOffsetBase = hex(mem.pageOffsetBase);
    facts.pagingLevels = mem.levels;
    try {
      const log = Buffer.from(dumpDmesg(mem)).toString('latin1');
      facts.panic = findPanicString(log);
    } catch (e) {
      facts.warnings.push(`kernel log unreadable: ${(e as Error).message}`);
    }
  } catch (e) {
    facts.warnings.push(`address translation unavailable: ${(e as Error).message}`);
  }
  return facts;
}

/** Aligned `KEY: value` lines. */
export function formatFacts(f: DumpFacts): string {
  const rows: [string, string | undefined][] = [
    ['FILE', f.file],
    ['FORMAT', f.format + (f.headerVersion !== undefined ? ` (header version ${f.headerVersion})` : '')],
    ['COMPRESSION', f.compression?.join(', ')],
    ['PAGE SIZE', String(f.pageSize)],
    ['MAX PFN', `0x${f.maxPfn.toString(16)} (${f.maxPfn})`],
    ['PAGES PRESENT', f.pagesPresent?.toString()],
    ['PAGES DUMPED', f.pagesDumped?.toString()],
    ['PAGES EXCLUDED', f.pagesExcluded?.toString()],
    ['DUMP LEVEL', f.dumpLevel?.toString()],
    ['SPLIT', f.split ? `pfns 0x${f.split.startPfn.toString(16)}-0x${f.split.endPfn.toString(16)}` : undefined],
    ['STATE', f.incomplete ? 'INCOMPLETE (writing stopped early)' : f.truncated ? 'TRUNCATED' : undefined],
    ['CPUS', f.cpus?.toString()],
    ['NODENAME', f.utsname?.nodename],
    ['RELEASE', f.release ?? f.utsname?.release],
    ['VERSION', f.utsname?.version],
    ['MACHINE', f.utsname?.machine],
    ['BUILD ID', f.buildId],
    ['CRASH TIME', f.crashTime],
    ['KASLR OFFSET', f.kaslrOffset],
    ['PHYS_BASE', f.physBase],
    ['PAGE_OFFSET', f.pageOffsetBase],
    ['PAGING LEVELS', f.pagingLevels?.toString()],
    ['PANIC', f.panic !== undefined ? `"${f.panic}"` : undefined],
    ['DEBUG DATA', debugDataLine(f.debugData)],
  ];
  const out = rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k.padStart(14)}: ${v}`);
  for (const p of f.debugData?.problems ?? []) out.push(`${'WARNING'.padStart(14)}: ${p}`);
  for (const w of f.warnings) out.push(`${'WARNING'.padStart(14)}: ${w}`);
  return `${out.join('\n')}\n`;
}

export { printkLayoutFromVmcoreinfo, readDmesg };
