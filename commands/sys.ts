import { pagesToSize } from '../helpers/meminfo.js';
import { kernelLog } from '../helpers/printk.js';
import { cpuMhz, formatUptime, loadAverage, presentPages, uptimeSeconds } from '../helpers/system.js';
import { allTasks } from '../helpers/tasks.js';
import { utsname } from '../helpers/utsname.js';
import { BadDataError, CommandError, FaultError, type Program, TscrashError } from '../program/index.js';
import { crashDate } from './lib/localtime.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

/**
 * The panic line crash's sys shows, searched in the log's text as crash 8.0.2 searches it (get_panicmsg): groups of
 * substrings in order of precedence, each group over the whole log, the first line holding one of the group's
 * substrings winning. The whole line is the message. An empty string when no line matches (crash prints `""`).
 */
const PANIC_GROUPS: string[][] = [
  ['general protection fault: ', 'double fault: ', 'divide error: ', 'stack segment: '],
  ['SysRq : Netdump', 'SysRq : Crash', 'SysRq : Trigger a crash'],
  [
    'Oops: ',
    'Kernel BUG at',
    'kernel BUG at',
    'Unable to handle kernel paging request',
    'Unable to handle kernel NULL pointer dereference',
    'BUG: unable to handle kernel ',
  ],
  ['Kernel panic: ', 'Kernel panic - '],
  ['[Hardware Error]: '],
  ['Bad mode in '],
];

export function panicMessage(lines: string[]): string {
  for (const group of PANIC_GROUPS) {
    const hit = lines.find((l) => group.some((g) => l.includes(g)));
    if (hit !== undefined) return hit;
  }
  return '';
}

/** The log's text lines, as crash's `log` with no timestamps prints them (a record's embedded newlines split it). */
export function logTextLines(prog: Program): string[] {
  const log = kernelLog(prog);
  if (log.kind === 'plain') return Buffer.from(log.bytes).toString('latin1').split('\n');
  return log.records.flatMap((r) => Buffer.from(r.text).toString('latin1').split('\n'));
}

/**
 * crash's sys MEMORY (get_memory_size): the managed memory, rounded up to the next GiB when within 64 MiB of it,
 * in pages_to_size's format (`4 GB`, `511.5 MB`).
 */
export function memorySize(bytes: bigint, pageSize: number): string {
  const GiB = 1n << 30n;
  const nextGig = ((bytes + GiB - 1n) / GiB) * GiB;
  const total = nextGig && nextGig - bytes <= 64n << 20n ? nextGig : bytes;
  return pagesToSize(total / BigInt(pageSize), pageSize);
}

/** sys: what the dump and the kernel's variables say of the system. */
export interface SysResult {
  /** The vmlinux, when the session has one. */
  kernel?: string;
  dumpfile: string;
  cpus: number;
  /** The crash time (VMCOREINFO's CRASHTIME), and as crash prints it in the local zone. */
  date?: { epoch: number; text: string };
  /** Whole seconds since boot, as crash counts them (jiffies over HZ), and crash's text. */
  uptime?: { seconds: number; text: string };
  /** The load averages as /proc/loadavg prints them: "0.16, 0.03, 0.01". */
  loadAverage?: string;
  tasks?: number;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  /** The CPU clock in MHz (cpu_khz). */
  mhz?: number;
  /** The memory the kernel manages (present pages), and crash's size text. */
  memory?: { bytes: Hex; text: string };
  /** The panic line crash's sys shows; empty when the log has none. */
  panic: string;
  /**
   * The figures that could not be read (a truncated or damaged dump), each with why: their rows say so instead
   * of being left out in silence.
   */
  unreadable?: { field: string; message: string }[];
}

