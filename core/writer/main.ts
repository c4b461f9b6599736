/**
 * tsmakedumpfile's actions: create a dump (kdump-compressed, ELF, flattened,
 * split), rearrange a flattened stream (-R), reassemble split files, and
 * --dump-dmesg. Returns makedumpfile's exit codes.
 */

import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DL_EXCLUDE_ZERO } from '../filter/exclude.js';
import { VmcoreinfoTable } from '../filter/vmcoreinfo-table.js';
import { CompressPool } from './compress-pool.js';
import { ElfSource, isElfCore } from './elf-source.js';
import { excludeZeroPages, synthesizeElfHeader, writeElf } from './elf-writer.js';
import { writeKdump } from './kdump-writer.js';
import { DEFAULT_MSG_LEVEL, formatReport, Messages, ML_PRINT_DEBUG_MSG, ML_PRINT_REPORT_MSG } from './messages.js';
import { type Options, parseOptions, USAGE, UsageError } from './options.js';
import { FileSink, FlatSink, NoSpaceError, type OutputSink, pathExists } from './output.js';
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
  m.msg('\ntsmakedumpfile Failed.\n');
  return FAILED;
}

/** What the command line layer supplies that core/ cannot compute itself (it knows no DWARF). */
export interface WriterDeps {
  /** -x VMLINUX: VMCOREINFO entries from the vmlinux's DWARF and symbols, symbols moved by `kaslrOffset`. */
  vmcoreinfoFromVmlinux?: (path: string, kaslrOffset: bigint) => Promise<{ text: string; buildId?: string }>;
}

export async function runMakedumpfile(argv: readonly string[], deps: WriterDeps = {}): Promise<number> {
  let o: Options;
  const early = new Messages(DEFAULT_MSG_LEVEL, false, true);
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) return invalid(early, `tsmakedumpfile: ${e.message}`);
    throw e;
  }
  let level = o.messageLevel ?? DEFAULT_MSG_LEVEL;
  if (o.debug) level |= ML_PRINT_DEBUG_MSG;
  if (o.showStats) level |= ML_PRINT_REPORT_MSG;
  const toStderr = o.flatten;
  const m = new Messages(level, process.stderr.isTTY === true, toStderr);
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
    m.error(`${(e as Error).message}\n`);
    code = FAILED;
  }
  m.msg('\n');
  m.msg(code === COMPLETED ? 'tsmakedumpfile Completed.\n' : 'tsmakedumpfile Failed.\n');
  return code;
}

async function dispatch(o: Options, m: Messages, deps: WriterDeps): Promise<number> {
  const a = o.args;
  if (o.rearrange) {
    if (a.length !== 1 || o.compression !== 'none' || o.dumpLevels.length || o.elf || o.flatten || o.split) {
      return invalid(m);
    }
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
    const out = a[a.length - 1]!;
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
  if (o.dumpDmesg) {
    if (a.length !== 2 || o.flatten || o.split) return invalid(m);
    return dumpDmesg(a[0]!, a[1]!, o, m);
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
  for (const f of outs) {
    if (!o.force && !o.dryRun && pathExists(f)) {
      m.error(`File ${f} already exists.\n`);
      return FAILED;
    }
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
      w = await writeOnce(src, o, m, level, vmcoreinfoText, outs);
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
): Promise<Written> {
  // re-filtering a filtered dump: its exclusions stay (makedumpfile's update_dump_level)
  const dumpLevel = level | (src.inputDumpLevel ?? 0);
  if (dumpLevel !== level)
    m.msg(`The dump level is changed to ${dumpLevel} (the input was made with -d ${src.inputDumpLevel}).\n`);
  // start the compression workers now so that their start-up overlaps the page filter
  const threads = o.numThreads ?? defaultThreads(o, src.maxPfn * src.pageSize);
  const pool = threads > 1 && !o.elf ? new CompressPool(threads, o.compression, src.pageSize) : undefined;
  try {
    return await writeWith(src, o, m, dumpLevel, vmcoreinfoText, outs, threads, pool);
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
): Promise<Written> {
  const prep = prepareDump(src, { dumpLevel, vmcoreinfoOverride: vmcoreinfoText, messages: m });
  m.debug(`max_mapnr    : ${src.maxPfn.toString(16)}\nnum_dumpable : ${prep.numDumpable}\n`);
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
      const r = writeElf(src, src.elfHeader ?? synthesizeElfHeader(src.elfMachine), sink, prep.bitmap2, m);
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
  if (!o.force && pathExists(out)) {
    m.error(`File ${out} already exists.\n`);
    return FAILED;
  }
  const { writeDmesg } = await import('./dmesg-bridge.js');
  await writeDmesg(vmcore, out, o.force, o.vmcoreinfo ? readFileSync(o.vmcoreinfo, 'latin1') : undefined);
  m.msg(`\nThe dmesg log is saved to ${out}.\n`);
  return COMPLETED;
}
