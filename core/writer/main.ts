/**
 * tsmakedumpfile's actions: create a dump (kdump-compressed, ELF, flattened,
 * split), rearrange a flattened stream (-R), reassemble split files, and
 * --dump-dmesg. Returns makedumpfile's exit codes.
 */

import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { strerror } from '../errors.js';
import { EraseMap } from '../filter/erase.js';
import type { EraseTarget } from '../filter/erase-config.js';
import { DL_EXCLUDE_ZERO } from '../filter/exclude.js';
import { VmcoreinfoTable } from '../filter/vmcoreinfo-table.js';
import { checkDumpFile } from '../private-file.js';
import type { CompressPool } from './compress-pool.js';
import { ElfSource, isElfCore } from './elf-source.js';
import { excludeZeroPages, synthesizeElfHeader, writeElf } from './elf-writer.js';
import { writeKdump } from './kdump-writer.js';
import {
  DEFAULT_MSG_LEVEL,
  formatReport,
  Messages,
  ML_PRINT_DEBUG_MSG,
  ML_PRINT_PROGRESS,
  ML_PRINT_REPORT_MSG,
} from './messages.js';
import { type Options, parseOptions, USAGE, UsageError } from './options.js';
import { FileSink, FlatSink, NoSpaceError, type OutputSink } from './output.js';
import { type Prepared, prepareDump, splitRanges } from './prepare.js';
import { rearrange } from './rearrange.js';
import { reassemble } from './reassemble.js';
import type { DumpSource } from './source.js';

export const COMPLETED = 0;
export const FAILED = 1;
export const WRONG_RELEASE = 2;
export const VERSION = '0.1.0';

function invalid(m: Messages, why?: string): number {
  if (why) m.msg(`${why}\n`);
  m.msg('Commandline parameter is invalid.\n');
  m.msg("Try `tsmakedumpfile --help' for more information.\n");
  return FAILED;
}

/** What the command line layer supplies that core/ cannot compute itself (it knows no DWARF). */
export interface WriterDeps {
  /** -x VMLINUX: VMCOREINFO entries from the vmlinux's DWARF and symbols, symbols moved by `kaslrOffset`. */
  vmcoreinfoFromVmlinux?: (path: string, kaslrOffset: bigint) => Promise<{ text: string; buildId?: string }>;
  /** --config FILE with -x VMLINUX: the regions the erase commands name (program/erase-resolve.ts). */
  eraseTargets?: (
    configPath: string,
    vmlinux: string,
    kaslrOffset: bigint,
    read: (va: bigint, len: number) => Uint8Array,
    warn: (m: string) => void,
  ) => Promise<EraseTarget[]>;
}

export async function runMakedumpfile(argv: readonly string[], deps: WriterDeps = {}): Promise<number> {
  let o: Options;
  const early = new Messages(DEFAULT_MSG_LEVEL, false, true);
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    invalid(early, `tsmakedumpfile: ${e.message}`);
    // makedumpfile ends with nothing more under --check-params (given first, as its manual asks)
    const opts = argv.slice(0, Math.max(0, argv.indexOf('--')) || argv.length);
    if (!opts.includes('--check-params')) early.msg('\ntsmakedumpfile Failed.\n');
    return FAILED;
  }
  let level = o.messageLevel ?? DEFAULT_MSG_LEVEL;
  if (o.debug) level |= ML_PRINT_DEBUG_MSG;
  if (o.showStats) level |= ML_PRINT_REPORT_MSG;
  // --check-params: makedumpfile validates with the default level (no debugging messages)
  if (o.checkParams) level = DEFAULT_MSG_LEVEL;
  const toStderr = o.flatten;
  // progress is written whether or not stderr is a terminal (kdump's serial console and journal are not),
  // as makedumpfile does: '\r' and the line, at most once a second; --message-level's bit 1 controls it
  const m = new Messages(level, true, toStderr);
  if (o.help) {
    process.stdout.write(USAGE);
    return COMPLETED;
  }
  if (o.version) {
    process.stdout.write(`tsmakedumpfile: version ${VERSION} (makedumpfile 1.7 compatible)\n`);
    return COMPLETED;
  }
  let code: number;
  try {
    code = await dispatch(o, m, deps);
  } catch (e) {
    m.error(`${errorLine(e, o.args[0])}\n`);
    code = FAILED;
  }
  // makedumpfile: nothing more with --check-params; --mem-usage ends without "Completed"
  if (o.checkParams) return code;
  m.msg('\n');
  if (code !== COMPLETED) m.msg('tsmakedumpfile Failed.\n');
  else if (!o.memUsage) m.msg('tsmakedumpfile Completed.\n');
  return code;
}