export const sys: Command<SysResult> = {
  name: 'sys',
  summary: 'system data: the kernel, the dump, the panic',
  help: `NAME
  sys - system data

SYNOPSIS
  sys

DESCRIPTION
  Shows what crash's sys shows that the dump itself tells: KERNEL, DUMPFILE,
  CPUS, DATE, NODENAME, RELEASE, VERSION, MACHINE and PANIC. (UPTIME, LOAD
  AVERAGE, TASKS and MEMORY come from kernel variables read through the
  vmlinux's debug info.)
`,
  resultType: 'SysResult',
  run(ctx, args): SysResult {
    if (args.length) throw new CommandError('sys takes no arguments here');
    const p = ctx.program;
    const unreadable: { field: string; message: string }[] = [];
    // A figure whose memory cannot be read is named with the reason; one the kernel lacks (a LookupError: no such
    // variable or member) is left out as before.
    const attempt = <T>(field: string, f: () => T | undefined): T | undefined => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
        if (e instanceof FaultError || e instanceof BadDataError) unreadable.push({ field, message: e.message });
        return undefined;
      }
    };
    const typed = p.hasDebugInfo;
    const tryGet = <T>(field: string, f: () => T | undefined): T | undefined => (typed ? attempt(field, f) : undefined);
    const header = p.dump.info.utsname;
    const u = attempt('UTSNAME', () => utsname(p)) ?? {
      nodename: header?.nodename ?? '',
      release: header?.release || (p.vmcoreinfo.osrelease ?? ''),
      version: header?.version ?? '',
      machine: header?.machine || 'x86_64',
    };
    const crashTime = p.vmcoreinfo.crashTime;
    const uptime = tryGet('UPTIME', () => uptimeSeconds(p));
    const loadAvg = tryGet('LOAD AVERAGE', () => loadAverage(p));
    const tasks = tryGet('TASKS', () => allTasks(p).length);
    const pages = tryGet('MEMORY', () => presentPages(p));
    const mhz = tryGet('MHZ', () => cpuMhz(p));
    const panic = attempt('PANIC', () => panicMessage(logTextLines(p))) ?? '';
    return {
      kernel: p.vmlinux,
      dumpfile: p.dump.path,
      cpus: p.dump.info.nrCpus ?? p.cpus.length,
      date: crashTime === undefined ? undefined : { epoch: crashTime, text: crashDate(crashTime) },
      uptime: uptime === undefined ? undefined : { seconds: uptime, text: formatUptime(uptime) },
      loadAverage: loadAvg,
      tasks,
      nodename: u.nodename,
      release: u.release,
      version: u.version,
      machine: u.machine,
      mhz: mhz || undefined,
      memory:
        pages === undefined
          ? undefined
          : {
              bytes: pages * BigInt(p.memory.pageSize),
              text: memorySize(pages * BigInt(p.memory.pageSize), p.memory.pageSize),
            },
      panic,
      unreadable: unreadable.length ? unreadable : undefined,
    };
  },
  text(r, ctx) {
    const rows: [string, string][] = [];
    if (r.kernel) rows.push(['KERNEL', r.kernel]);
    rows.push(['DUMPFILE', r.dumpfile], ['CPUS', String(r.cpus)]);
    if (r.date) rows.push(['DATE', r.date.text]);
    if (r.uptime) rows.push(['UPTIME', r.uptime.text]);
    if (r.loadAverage) rows.push(['LOAD AVERAGE', r.loadAverage]);
    if (r.tasks !== undefined) rows.push(['TASKS', String(r.tasks)]);
    rows.push(['NODENAME', r.nodename], ['RELEASE', r.release], ['VERSION', r.version]);
    rows.push(['MACHINE', `${r.machine}${r.mhz ? `  (${r.mhz} Mhz)` : ''}`]);
    if (r.memory) rows.push(['MEMORY', r.memory.text]);
    if (!r.unreadable?.some((u) => u.field === 'PANIC'))
      rows.push(['PANIC', `"${r.panic}"${r.panic.includes('Oops: ') ? ' (check log for details)' : ''}`]);
    for (const [k, v] of rows) ctx.out(`${k.padStart(12)}: ${v}\n`);
    // What could not be read, after crash's rows: the field and why (the page that is missing, and where).
    for (const u of r.unreadable ?? []) ctx.out(`${u.field.padStart(12)}: (unreadable: ${u.message})\n`);
  },
};
