/**
 * Machine checks as the kernel logged them (arch/x86/kernel/cpu/mce/core.c,
 * __print_mce): "CPU n: Machine Check[ Exception]: <mcgstatus> Bank b: <status>",
 * then RIP, "TSC .. [ADDR ..] [MISC ..] [SYND ..] [IPID ..]", "PROCESSOR v:cpuid TIME t
 * SOCKET s APIC a microcode m", and the panic reason "Machine check: <msg>".
 */
import type { Vendor } from './mce.js';

/**
 * A machine check the kernel logged: its CPU, bank, status, MCG status, address, misc and the other registers, and
 * its log lines.
 */
export interface LoggedMce {
  cpu: number;
  bank: number;
  status: bigint;
  mcgStatus: bigint;
  exception: boolean;
  rip?: { cs: number; ip: bigint; inexact: boolean; symbol?: string };
  tsc?: bigint;
  addr?: bigint;
  misc?: bigint;
  synd?: bigint;
  ipid?: bigint;
  vendor?: Vendor;
  cpuid?: number;
  time?: number;
  socket?: number;
  apic?: number;
  microcode?: number;
  /** The log lines the record was read from. */
  lines: string[];
}

/** The machine checks found in the kernel log. */
export interface MceLog {
  records: LoggedMce[];
  /** "Machine check: ..." messages (the kernel's severity message for the fatal record). */
  messages: string[];
  panic?: string;
}

/** X86_VENDOR_* numbers as the PROCESSOR line prints them. */
const VENDORS: Record<number, Vendor> = { 0: 'intel', 2: 'amd', 9: 'amd' /* Hygon follows AMD */ };

const PREFIX = /^(?:\[[ \d.]+\] )?(?:\[ *[TC]\d+\] )?mce: \[Hardware Error\]: (.*)$/;

/** Parse the log's machine-check lines. Malformed lines are skipped, never fatal. */
export function parseMceLog(log: string): MceLog {
  const out: MceLog = { records: [], messages: [] };
  let cur: LoggedMce | undefined;
  const big = (s: string): bigint | undefined => {
    try {
      return BigInt(`0x${s}`);
    } catch {
      return undefined;
    }
  };
  for (const raw of log.split('\n')) {
    const line = raw.replace(/^\[[ \d.]+\] (\[ *[TC]\d+\] )?/, '');
    const kp = /^Kernel panic - not syncing: (.*)$/.exec(line);
    if (kp) out.panic = kp[0]!.trim();
    const m = PREFIX.exec(raw);
    if (!m) continue;
    const body = m[1]!.trim();
    let x = /^CPU (\d+): Machine Check( Exception)?: ([0-9a-fA-F]+) Bank (\d+): ([0-9a-fA-F]+)/.exec(body);
    if (x) {
      const mcg = big(x[3]!);
      const status = big(x[5]!);
      if (mcg === undefined || status === undefined) continue;
      cur = { cpu: Number(x[1]), bank: Number(x[4]), status, mcgStatus: mcg, exception: !!x[2], lines: [body] };
      out.records.push(cur);
      continue;
    }
    x = /^Machine check: (.*)$/.exec(body);
    if (x) {
      out.messages.push(x[1]!.trim());
      continue;
    }
    if (!cur) continue;
    const rip = /^RIP( !INEXACT!)? ([0-9a-fA-F]+):<([0-9a-fA-F]+)>\s*(?:\{(.*)\})?/.exec(body);
    const processor =
      /^PROCESSOR (\d+):([0-9a-fA-F]+) TIME (\d+) SOCKET (\d+) APIC ([0-9a-fA-F]+) microcode ([0-9a-fA-F]+)/.exec(body);
    x = rip;
    if (x) {
      cur.rip = { cs: Number.parseInt(x[2]!, 16), ip: big(x[3]!) ?? 0n, inexact: !!x[1], symbol: x[4] };
      cur.lines.push(body);
    } else if (/^TSC /.test(body)) {
      for (const [, k, v] of body.matchAll(/(TSC|ADDR|MISC|SYND|IPID) ([0-9a-fA-F]+)/g)) {
        const val = big(v!);
        if (k === 'TSC') cur.tsc = val;
        else if (k === 'ADDR') cur.addr = val;
        else if (k === 'MISC') cur.misc = val;
        else if (k === 'SYND') cur.synd = val;
        else if (k === 'IPID') cur.ipid = val;
      }
      cur.lines.push(body);
    } else if (processor) {
      x = processor;
      cur.vendor = VENDORS[Number(x[1])];
      cur.cpuid = Number.parseInt(x[2]!, 16);
      cur.time = Number(x[3]);
      cur.socket = Number(x[4]);
      cur.apic = Number.parseInt(x[5]!, 16);
      cur.microcode = Number.parseInt(x[6]!, 16);
      cur.lines.push(body);
    }
  }
  return out;
}
