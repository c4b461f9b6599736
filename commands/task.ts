import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import { valueText } from './lib/c-format.js';
import { currentTask, resolveTasks, taskHeader } from './lib/context.js';
import type { Command } from './registry.js';

export const task: Command = {
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
  run(ctx, args) {
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
      else if (a.startsWith('-')) throw new CommandError(`task: unsupported option ${a}`);
      else sel.push(a);
    }
    const tasks: Obj[] = sel.length ? sel.flatMap((s) => resolveTasks(prog, s)) : [currentTask(prog)];
    const blocks: string[] = [];
    for (const t of tasks) {
      let s = `${taskHeader(t)}\n`;
      if (members) {
        for (const m of members) s += `  ${m} = ${valueText(t.member(m), { radix }, 1)},\n`;
        s += '\n';
      } else {
        s += `struct task_struct ${valueText(t, { radix })}\n\n`;
        // The thread_info: inside the task (THREAD_INFO_IN_TASK) or at the bottom of its stack.
        const ti = t.hasMember('thread_info')
          ? t.member('thread_info')
          : prog.object('struct thread_info', t.member('stack').value(), 'thread_info');
        s += `struct thread_info ${valueText(ti, { radix })}\n\n`;
      }
      blocks.push(s);
    }
    ctx.out(blocks.join(''));
  },
};
