import { formatLog, kernelLog } from '../helpers/printk.js';
import { CommandError } from '../program/index.js';
import type { Command } from './registry.js';

export const log: Command = {
  name: 'log',
  usesTypes: false,
  summary: 'the kernel message buffer',
  help: `NAME
  log - dump system message buffer

SYNOPSIS
  log [-t]

DESCRIPTION
  Shows the kernel log of the dump, oldest record first, as crash and
  makedumpfile --dump-dmesg print it: "[seconds.micros] text", with
  continuation lines indented under the text.

    -t  leave out the timestamps.
`,
  run(ctx, args) {
    let noTime = false;
    for (const a of args) {
      if (a === '-t') noTime = true;
      else if (a === '-T' || a === '-m' || a === '-a' || a === '-d' || a === '-s' || a === '-c') {
        ctx.program.requireDebugInfo(`log ${a}`);
      } else throw new CommandError(`unknown option ${a} (usage: log [-t])`);
    }
    ctx.out(Buffer.from(formatLog(kernelLog(ctx.program), { noTimestamp: noTime })).toString('latin1'));
  },
};