/** makedumpfile's check_dump_file(), with its message (ERRMSG names the function). */
/**
 * An error as makedumpfile's one line: a system error as `Can't open the dump memory(PATH). No such file or
 * directory` (the path once, the cause in glibc's words, not Node's `ENOENT: ..., open 'PATH'`), else its message.
 */
function errorLine(e: unknown, input: string | undefined): string {
  const x = e as NodeJS.ErrnoException;
  if (e instanceof Error && typeof x.code === 'string' && /^E[A-Z]+$/.test(x.code)) {
    const words = strerror(x.code, x.message.replace(/^E[A-Z]+: /, '').replace(/, \w+(?: '[^']*')*$/, ''));
    const path = x.path ?? input ?? '';
    if (x.syscall === 'open' && path === input)
      return `open_dump_memory: Can't open the dump memory(${path}). ${words}`;
    return x.syscall === 'open' ? `Can't open ${path}. ${words}` : `Can't read a file(${path}). ${words}`;
  }
  return (e as Error).message ?? String(e);
}

function refuseExisting(m: Messages, path: string, force: boolean): boolean {
  const why = checkDumpFile(path, force);
  if (why) m.error(`check_dump_file: ${why}\n`);
  return why !== undefined;
}

async function dispatch(o: Options, m: Messages, deps: WriterDeps): Promise<number> {
  const a = o.args;
  if (o.rearrange) {
    if (a.length !== 1 || o.compression !== 'none' || o.dumpLevels.length || o.elf || o.flatten || o.split) {
      return invalid(m);
    }
    if (o.checkParams) return COMPLETED;
    if (refuseExisting(m, a[0]!, o.force)) return FAILED;
    const sink = new FileSink(a[0]!, o.force);
    try {
      rearrange(0, sink);
      sink.finish();
    } catch (e) {
      sink.abort();
      throw e;
    }
    m.msg(`\nThe dumpfile is saved to ${a[0]}.\n`);
    return COMPLETED;
  }
  if (o.reassemble) {
    if (
      a.length < 3 ||
      o.compression !== 'none' ||
      o.dumpLevels.length ||
      o.elf ||
      o.flatten ||
      o.split ||
      o.vmcoreinfo
    ) {
      return invalid(m);
    }
    if (o.checkParams) return COMPLETED;
    const out = a[a.length - 1]!;
    if (refuseExisting(m, out, o.force)) return FAILED;
    const sink = new FileSink(out, o.force);
    try {
      reassemble(a.slice(0, -1), sink, m);
      sink.finish();
    } catch (e) {
      sink.abort();
      throw e;
    }
    m.msg(`\nThe dumpfile is saved to ${out}.\n`);
    return COMPLETED;
  }
  // makedumpfile's check_param_for_creating_dumpfile(), shared by --dump-dmesg and --mem-usage
  if (o.dryRun && o.dumpDmesg) return invalid(m, '--dry-run cannot be used with --dump-dmesg.');
  if (o.config && !o.vmlinux) return invalid(m, '--config needs -x VMLINUX (the filter reads its debug info).');
  if (o.partialDmesg && !o.dumpDmesg) return invalid(m);
  if (o.dumpDmesg) {
    if (a.length !== 2 || o.flatten || o.split) return invalid(m);
    if (o.checkParams) return COMPLETED;
    return dumpDmesg(a[0]!, a[1]!, o, m);
  }
  if (o.memUsage) {
    if (a.length < 1 || a.length > 2 || o.split || o.flatten) return invalid(m);
    if (o.checkParams) return COMPLETED;
    const { showMemUsage } = await import('./mem-usage.js');
    return showMemUsage(await openSource(a[0]!), o, m);
  }
  // creating dump files
  if (o.compression !== 'none' && o.elf)
    return invalid(m, 'Compression (-c/-l/-p/-z) cannot be used with ELF format (-E).');
  if (o.vmcoreinfo && o.vmlinux) return invalid(m);
  if (o.flatten && o.split) return invalid(m);
  if (o.numThreads && o.split) return invalid(m, '--num-threads cannot used with --split.');
  if (o.numThreads && o.elf) return invalid(m, '--num-threads cannot used with ELF format.');
  let vmcorePath: string;
  let outs: string[];
  if (o.split) {
    if (a.length < 3) return invalid(m);
    if (o.elf) return invalid(m, 'Options for splitting dumpfile cannot be used with Elf format.');
    vmcorePath = a[0]!;
    outs = a.slice(1);
  } else if (o.flatten) {
    if (a.length !== 1) return invalid(m);
    vmcorePath = a[0]!;
    outs = [];
  } else {
    if (a.length !== 2) return invalid(m);
    vmcorePath = a[0]!;
    outs = [a[1]!];
  }
  if (o.checkParams) return COMPLETED;
  for (const f of outs) {
    if (!o.dryRun && refuseExisting(m, f, o.force)) return FAILED;
  }
  const dumpLevel = o.dumpLevels.length ? o.dumpLevels[0]! : 0;
  let vmcoreinfoText: string | undefined;
  if (o.vmcoreinfo) vmcoreinfoText = readFileSync(o.vmcoreinfo, 'latin1');

  const src = await openSource(vmcorePath);
  try {
    if (o.vmlinux) {
      // -x: the vmlinux fills in what the dump's VMCOREINFO lacks (the dump's own entries come first and win).
      if (!deps.vmcoreinfoFromVmlinux) {
        m.error('-x VMLINUX needs the tsmakedumpfile command (debug info is read by the command line layer).\n');
        return FAILED;
      }
      const dumpInfo = src.vmcoreinfo !== undefined ? new VmcoreinfoTable(src.vmcoreinfo) : undefined;
      const kaslr = dumpInfo?.hex('KERNELOFFSET') ?? 0n;
      const fromVmlinux = await deps.vmcoreinfoFromVmlinux(o.vmlinux, kaslr);
      const want = dumpInfo?.raw('BUILD-ID');
      if (want && fromVmlinux.buildId && !fromVmlinux.buildId.startsWith(want.toLowerCase())) {
        m.error(
          `${o.vmlinux} and ${vmcorePath} don't match (build-id ${fromVmlinux.buildId}, the dump's is ${want}).\n`,
        );
        return WRONG_RELEASE;
      }
      vmcoreinfoText = `${src.vmcoreinfo ?? ''}\n${fromVmlinux.text}`;
      m.debug(`VMCOREINFO from ${o.vmlinux}:\n${fromVmlinux.text}`);
    }
    if (vmcoreinfoText !== undefined && src.vmcoreinfo !== undefined) {
      const mine = new VmcoreinfoTable(vmcoreinfoText).raw('OSRELEASE');
      const theirs = new VmcoreinfoTable(src.vmcoreinfo).raw('OSRELEASE');
      if (mine && theirs && mine !== theirs) {
        m.error(`${o.vmcoreinfo} and ${vmcorePath} don't match.\n`);
        return WRONG_RELEASE;
      }
    }
    let attempt = 0;
    let level = dumpLevel;
    let w: Written;
    for (;;) {
      w = await writeOnce(src, o, m, level, vmcoreinfoText, outs, deps);
      const next = o.dumpLevels[attempt + 1];
      if (!(w.incomplete && w.noSpace && next !== undefined && !o.flatten)) break;
      // makedumpfile: on ENOSPC retry with the next dump level of the -d list
      attempt++;
      level = next;
      m.msg(`Retry to create a dumpfile by dump_level(${level}).\n`);
      for (const f of outs) rmSync(f, { force: true });
    }
    const { incomplete, prep, bytes, elfExcluded } = w;
    if (incomplete) {
      if (!o.flatten) m.msg('This is an incomplete dumpfile, but might analyzable.\n');
      return FAILED;
    }
    m.report(
      formatReport({ maxPfn: src.maxPfn, memHole: prep.memHole, counts: prep.counts, writeBytes: bytes, elfExcluded }),
    );
    if (o.split) {
      m.msg(`\nThe dumpfiles are saved to ${outs.slice(0, -1).join(', ')}, and ${outs[outs.length - 1]}.\n`);
    } else if (!o.flatten) {
      m.msg(`\nThe dumpfile is saved to ${outs[0]}.\n`);
    }
    return COMPLETED;
  } finally {
    src.close();
  }
}

interface Written {
  incomplete: boolean;
  noSpace: boolean;
  prep: Prepared;
  bytes: number;
  elfExcluded: number | undefined;
}

async function writeOnce(
  src: DumpSource,
  o: Options,
  m: Messages,
  level: number,
  vmcoreinfoText: string | undefined,
  outs: string[],
  deps: WriterDeps,
): Promise<Written> {
  // re-filtering a filtered dump: its exclusions stay (makedumpfile's update_dump_level)
  const dumpLevel = level | (src.inputDumpLevel ?? 0);
  if (dumpLevel !== level)
    m.msg(`The dump level is changed to ${dumpLevel} (the input was made with -d ${src.inputDumpLevel}).\n`);
  // start the compression workers now so that their start-up overlaps the page filter
  const threads = o.numThreads ?? defaultThreads(o, src.maxPfn * src.pageSize);
  // (worker_threads and the pool load only when there are workers)
  const pool =
    threads > 1 && !o.elf
      ? new (await import('./compress-pool.js')).CompressPool(threads, o.compression, src.pageSize)
      : undefined;
  try {
    return await writeWith(src, o, m, dumpLevel, vmcoreinfoText, outs, threads, pool, deps);
  } finally {
    await pool?.close();
  }
}

async function writeWith(
  src: DumpSource,
  o: Options,
  m: Messages,
  dumpLevel: number,
  vmcoreinfoText: string | undefined,
  outs: string[],
  threads: number,
  pool: CompressPool | undefined,
  deps: WriterDeps,
): Promise<Written> {
  const prep = prepareDump(src, { dumpLevel, vmcoreinfoOverride: vmcoreinfoText, messages: m });
  m.debug(`max_mapnr    : ${src.maxPfn.toString(16)}\nnum_dumpable : ${prep.numDumpable}\n`);
  // -b ORDER: makedumpfile's cache_data holds page_size << ORDER bytes before it writes
  const bufferBytes = o.blockOrder !== undefined ? src.pageSize * 2 ** o.blockOrder : undefined;
  const erase = o.config ? await loadErase(o, prep, m, deps) : undefined;
  let incomplete = false;
  let elfExcluded: number | undefined;
  let bytes = 0;
  let noSpace = false;
  const openSink = (name: string | undefined): OutputSink =>
    name === undefined ? new FlatSink(1) : o.dryRun ? new NullSink(name) : new FileSink(name, o.force);
  if (o.elf) {
    if (dumpLevel & DL_EXCLUDE_ZERO) prep.counts.zero = excludeZeroPages(src, prep.bitmap2, m);
    const sink = openSink(outs[0]);
    try {
      const r = writeElf(src, src.elfHeader ?? synthesizeElfHeader(src.elfMachine), sink, prep.bitmap2, m, {
        chunkBytes: bufferBytes,
        filterSpan: erase ? (buf, paddr) => erase.apply(buf, paddr) : undefined,
        eraseInfo: erase?.size ? { reserve: erase.eraseInfoReserve(), text: () => erase.eraseInfo() } : undefined,
      });
      elfExcluded = r.elfExcluded;
      incomplete = r.incomplete;
      if (r.error) m.error(`\n${r.error.message}\n`);
      noSpace ||= r.error instanceof NoSpaceError;
      sink.finish();
      bytes = sink.bytesWritten;
    } catch (e) {
      sink.abort();
      throw e;
    }
  } else {
    const ranges = o.split
      ? splitRanges(
          prep.bitmap2,
          src.maxPfn,
          outs.length,
          Math.max(1, Math.floor((o.splitblockSize ?? 1 << 30) / src.pageSize)),
        )
      : [undefined];
    for (let i = 0; i < ranges.length; i++) {
      const sink = openSink(outs[i]);
      try {
        const r = await writeKdump({
          source: src,
          sink,
          compression: o.compression,
          dumpLevel,
          bitmap1: prep.bitmap1,
          bitmap2: prep.bitmap2,
          header: prep.header,
          numDumpable: prep.numDumpable,
          split: ranges[i],
          threads,
          pool,
          messages: m,
          counts: prep.counts,
          bufferBytes,
          filterPages: erase ? (buf, pfns, n) => erase.applyPages(buf, pfns, n, src.pageSize) : undefined,
          eraseInfo: erase ? () => erase.eraseInfo() : undefined,
        });
        if (r.incomplete) {
          incomplete = true;
          noSpace ||= r.error instanceof NoSpaceError;
          m.error(`\n${r.error?.message}\n`);
        }
        sink.finish();
        bytes += sink.bytesWritten;
      } catch (e) {
        sink.abort();
        throw e;
      }
    }
  }
  return { incomplete, noSpace, prep, bytes, elfExcluded };
}

/**
 * Compression is the slow part: compress in worker threads when there is more
 * than one CPU and enough memory to repay starting them (about 30 ms each).
 */
function defaultThreads(o: Options, memoryBytes: number): number {
  // LZO and zstd keep up with reading in one thread; workers only pay for zlib and snappy
  if ((o.compression !== 'zlib' && o.compression !== 'snappy') || o.split || o.elf) return 0;
  if (memoryBytes < 256 << 20) return 0;
  const n = availableParallelism();
  return n > 1 ? Math.min(n, 4) : 0;
}

class NullSink implements OutputSink {
  readonly flattened = false;
  bytesWritten = 0;
  constructor(readonly name: string) {}
  write(_offset: number, data: Uint8Array): void {
    this.bytesWritten += data.length;
  }
  finish(): void {}
  abort(): void {}
}

/** --config: resolve the erase commands (DWARF, in the command line layer) to physical regions of this dump. */
async function loadErase(o: Options, prep: Prepared, m: Messages, deps: WriterDeps): Promise<EraseMap> {
  if (!deps.eraseTargets) throw new Error('--config needs the tsmakedumpfile command (debug info is read there).');
  const kmem = prep.kmem;
  if (!kmem || !prep.info) throw new Error('--config: kernel addresses cannot be translated (no usable VMCOREINFO).');
  // the progress line of the filter is still open: the first message starts a line of its own
  let open = (m.level & ML_PRINT_PROGRESS) !== 0;
  const warn = (s: string) => {
    m.error(`${open ? '\n' : ''}${s}\n`);
    open = false;
  };
  const read = (va: bigint, len: number): Uint8Array => {
    const b = new Uint8Array(len);
    kmem.read(va, len, b, 0);
    return b;
  };
  const kaslr = prep.info.hex('KERNELOFFSET') ?? 0n;
  let targets: EraseTarget[];
  try {
    targets = await deps.eraseTargets(o.config!, o.vmlinux!, kaslr, read, warn);
  } catch (e) {
    throw new Error(`${open ? '\n' : ''}${(e as Error).message}`, { cause: e });
  }
  const map = new EraseMap(targets, (va) => kmem.translate(va), warn);
  m.debug(`--config: ${targets.length} region(s) to erase\n`);
  return map;
}

async function openSource(path: string): Promise<DumpSource> {
  const fd = openSync(path, 'r');
  const head = new Uint8Array(64);
  let n = 0;
  try {
    n = readSync(fd, head, 0, 64, 0);
  } finally {
    closeSync(fd);
  }
  if (isElfCore(head.subarray(0, n))) return new ElfSource(path);
  const { openDumpSource } = await import('./dump-source.js');
  return openDumpSource(path);
}

async function dumpDmesg(vmcore: string, out: string, o: Options, m: Messages): Promise<number> {
  if (refuseExisting(m, out, o.force)) return FAILED;
  const { writeDmesg } = await import('./dmesg-bridge.js');
  await writeDmesg(vmcore, out, o.force, o.vmcoreinfo ? readFileSync(o.vmcoreinfo, 'latin1') : undefined, {
    sinceClear: o.partialDmesg,
  });
  m.msg(`\nThe dmesg log is saved to ${out}.\n`);
  return COMPLETED;
}
