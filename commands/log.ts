import type { LogRecord } from '../core/dmesg.js';
import { formatLog, kernelLog } from '../helpers/printk.js';
import { bootEpochSeconds } from '../helpers/system.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { crashDate } from './lib/localtime.js';
import type { Command } from './registry.js';

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

export const log: Command = {
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
  async run(ctx, args) {
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
    let timestamp: ((r: LogRecord) => string) | undefined;
    if (wall && !noTime) {
      if (!prog.vmlinux) prog.requireDebugInfo('log -T');
      await prog.loadDebugInfo();
      const boot = bootEpochSeconds(prog);
      if (boot === undefined)
        throw new CommandError('log -T: the kernel has no timekeeper (tk_core) to date the log by');
      timestamp = (r) => crashDate(Number(boot + r.tsNsec / 1_000_000_000n));
    }
    const log = kernelLog(prog);
    if (level && log.kind !== 'plain' && log.records.some((r) => r.level === undefined)) {
      if (!prog.vmlinux) prog.requireDebugInfo('log -m');
      await prog.loadDebugInfo();
      addLevels(prog, log.records);
    }
    const text = formatLog(log, { noTimestamp: noTime, timestamp, level, callerId: caller });
    ctx.out(Buffer.from(text).toString('latin1'));
  },
};
