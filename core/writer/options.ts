/**
 * makedumpfile's command line (getopt_long "b:cDd:eEFfg:hi:lL:pRvXx:z" plus
 * long options), parsed with GNU semantics: clustered short options, attached
 * or separate arguments, --opt=value, options anywhere, "--" ends options.
 * Options makedumpfile has that we do not implement are rejected by name.
 */
import type { Compression } from './page-compress.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Options {
  compression: Compression;
  dumpLevels: number[];
  elf: boolean;
  flatten: boolean;
  force: boolean;
  rearrange: boolean;
  reassemble: boolean;
  split: boolean;
  dumpDmesg: boolean;
  /** --partial-dmesg: with --dump-dmesg, only the messages since the log was last cleared. */
  partialDmesg: boolean;
  /** --mem-usage: the page classes and what each dump level keeps, nothing written. */
  memUsage: boolean;
  /** --check-params: validate the command line and exit. */
  checkParams: boolean;
  /** -b ORDER: the output buffer holds 2^ORDER pages (makedumpfile's cache_data). */
  blockOrder: number | undefined;
  /** --config FILE: makedumpfile's filter configuration (erase commands). */
  config: string | undefined;
  help: boolean;
  version: boolean;
  showStats: boolean;
  dryRun: boolean;
  debug: boolean;
  messageLevel: number | undefined;
  numThreads: number | undefined;
  splitblockSize: number | undefined;
  vmlinux: string | undefined;
  vmcoreinfo: string | undefined;
  args: string[];
}

/** Accepted and honoured implicitly (they tune makedumpfile's memory use or I/O, not the output). */
const NOOP_WITH_ARG = new Set(['cyclic-buffer', 'work-dir']);
const NOOP_FLAG = new Set(['non-cyclic', 'non-mmap']);
/** makedumpfile options we do not implement: rejected, naming the option. */
const UNSUPPORTED = new Set([
  'e',
  'g',
  'L',
  'X',
  'eppic',
  'diskset',
  'xen-syms',
  'xen-vmcoreinfo',
  'xen_phys_start',
  'vtop',
  'extension',
]);
const SHORT_WITH_ARG = new Set(['b', 'd', 'g', 'i', 'L', 'x']);
const LONG_WITH_ARG = new Set([
  'message-level',
  'num-threads',
  'splitblock-size',
  'cyclic-buffer',
  'work-dir',
  'config',
  'eppic',
  'diskset',
  'xen-syms',
  'xen-vmcoreinfo',
  'xen_phys_start',
  'vtop',
  'extension',
]);
const LONG_FLAGS = new Set([
  'split',
  'reassemble',
  'dump-dmesg',
  'partial-dmesg',
  'mem-usage',
  'show-stats',
  'dry-run',
  'check-params',
  'help',
  'version',
  'non-cyclic',
  'non-mmap',
]);

function parseIntArg(v: string, what: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${what} (${v}) is invalid.`);
  return Number(v);
}

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    compression: 'none',
    dumpLevels: [],
    elf: false,
    flatten: false,
    force: false,
    rearrange: false,
    reassemble: false,
    split: false,
    dumpDmesg: false,
    partialDmesg: false,
    memUsage: false,
    checkParams: false,
    blockOrder: undefined,
    config: undefined,
    help: false,
    version: false,
    showStats: false,
    dryRun: false,
    debug: false,
    messageLevel: undefined,
    numThreads: undefined,
    splitblockSize: undefined,
    vmlinux: undefined,
    vmcoreinfo: undefined,
    args: [],
  };
  const apply = (name: string, val: string | undefined): void => {
    if (UNSUPPORTED.has(name)) {
      throw new UsageError(`option ${name.length === 1 ? '-' : '--'}${name} is not supported by tsmakedumpfile.`);
    }
    if (NOOP_WITH_ARG.has(name) || NOOP_FLAG.has(name)) return;
    switch (name) {
      case 'c':
        o.compression = 'zlib';
        return;
      case 'l':
        o.compression = 'lzo';
        return;
      case 'p':
        o.compression = 'snappy';
        return;
      case 'z':
        o.compression = 'zstd';
        return;
      case 'd':
        o.dumpLevels = val!.split(',').map((s) => {
          const n = parseIntArg(s, 'Dump_level');
          if (n < 0 || n > 31) throw new UsageError(`Dump_level(${n}) is invalid.`);
          return n;
        });
        return;
      case 'E':
        o.elf = true;
        return;
      case 'F':
        o.flatten = true;
        return;
      case 'f':
        o.force = true;
        return;
      case 'R':
        o.rearrange = true;
        return;
      case 'D':
        o.debug = true;
        return;
      case 'h':
      case 'help':
        o.help = true;
        return;
      case 'v':
      case 'version':
        o.version = true;
        return;
      case 'i':
        o.vmcoreinfo = val;
        return;
      case 'x':
        o.vmlinux = val;
        return;
      case 'split':
        o.split = true;
        return;
      case 'reassemble':
        o.reassemble = true;
        return;
      case 'dump-dmesg':
        o.dumpDmesg = true;
        return;
      case 'partial-dmesg':
        o.partialDmesg = true;
        return;
      case 'mem-usage':
        o.memUsage = true;
        return;
      case 'check-params':
        o.checkParams = true;
        return;
      case 'config':
        o.config = val;
        return;
      case 'b': {
        // makedumpfile takes atoi(); an order past 20 (a 4 GiB buffer of 4 KiB pages) cannot be meant
        const n = parseIntArg(val!, 'Block_order');
        if (n < 0 || n > 20) throw new UsageError(`Block_order(${n}) is invalid.`);
        o.blockOrder = n;
        return;
      }
      case 'show-stats':
        o.showStats = true;
        return;
      case 'dry-run':
        o.dryRun = true;
        return;
      case 'message-level': {
        const n = parseIntArg(val!, 'Message_level');
        if (n < 0 || n > 31) throw new UsageError(`Message_level(${n}) is invalid.`);
        o.messageLevel = n;
        return;
      }
      case 'num-threads':
        o.numThreads = Math.max(parseIntArg(val!, 'Num_threads'), 0);
        return;
      case 'splitblock-size':
        o.splitblockSize = parseIntArg(val!, 'Splitblock_size');
        if (o.splitblockSize <= 0) throw new UsageError(`Splitblock_size(${val}) is invalid.`);
        return;
      default:
        throw new UsageError(`unrecognized option '${name.length === 1 ? '-' : '--'}${name}'`);
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      o.args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (LONG_WITH_ARG.has(name)) {
        let v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option '--${name}' requires an argument`);
        v = String(v);
        apply(name, v);
      } else if (LONG_FLAGS.has(name)) {
        if (eq > 0) throw new UsageError(`option '--${name}' doesn't allow an argument`);
        apply(name, undefined);
      } else {
        throw new UsageError(`unrecognized option '--${name}'`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (SHORT_WITH_ARG.has(c)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (v === undefined) throw new UsageError(`option requires an argument -- '${c}'`);
          apply(c, v);
          break;
        }
        if (!'cDEFfhlpRvz'.includes(c) && !UNSUPPORTED.has(c)) throw new UsageError(`invalid option -- '${c}'`);
        apply(c, undefined);
      }
      continue;
    }
    o.args.push(a);
  }
  return o;
}

