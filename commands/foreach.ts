import { allTasks, isKernelThread, taskComm, taskPid, taskStateLetter } from '../helpers/tasks.js';
import { CommandError, InterruptedError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { BtResult } from './bt.js';
import { type TaskRef, taskHeader, taskRef } from './lib/context.js';
import { type PsResult, psRows } from './ps.js';
import { type Command, type CommandContext, hasCommand, isPerTask, loadedCommand, resolveCommand } from './registry.js';
import type { SetResult } from './set.js';
import type { TaskResult } from './task.js';

/** One task's run of the command: its result, or its error. */
export interface ForeachRun {
  task: TaskRef;
  result?: BtResult | TaskResult | SetResult;
  /** Text the command wrote as it ran (before its result). */
  text?: string;
  error?: string;
}

/**
 * foreach: the command run for each selected task (by PID); ps: one table of the selected tasks. In a text session
 * the runs are printed as they are made (nothing is returned for them).
 */
export interface ForeachResult {
  command: string;
  runs: ForeachRun[];
  table?: PsResult;
  /** Text ps wrote as it ran (before its table). */
  text?: string;
}

/** Run a command, keeping what it writes (`into.text`) apart from what it returns (`into.result`). */
async function runOne(cmd: Command, ctx: CommandContext, args: string[], into: { result?: unknown; text?: string }) {
  let text = '';
  try {
    const result = await cmd.run({ ...ctx, out: (s) => (text += s) }, args);
    if (cmd.text) into.result = result;
  } finally {
    if (text) into.text = text;
  }
}

const STATES = new Set(['RU', 'IN', 'UN', 'ST', 'TR', 'ZO', 'DE', 'PA', 'ID', 'WA', 'NE']);
/** Commands foreach runs with a task argument appended. */
const PER_TASK = new Set(['bt', 'task', 'set']);

export const foreach: Command<ForeachResult> = {
  resultType: 'ForeachResult',
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
  async run(ctx, args): Promise<ForeachResult | undefined> {
    const prog = ctx.program;
    const sel: string[] = [];
    let kernel = false;
    let user = false;
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-k') kernel = true;
      else if (a === '-u') user = true;
      else if (hasCommand(a) && (PER_TASK.has(a) || a === 'ps' || isPerTask(a))) break;
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
      if (rows.length === 0) return { command: cmdName, runs: [] };
      const r: { result?: unknown; text?: string } = {};
      await runOne(ps, ctx, rest.concat(rows.map((r) => (r.task.address as bigint).toString(16))), r);
      return { command: cmdName, runs: [], table: r.result as PsResult, text: r.text };
    }
    const cmd = await resolveCommand(cmdName);
    if (!cmd) throw new CommandError(`${cmdName}: no such command`);
    const tasks = allTasks(prog)
      .filter(match)
      .sort((a, b) => taskPid(a) - taskPid(b));
    // A text session gets each task's output as soon as it is made (a long foreach streams); JSON, the result.
    const stream = ctx.format === 'text';
    const runs: ForeachRun[] = [];
    let n = 0;
    for (const t of tasks) {
      const run: ForeachRun = { task: taskRef(t) };
      try {
        await runOne(cmd, ctx, [...rest, `0x${(t.address as bigint).toString(16)}`], run);
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        run.error = (e as Error).message;
      }
      if (stream) runText(cmd, run, n++ === 0, ctx);
      else runs.push(run);
    }
    if (stream) return undefined;
    return { command: cmd.name, runs };
  },
  text(r, ctx) {
    const cmd = loadedCommand(r.command);
    if (r.text) ctx.out(r.text);
    if (r.table) cmd?.text?.(r.table, ctx);
    r.runs.forEach((run, i) => {
      if (cmd) runText(cmd, run, i === 0, ctx);
    });
  },
};

/** One task's run as crash shows it: a blank line between tasks; a failure under the task's header. */
function runText(cmd: Command, run: ForeachRun, first: boolean, ctx: CommandContext): void {
  if (!first) ctx.out('\n');
  if (run.text) ctx.out(run.text);
  if (run.error !== undefined) ctx.out(`${taskHeader(run.task)}\n${cmd.name}: ${run.error}\n`);
  else if (run.result !== undefined) cmd.text?.(run.result, ctx);
}
