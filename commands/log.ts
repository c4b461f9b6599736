import type { LogRecord } from '../core/dmesg.js';
import { formatLog, kernelLog } from '../helpers/printk.js';
import { bootEpochSeconds } from '../helpers/system.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { crashDate } from './lib/localtime.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

/**
 * Levels of lockless-ringbuffer records (VMCOREINFO does not give printk_info.level): from each record's
 * printk_info in the descriptor ring, found by sequence number.
 */
function addLevels(prog: Program, records: LogRecord[]): void {
  if (!prog.hasVariable('prb')) return;
  const ring = prog.variable('prb').deref().member('desc_ring');
  const count = 1n << ring.member('count_bits').value();
  const infos = ring.member('infos');
  for (const r of records) {
    if (r.seq === undefined) continue;
    const info = infos.index(r.seq % count);
    if (info.member('seq').value() !== r.seq) continue;
    r.level = info.member('level').num();
  }
}

/** One record of the kernel log. */
export interface LogRecordResult {
  /** The record's sequence number (structured and lockless logs). */
  seq?: number;
  /** The timestamp in ns since boot, and as the log prints it ("12.345678" seconds). */
  tsNsec: Hex;
  time: string;
  /** The wall-clock date crash's log -T prints (in the local zone). */
  date?: string;
  /** Syslog level and facility, when the log records them (or -m read them). */
  level?: number;
  facility?: number;
  /** The PRINTK_CALLER id: "T<pid>" or "C<cpu>". */
  caller?: string;
  /** The message, bytes as one character each; continuation lines separated by "\n". */
  text: string;
}

/** log: the kernel's log records (or the raw buffer of pre-3.5 kernels), and the options of the text view. */
export interface LogResult {
  records: LogRecordResult[];
  /** The character buffer of a kernel before structured records (3.5), as it is. */
  plain?: string;
  options: { timestamps: 'monotonic' | 'wall' | 'none'; level: boolean; caller: boolean };
}

export const log: Command<LogResult> = {
  resultType: 'LogResult',
  name: 'log',
  usesTypes: false,
  summary: 'the kernel message buffer',
  help: `NAME
  log - dump system message buffer

SYNOPSIS
  log [-t | -T] [-m] [-c]

DESCRIPTION
  Shows the kernel log of the dump, oldest record first, as crash and
  makedumpfile --dump-dmesg print it: "[seconds.micros] text", with
  continuation lines indented under the text.

    -t  leave out the timestamps.
    -T  wall-clock timestamps ("[Sun Nov 22 13:02:00 UTC 2026]"), from the
        kernel's timekeeper (needs the vmlinux).
    -m  each message's log level, "<N>", after the timestamp.
    -c  each message's caller (thread "T<pid>" or CPU "C<n>"), when the
        kernel records it (CONFIG_PRINTK_CALLER).
`,
  async run(ctx, args): Promise<LogResult> {
    const prog = ctx.program;
    let noTime = false;
    let wall = false;
    let level = false;
    let caller = false;
    for (const a of args) {
      if (/^-[tTmc]+$/.test(a)) {
        for (const ch of a.slice(1)) {
          if (ch === 't') noTime = true;
          else if (ch === 'T') wall = true;
          else if (ch === 'm') level = true;
          else if (ch === 'c') caller = true;
        }
      } else throw new CommandError(`unknown option ${a} (usage: log [-t | -T] [-m] [-c])`);
    }
    let boot: bigint | undefined;
    if (wall && !noTime) {
      await prog.requireTypes('log -T');
      boot = bootEpochSeconds(prog);
      if (boot === undefined) throw new CommandError('-T: the kernel has no timekeeper (tk_core) to date the log by');
    }
    const log = kernelLog(prog);
    const options: LogResult['options'] = {
      timestamps: noTime ? 'none' : boot !== undefined ? 'wall' : 'monotonic',
      level,
      caller,
    };
    if (log.kind === 'plain') return { records: [], plain: Buffer.from(log.bytes).toString('latin1'), options };
    if (level && log.records.some((r) => r.level === undefined)) {
      await prog.requireTypes('log -m');
      addLevels(prog, log.records);
    }
    const records = log.records.map((r): LogRecordResult => {
      const cid = r.callerId === undefined ? undefined : r.callerId >>> 0;
      return {
        seq: r.seq === undefined ? undefined : Number(r.seq),
        tsNsec: r.tsNsec,
        time: `${r.tsNsec / 1_000_000_000n}.${((r.tsNsec % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}`,
        date: boot === undefined ? undefined : crashDate(Number(boot + r.tsNsec / 1_000_000_000n)),
        level: r.level,
        facility: r.facility,
        caller: cid === undefined ? undefined : `${cid & 0x80000000 ? 'C' : 'T'}${(cid & 0x7fffffff) >>> 0}`,
        text: Buffer.from(r.text).toString('latin1'),
      };
    });
    return { records, options };
  },
  text(r, ctx) {
    if (r.plain !== undefined) {
      ctx.out(r.plain);
      return;
    }
    const o = r.options;
    const records = r.records.map((x, i): LogRecord & { i: number } => ({
      i,
      tsNsec: x.tsNsec,
      level: x.level,
      callerId: x.caller === undefined ? undefined : (x.caller[0] === 'C' ? 0x80000000 : 0) + Number(x.caller.slice(1)),
      text: Buffer.from(x.text, 'latin1'),
    }));
    const text = formatLog(
      { kind: 'records', records },
      {
        noTimestamp: o.timestamps === 'none',
        timestamp: o.timestamps === 'wall' ? (x) => r.records[(x as LogRecord & { i: number }).i]!.date! : undefined,
        level: o.level,
        callerId: o.caller,
      },
    );
    ctx.out(Buffer.from(text).toString('latin1'));
  },
};