export const USAGE = `tsmakedumpfile: a makedumpfile-compatible dump writer.

Usage:
  Creating DUMPFILE:
  # tsmakedumpfile    [-c|-l|-p|-z] [-E] [-d DL] [-x VMLINUX|-i VMCOREINFO] VMCORE DUMPFILE

  Creating DUMPFILE with filtered kernel data specified through filter config file:
  # tsmakedumpfile    [-c|-l|-p|-z] [-E] [-d DL] -x VMLINUX --config FILTERCONFIGFILE VMCORE DUMPFILE

  Outputting the dump data in the flattened format to the standard output:
  # tsmakedumpfile -F [-c|-l|-p|-z|-E] [-d DL] [-x VMLINUX|-i VMCOREINFO] VMCORE

  Rearranging the dump data in the flattened format to a readable DUMPFILE:
  # tsmakedumpfile -R DUMPFILE

  Split the dump data to multiple DUMPFILEs in parallel:
  # tsmakedumpfile --split [OPTION] [-x VMLINUX|-i VMCOREINFO] VMCORE DUMPFILE1 DUMPFILE2 [DUMPFILE3 ..]

  Reassemble multiple DUMPFILEs:
  # tsmakedumpfile --reassemble DUMPFILE1 DUMPFILE2 [DUMPFILE3 ..] DUMPFILE

  Creating a log file from VMCORE:
  # tsmakedumpfile --dump-dmesg [--partial-dmesg] VMCORE LOGFILE

  Showing how many pages each dump level would keep:
  # tsmakedumpfile --mem-usage VMCORE

Available options:
  [-c|-l|-p|-z]  Compress dump data by each page using zlib / lzo / snappy / zstd.
  [-d DL]        Dump level (0-31): 1 zero pages, 2 cache pages without private,
                 4 cache pages with private, 8 user data pages, 16 free pages.
                 hwpoison and offline pages are always excluded.
  [-E]           Create DUMPFILE in the ELF format.
  [-F]           Output the dump data in the flattened format to the standard output.
  [-R]           Rearrange the flattened dump data from the standard input.
  [-f]           Overwrite DUMPFILE if it exists.
  [-i VMCOREINFO] Use VMCOREINFO from a file instead of the dump's.
  [-x VMLINUX]   Fill in VMCOREINFO from VMLINUX's debug info; needed by --config.
  [--config FILTERCONFIGFILE] Erase the kernel data the file names (makedumpfile.conf(5)):
                 'X' over the data, zeros for nullify; [module] sections are skipped.
  [-b ORDER]     Gather 2^ORDER pages of output before each write (default: 2 MiB).
  [--partial-dmesg] With --dump-dmesg: only the messages since the log was last cleared.
  [--mem-usage]  Print the page classes and the pages each dump level keeps; nothing is written.
  [--check-params] Only check the command line, and exit 0 (valid) or 1.
  [--split]      Split the dump data to multiple DUMPFILEs.
  [--reassemble] Reassemble split DUMPFILEs into one.
  [--splitblock-size SIZE] Split granularity in bytes for --split (default 1 GiB).
  [--num-threads N] Compress pages in N worker threads.
  [--message-level ML] Bit mask: 1 progress, 2 common, 4 error, 8 debug, 16 report (default 7).
  [--show-stats] Print the report of excluded pages (message level bit 16).
  [--dry-run]    Do not write the output.
  [-D]           Print debugging messages.
  [-v]           Show the version.
  [-h]           Show this help.
`;
