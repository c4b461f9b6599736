import { formatLog, kernelLog } from '../helpers/printk.js';
import { cpuMhz, formatUptime, loadAverage, presentPages, uptimeSeconds } from '../helpers/system.js';
import { allTasks } from '../helpers/tasks.js';
import { utsname } from '../helpers/utsname.js';
import { CommandError, TscrashError } from '../program/index.js';
import type { Command } from './registry.js';

/** The date as crash (and date(1) in the C locale, UTC) prints it. */
export function crashDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** The panic message crash's sys shows: the "Kernel panic - not syncing" line, else the fatal event's line. */
export function panicMessage(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.replace(/^\[[ \d.]+\] /, ''));
  const p = lines.find((l) => l.startsWith('Kernel panic - not syncing'));
  if (p) return p.trim();
  return lines
    .find((l) => /^(BUG: |Oops: |general protection fault|kernel BUG at |sysrq: Trigger a crash)/.test(l))
    ?.trim();
}

/** crash's size format: `511.5 MB`, `3.8 GB`. */
export function memorySize(bytes: bigint): string {
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = Number(bytes) / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
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
      return pages === undefined ? undefined : memorySize(pages * BigInt(p.memory.pageSize));
    });
    const log = Buffer.from(formatLog(kernelLog(p))).toString('latin1');
    const panic = panicMessage(log);
    if (panic) rows.push(['PANIC', `"${panic}"`]);
    for (const [k, v] of rows) ctx.out(`${k.padStart(12)}: ${v}\n`);
  },
};
