import { allTasks, isKernelThread, taskComm, taskPid, taskStateLetter } from '../helpers/tasks.js';
import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import { taskHeader } from './lib/context.js';
import { psRows } from './ps.js';
import { type Command, hasCommand, resolveCommand, runForText } from './registry.js';

const STATES = new Set(['RU', 'IN', 'UN', 'ST', 'TR', 'ZO', 'DE', 'PA', 'ID', 'WA', 'NE']);
/** Commands foreach runs with a task argument appended. */
const PER_TASK = new Set(['bt', 'task', 'set']);

export const foreach: Command = {
  name: 'foreach',
  summary: 'run a command for each selected task',
  help: `NAME
  foreach - display command data for multiple tasks

SYNOPSIS
  foreach [pid | taskp | name | state]... [-k | -u] command [flags]

DESCRIPTION
  Runs command for every task, or for the selected ones: PIDs, task_struct
  addresses, command names, or states (RU IN UN ST TR ZO DE PA ID).
  Commands: bt, task, set (one run per task, the task appended), and ps
  (one table of the selected tasks).

    -k  kernel threads only
    -u  user tasks only

EXAMPLES
  foreach bt
  foreach UN bt
  foreach bash task -R comm
  foreach RU ps
`,
  async run(ctx, args) {
    const prog = ctx.program;
    const sel: string[] = [];
    let kernel = false;
    let user = false;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-k') kernel = true;
      else if (a === '-u') user = true;
      else if (hasCommand(a) && (PER_TASK.has(a) || a === 'ps')) break;
      else sel.push(a);
    }
    const cmdName = args[i];
    if (!cmdName) throw new CommandError(`foreach needs a command: ${[...PER_TASK, 'ps'].join(', ')}`);
    const rest = args.slice(i + 1);
    const match = (t: Obj): boolean => {
      if (kernel && !isKernelThread(t)) return false;
      if (user && isKernelThread(t)) return false;
      if (sel.length === 0) return true;
      return sel.some((s) => {
        if (STATES.has(s)) return taskStateLetter(t) === s;
        if (/^\d+$/.test(s)) return taskPid(t) === Number(s);
        if (/^(0x)?[0-9a-fA-F]{8,}$/.test(s)) return t.address === BigInt(s.startsWith('0x') ? s : `0x${s}`);
        return taskComm(t) === s;
      });
    };
    if (cmdName === 'ps') {
      const rows = psRows(prog).filter((r) => match(r.task));
      const ps = (await resolveCommand('ps'))!;
      if (rows.length === 0) return;
      await runForText(ps, ctx, rest.concat(rows.map((r) => (r.task.address as bigint).toString(16))));
      return;
    }
    const cmd = await resolveCommand(cmdName);
    if (!cmd) throw new CommandError(`foreach: ${cmdName}: no such command`);
    const tasks = allTasks(prog)
      .filter(match)
      .sort((a, b) => taskPid(a) - taskPid(b));
    let first = true;
    for (const t of tasks) {
      if (!first) ctx.out('\n');
      first = false;
      try {
        await runForText(cmd, ctx, [...rest, `0x${(t.address as bigint).toString(16)}`]);
      } catch (e) {
        ctx.out(`${taskHeader(t)}\n${cmdName}: ${(e as Error).message}\n`);
      }
    }
  },
};
