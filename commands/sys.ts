import { pagesToSize } from '../helpers/meminfo.js';
import { kernelLog } from '../helpers/printk.js';
import { cpuMhz, formatUptime, loadAverage, presentPages, uptimeSeconds } from '../helpers/system.js';
import { allTasks } from '../helpers/tasks.js';
import { utsname } from '../helpers/utsname.js';
import { CommandError, type Program, TscrashError } from '../program/index.js';
import { crashDate } from './lib/localtime.js';
import type { Command } from './registry.js';

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

export const sys: Command = {
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
  run(ctx, args) {
    if (args.length) throw new CommandError('sys takes no arguments here');
    const p = ctx.program;
    const u = utsname(p);
    const rows: [string, string][] = [];
    if (p.vmlinux) rows.push(['KERNEL', p.vmlinux]);
    rows.push(['DUMPFILE', p.dump.path]);
    rows.push(['CPUS', String(p.dump.info.nrCpus ?? p.cpus.length)]);
    if (p.vmcoreinfo.crashTime !== undefined) rows.push(['DATE', crashDate(p.vmcoreinfo.crashTime)]);
    const typed = p.hasDebugInfo;
    // Figures from kernel variables: each is left out when the kernel lacks it or its memory is not in the dump.
    const tryRow = (key: string, f: () => string | undefined): void => {
      if (!typed) return;
      try {
        const v = f();
        if (v !== undefined) rows.push([key, v]);
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
      }
    };
    tryRow('UPTIME', () => {
      const s = uptimeSeconds(p);
      return s === undefined ? undefined : formatUptime(s);
    });
    tryRow('LOAD AVERAGE', () => loadAverage(p));
    tryRow('TASKS', () => String(allTasks(p).length));
    rows.push(['NODENAME', u.nodename], ['RELEASE', u.release], ['VERSION', u.version]);
    let machine = u.machine;
    if (typed) {
      try {
        const mhz = cpuMhz(p);
        if (mhz) machine += `  (${mhz} Mhz)`;
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
      }
    }
    rows.push(['MACHINE', machine]);
    tryRow('MEMORY', () => {
      const pages = presentPages(p);
      return pages === undefined ? undefined : memorySize(pages * BigInt(p.memory.pageSize), p.memory.pageSize);
    });
    const panic = panicMessage(logTextLines(p));
    rows.push(['PANIC', `"${panic}"${panic.includes('Oops: ') ? ' (check log for details)' : ''}`]);
    for (const [k, v] of rows) ctx.out(`${k.padStart(12)}: ${v}\n`);
  },
};
