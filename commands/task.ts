import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import { decl, renderValue, valueTree } from './lib/c-format.js';
import { currentTask, resolveTasks, type TaskRef, taskHeader, taskRef } from './lib/context.js';
import type { Value } from './lib/value.js';
import type { Command } from './registry.js';

/** One task: the members asked for (-R), or its whole task_struct and thread_info. */
export interface TaskEntry {
  task: TaskRef;
  members?: { path: string; type: string; value: Value }[];
  taskStruct?: Value;
  threadInfo?: Value;
}

/** task: each task's task_struct contents as value trees. */
export interface TaskResult {
  /** The integer radix of the text view (-x, -d). */
  radix: 10 | 16;
  tasks: TaskEntry[];
}

export const task: Command<TaskResult> = {
  resultType: 'TaskResult',
  name: 'task',
  summary: 'task_struct contents',
  help: `NAME
  task - task_struct and thread_info contents

SYNOPSIS
  task [-R member[,member]] [-x|-d] [pid | taskp] ...

DESCRIPTION
  Shows the task_struct of the current context's task (or of the tasks
  named), as crash does; with -R, only the members listed.

    -R members  comma-separated task_struct members (paths such as se.load)
    -x / -d     integers in hexadecimal / decimal

EXAMPLES
  task
  task -R pid,comm,se.vruntime 1
`,
  run(ctx, args): TaskResult {
    const prog = ctx.program;
    let members: string[] | undefined;
    let radix: 10 | 16 = 10;
    const sel: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-R') {
        const list = args[++i];
        if (!list) throw new CommandError('task -R needs member names');
        members = [...(members ?? []), ...list.split(',').filter(Boolean)];
      } else if (a === '-x') radix = 16;
      else if (a === '-d') radix = 10;
      else if (a.startsWith('-')) throw new CommandError(`unsupported option ${a}`);
      else sel.push(a);
    }
    const tasks: Obj[] = sel.length ? sel.flatMap((s) => resolveTasks(prog, s)) : [currentTask(prog)];
    return {
      radix,
      tasks: tasks.map((t): TaskEntry => {
        const e: TaskEntry = { task: taskRef(t) };
        if (members) {
          e.members = members.map((m) => {
            const o = t.member(m);
            return { path: m, type: decl(o.type, ''), value: valueTree(o) };
          });
          return e;
        }
        e.taskStruct = valueTree(t);
        // The thread_info: inside the task (THREAD_INFO_IN_TASK) or at the bottom of its stack.
        const ti = t.hasMember('thread_info')
          ? t.member('thread_info')
          : prog.object('struct thread_info', t.member('stack').value(), 'thread_info');
        e.threadInfo = valueTree(ti);
        return e;
      }),
    };
  },
  text(r, ctx) {
    const opts = { radix: r.radix };
    let out = '';
    for (const e of r.tasks) {
      out += `${taskHeader(e.task)}\n`;
      if (e.members) {
        for (const m of e.members) out += `  ${m.path} = ${renderValue(m.value, opts, 1)},\n`;
        out += '\n';
      } else {
        out += `struct task_struct ${renderValue(e.taskStruct!, opts)}\n\n`;
        out += `struct thread_info ${renderValue(e.threadInfo!, opts)}\n\n`;
      }
    }
    ctx.out(out);
  },
};
