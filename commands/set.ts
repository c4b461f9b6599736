import { activeTasks, cpuCurr, panicTask, taskComm, taskCpu, taskPid, taskStateChar } from '../helpers/tasks.js';
import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { currentTask, resolveTasks, setCurrentTask } from './lib/context.js';
import type { Command } from './registry.js';
import { outputFormat, setOutputFormat } from './result.js';

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

/** crash's context display: PID, COMMAND, TASK, CPU, STATE (with ACTIVE or PANIC). */
export function contextText(prog: Program, task: Obj): string {
  const a = task.address as bigint;
  const panic = panicTask(prog);
  const mark = panic?.address === a ? ' (PANIC)' : activeTasks(prog).has(a) ? ' (ACTIVE)' : '';
  // With THREAD_INFO_IN_TASK the thread_info is the task's first member, so crash shows the task address.
  const ti = task.hasMember('thread_info') ? a : task.member('stack').value();
  return (
    `    PID: ${taskPid(task)}\n` +
    `COMMAND: "${taskComm(task)}"\n` +
    `   TASK: ${a.toString(16)}  [THREAD_INFO: ${ti.toString(16)}]\n` +
    `    CPU: ${taskCpu(task)}\n` +
    `  STATE: ${STATE_NAMES[taskStateChar(task)] ?? 'unknown'}${mark}\n`
  );
}

export const set: Command = {
  name: 'set',
  summary: 'set or show the current context (task)',
  help: `NAME
  set - set a process context

SYNOPSIS
  set [pid | taskp | -c cpu | -p]
  set output [json | text]

DESCRIPTION
  Without an argument, shows the current context: the task that commands such
  as bt, task and vm use when no task is named. At start-up it is the task that
  panicked.

      pid    a process PID
      taskp  a hexadecimal task_struct address
   -c cpu    the task running on that CPU at the crash
      -p     the panic task

  set output json makes every command print its result as one JSON document
  per command line ({"command", "ok", "result" or "error"}; addresses and
  64-bit values as "0x..." strings); set output text returns to crash's text.
`,
  run(ctx, args) {
    const prog = ctx.program;
    if (args[0] === 'output') {
      const f = args[1];
      if (args.length === 1) {
        ctx.out(`output: ${outputFormat(prog)}\n`);
        return;
      }
      if ((f !== 'json' && f !== 'text') || args.length > 2) throw new CommandError('set output takes json or text');
      setOutputFormat(prog, f);
      return;
    }
    let task: Obj | undefined;
    if (args.length === 0) task = currentTask(prog);
    else if (args[0] === '-p') {
      task = panicTask(prog);
      if (!task) throw new CommandError('set: the dump does not say which task panicked');
    } else if (args[0] === '-c') {
      const cpu = Number(args[1]);
      if (!Number.isInteger(cpu) || cpu < 0) throw new CommandError('set -c needs a CPU number');
      task = cpuCurr(prog, cpu);
    } else {
      const hits = resolveTasks(prog, args[0]!);
      if (hits.length > 1)
        throw new CommandError(`set: PID ${args[0]} has ${hits.length} tasks (idle tasks): give the task address`);
      task = hits[0]!;
    }
    setCurrentTask(prog, task);
    ctx.out(contextText(prog, task));
  },
};
