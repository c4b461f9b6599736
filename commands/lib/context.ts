/**
 * The session's current context (crash's `set`): a task, by default the one
 * that panicked; and the task arguments commands share (PID or task address).
 */

import { allTasks, panicTask, taskAt, taskComm, taskCpu, taskPid } from '../../helpers/tasks.js';
import { CommandError } from '../../program/index.js';
import { Obj } from '../../program/object.js';
import type { Program } from '../../program/program.js';
import type { Hex } from '../result.js';

const current = new WeakMap<Program, bigint>();

/** The current context's task: set by `set`, else the panic task, else CPU 0's. */
export function currentTask(prog: Program): Obj {
  const a = current.get(prog);
  if (a !== undefined) return taskAt(prog, a);
  const t = panicTask(prog) ?? allTasks(prog)[0];
  if (!t) throw new CommandError('no task found for the current context');
  current.set(prog, t.address as bigint);
  return t;
}

export function setCurrentTask(prog: Program, task: Obj): void {
  current.set(prog, task.address as bigint);
}

/** A task as results name it: what crash's task header shows. */
export interface TaskRef {
  pid: number;
  /** The task_struct's address. */
  task: Hex;
  cpu: number;
  comm: string;
}

export function taskRef(task: Obj): TaskRef {
  return { pid: taskPid(task), task: task.address as bigint, cpu: taskCpu(task), comm: taskComm(task) };
}

/** crash's task header: `PID: 1        TASK: ffff8f52011fe000  CPU: 0    COMMAND: "init"`. */
export function taskHeader(task: Obj | TaskRef): string {
  const r = task instanceof Obj ? taskRef(task) : task;
  return `PID: ${String(r.pid).padEnd(7)}  TASK: ${r.task.toString(16)}  CPU: ${String(r.cpu).padEnd(3)}  COMMAND: "${r.comm}"`;
}

/**
 * Resolve a task argument as crash does: a decimal number is a PID, a hexadecimal number (or one with 0x)
 * a task_struct address. Every thread with the PID is returned (idle tasks share PID 0).
 */
export function resolveTasks(prog: Program, arg: string): Obj[] {
  const tasks = allTasks(prog);
  if (/^\d+$/.test(arg)) {
    const pid = Number(arg);
    const hits = tasks.filter((t) => taskPid(t) === pid);
    if (hits.length) return hits;
    // crash tries a number that is not a PID as a task address.
  }
  if (/^(0x)?[0-9a-f]+$/i.test(arg)) {
    const a = BigInt(arg.startsWith('0x') || arg.startsWith('0X') ? arg : `0x${arg}`);
    const hit = tasks.find((t) => t.address === a);
    if (hit) return [hit];
    throw new CommandError(`invalid task or pid value: ${arg}`);
  }
  const byName = tasks.filter((t) => taskComm(t) === arg);
  if (byName.length) return byName;
  throw new CommandError(`invalid task or pid value: ${arg}`);
}
