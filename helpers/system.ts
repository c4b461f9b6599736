/**
 * Whole-system figures crash's sys shows: uptime (from the timekeeper, so no
 * HZ is assumed), load average (avenrun), CPU clock (cpu_khz), memory size.
 */
import type { Program } from '../program/program.js';

/** The monotonic clock at the crash, in ns (xtime + wall_to_monotonic + suspended time). */
export function monotonicNs(prog: Program): bigint | undefined {
  if (!prog.hasVariable('tk_core')) return undefined;
  const tk = prog.variable('tk_core').member('timekeeper');
  const NS = 1_000_000_000n;
  const shift = tk.member('tkr_mono.shift').value();
  let ns = tk.member('xtime_sec').value() * NS + (tk.member('tkr_mono.xtime_nsec').value() >> shift);
  ns += tk.member('wall_to_monotonic.tv_sec').value() * NS + tk.member('wall_to_monotonic.tv_nsec').value();
  if (tk.hasMember('offs_boot')) ns += tk.member('offs_boot').value();
  return ns;
}

/**
 * The kernel's tick rate (CONFIG_HZ): NSEC_PER_SEC over tick_nsec, the tick length NTP keeps within a few parts
 * per million of NSEC_PER_SEC / HZ. Undefined when the kernel has no tick_nsec or it is implausible.
 */
export function kernelHz(prog: Program): number | undefined {
  if (!prog.hasVariable('tick_nsec')) return undefined;
  const tick = prog.variable('tick_nsec').num();
  if (tick <= 0) return undefined;
  const hz = Math.round(1e9 / tick);
  return hz >= 24 && hz <= 10000 ? hz : undefined;
}

/** Jiffies since boot: jiffies_64 less its start value INITIAL_JIFFIES, (u32)(-300 * HZ). */
export function jiffiesSinceBoot(prog: Program): { jiffies: bigint; hz: number } | undefined {
  const hz = kernelHz(prog);
  if (hz === undefined || !prog.hasVariable('jiffies_64')) return undefined;
  const initial = BigInt((-300 * hz) >>> 0);
  const j = prog.variable('jiffies_64').value();
  return { jiffies: BigInt.asUintN(64, j - initial), hz };
}

/**
 * Whole seconds since boot as crash counts them (sys UPTIME, the boot date of log -T): jiffies since boot over
 * HZ; where HZ cannot be found, the monotonic clock plus time spent suspended.
 */
export function uptimeSeconds(prog: Program): number | undefined {
  const j = jiffiesSinceBoot(prog);
  if (j) return Number(j.jiffies / BigInt(j.hz));
  const ns = monotonicNs(prog);
  return ns === undefined ? undefined : Number(ns / 1_000_000_000n);
}

/** crash's time format: `00:00:07`, or `3 days, 01:02:03`. */
export function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d ? `${d} days, ` : ''}${p(h)}:${p(m)}:${p(s)}`;
}

const FSHIFT = 11n; // the kernel's fixed-point shift for avenrun (include/linux/sched/loadavg.h)
const FIXED_1 = 1n << FSHIFT;

/** The three load averages as the kernel's /proc/loadavg prints them: "0.08, 0.02, 0.01". */
export function loadAverage(prog: Program): string | undefined {
  if (!prog.hasVariable('avenrun')) return undefined;
  const av = prog.variable('avenrun');
  const parts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const x = av.index(i).value() + FIXED_1 / 200n;
    const int = x >> FSHIFT;
    const frac = ((x & (FIXED_1 - 1n)) * 100n) >> FSHIFT;
    parts.push(`${int}.${String(frac).padStart(2, '0')}`);
  }
  return parts.join(', ');
}

/** The CPU frequency the kernel measured (tsc_khz / cpu_khz), in MHz. */
export function cpuMhz(prog: Program): number | undefined {
  if (!prog.hasVariable('cpu_khz')) return undefined;
  return Math.floor(prog.variable('cpu_khz').num() / 1000);
}

/** Pages present in all memory zones (the RAM the kernel manages). */
export function presentPages(prog: Program): bigint | undefined {
  if (prog.hasVariable('node_data')) {
    let total = 0n;
    const nd = prog.variable('node_data');
    const n = nd.type.kind === 'array' ? (nd.type.counts[0] ?? 1) : 1;
    for (let i = 0; i < n; i++) {
      const p = nd.index(i);
      if (p.isNull()) continue;
      total += p.member('node_present_pages').value();
    }
    return total;
  }
  if (prog.hasVariable('contig_page_data'))
    return prog.variable('contig_page_data').member('node_present_pages').value();
  return undefined;
}

/**
 * The boot time in whole seconds as crash's log -T computes it: the timekeeper's wall-clock seconds minus the
 * whole seconds of uptime. A record's date is this plus its timestamp's whole seconds.
 */
export function bootEpochSeconds(prog: Program): bigint | undefined {
  if (!prog.hasVariable('tk_core')) return undefined;
  const up = uptimeSeconds(prog);
  if (up === undefined) return undefined;
  return prog.variable('tk_core').member('timekeeper.xtime_sec').value() - BigInt(up);
}
