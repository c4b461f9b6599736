import { activeTasks, cpuCurr, panicTask, taskStateChar } from '../helpers/tasks.js';
import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { currentTask, resolveTasks, setCurrentTask, type TaskRef, taskRef } from './lib/context.js';
import { inputState } from './lib/input.js';
import { isMinimalMode } from './mode.js';
import type { Command } from './registry.js';
import { type Hex, outputFormat, setOutputFormat } from './result.js';

const STATE_NAMES: Record<string, string> = {
  R: 'TASK_RUNNING',
  S: 'TASK_INTERRUPTIBLE',
  D: 'TASK_UNINTERRUPTIBLE',
  T: '__TASK_STOPPED',
  t: '__TASK_TRACED',
  X: 'EXIT_DEAD',
  Z: 'EXIT_ZOMBIE',
  P: 'TASK_PARKED',
  I: 'TASK_IDLE',
};

/** A task's context as crash's set shows it. */
export interface TaskContext extends TaskRef {
  /** With THREAD_INFO_IN_TASK, the task itself; else task_struct.stack. */
  threadInfo: Hex;
  state: string;
  /** Whether the task panicked, or was running on a CPU at the crash. */
  mark?: 'PANIC' | 'ACTIVE';
}

export function taskContext(prog: Program, task: Obj): TaskContext {
  const a = task.address as bigint;
  const panic = panicTask(prog);
  return {
    ...taskRef(task),
    // With THREAD_INFO_IN_TASK the thread_info is the task's first member, so crash shows the task address.
    threadInfo: task.hasMember('thread_info') ? a : task.member('stack').value(),
    state: STATE_NAMES[taskStateChar(task)] ?? 'unknown',
    mark: panic?.address === a ? 'PANIC' : activeTasks(prog).has(a) ? 'ACTIVE' : undefined,
  };
}

/** crash's context display: PID, COMMAND, TASK, CPU, STATE (with ACTIVE or PANIC). */
export function contextText(c: TaskContext): string {
  return (
    `    PID: ${c.pid}\n` +
    `COMMAND: "${c.comm}"\n` +
    `   TASK: ${c.task.toString(16)}  [THREAD_INFO: ${c.threadInfo.toString(16)}]\n` +
    `    CPU: ${c.cpu}\n` +
    `  STATE: ${c.state}${c.mark ? ` (${c.mark})` : ''}\n`
  );
}

/** set: the current context, or the session's output form (set output). */
export type SetResult =
  | { context: TaskContext }
  | { output: 'json' | 'text'; changed: boolean }
  | { radix: 10 | 16 }
  | { scroll: boolean };

export const set: Command<SetResult> = {
  resultType: 'SetResult',
  name: 'set',
  summary: 'set or show the current context (task)',
  help: `NAME
  set - set a process context

SYNOPSIS
  set [pid | taskp | -c cpu | -p]
  set output [json | text]
  set radix [10 | 16]
  set scroll [on | off]

DESCRIPTION
  Without an argument, shows the current context: the task that commands such
  as bt, task and vm use when no task is named. At start-up it is the task that
  panicked.

      pid    a process PID
      taskp  a hexadecimal task_struct address
   -c cpu    the task running on that CPU at the crash
      -p     the panic task

  In a minimal session (--minimal) there is no task list: set alone shows
  the output form, and only set output changes anything.

  set radix 16 (alias hex) makes p, struct, union and * show integers in
  hexadecimal when no -x or -d is given; set radix 10 (alias dec) returns to
  decimal, crash's default. set scroll off (alias sf) sends long output of the
  line mode straight to the terminal instead of through the pager; set scroll
  on (sn) returns to the pager.

  set output json makes every command print its result as one JSON document
  per command line ({"command", "ok", "result" or "error"}; addresses and
  64-bit values as "0x..." strings); set output text returns to crash's text.
`,
  run(ctx, args): SetResult {
    const prog = ctx.program;
    if (args[0] === 'output') {
      const f = args[1];
      if (args.length === 1) return { output: outputFormat(prog), changed: false };
      if ((f !== 'json' && f !== 'text') || args.length > 2) throw new CommandError('set output takes json or text');
      setOutputFormat(prog, f);
      return { output: f, changed: true };
    }
    if (args[0] === 'radix') {
      const state = inputState(prog);
      if (args.length > 2 || (args[1] !== undefined && args[1] !== '10' && args[1] !== '16'))
        throw new CommandError('set radix takes 10 or 16');
      if (args[1] !== undefined) state.radix = args[1] === '16' ? 16 : 10;
      return { radix: state.radix };
    }
    if (args[0] === 'scroll') {
      const state = inputState(prog);
      if (args.length > 2 || (args[1] !== undefined && args[1] !== 'on' && args[1] !== 'off'))
        throw new CommandError('set scroll takes on or off');
      if (args[1] !== undefined) state.scroll = args[1] === 'on';
      return { scroll: state.scroll };
    }
    // A minimal session has no task list: set shows the session's settings, and contexts cannot be set (crash's way).
    if (isMinimalMode(prog)) {
      if (args.length === 0) return { output: outputFormat(prog), changed: false };
      throw new CommandError('invalid argument in minimal mode');
    }
    let task: Obj | undefined;
    if (args.length === 0) task = currentTask(prog);
    else if (args[0] === '-p') {
      task = panicTask(prog);
      if (!task) throw new CommandError('the dump does not say which task panicked');
    } else if (args[0] === '-c') {
      const cpu = Number(args[1]);
      if (!Number.isInteger(cpu) || cpu < 0) throw new CommandError('set -c needs a CPU number');
      task = cpuCurr(prog, cpu);
    } else {
      const hits = resolveTasks(prog, args[0]!);
      if (hits.length > 1)
        throw new CommandError(`PID ${args[0]} has ${hits.length} tasks (idle tasks): give the task address`);
      task = hits[0]!;
    }
    setCurrentTask(prog, task);
    return { context: taskContext(prog, task) };
  },
  text(r, ctx) {
    if ('context' in r) ctx.out(contextText(r.context));
    else if ('radix' in r) ctx.out(`output radix: ${r.radix} (${r.radix === 16 ? 'hex' : 'decimal'})\n`);
    else if ('scroll' in r) ctx.out(`scroll: ${r.scroll ? 'on' : 'off'}\n`);
    else if (!r.changed) ctx.out(`output: ${r.output}\n`);
  },
};
