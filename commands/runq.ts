import { listForEach, rbInorder } from '../helpers/lists.js';
import { onlineCpus } from '../helpers/percpu.js';
import { cpuRq, taskComm, taskPid } from '../helpers/tasks.js';
import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import type { Command } from './registry.js';

const hx = (v: bigint): string => v.toString(16);

function taskLine(t: Obj): string {
  return `PID: ${String(taskPid(t)).padEnd(6)} TASK: ${hx(t.address as bigint)}  COMMAND: "${taskComm(t)}"`;
}

function rtQueued(prog: Program, rq: Obj, indent: string): string {
  const rt = rq.member('rt');
  const active = rt.member('active');
  let out = '';
  const queue = active.member('queue');
  const n = queue.type.kind === 'array' ? (queue.type.counts[0] ?? 0) : 0;
  const rtOff = BigInt(prog.offsetOf('struct task_struct', 'rt.run_list'));
  for (let prio = 0; prio < n; prio++) {
    const head = queue.index(prio);
    for (const node of listForEach(head)) {
      const t = prog.object('struct task_struct', node - rtOff, 'task');
      out += `${indent}[${String(prio).padStart(3)}] ${taskLine(t)}\n`;
    }
  }
  return out;
}

function cfsQueued(prog: Program, cfsRq: Obj, indent: string, depth: number): string {
  let out = '';
  const seOff = BigInt(prog.offsetOf('struct sched_entity', 'run_node'));
  const grouped = prog.hasMember('struct sched_entity', 'my_q');
  for (const node of rbInorder(cfsRq.member('tasks_timeline'))) {
    const se = prog.object('struct sched_entity', node - seOff, 'sched_entity');
    const myQ = grouped ? se.member('my_q') : undefined;
    if (myQ && !myQ.isNull() && depth < 16) {
      const q = myQ.deref();
      out += `${indent}[${'   '}] GROUP CFS RB_ROOT: ${hx(q.member('tasks_timeline').address as bigint)}\n`;
      const sub = cfsQueued(prog, q, `${indent}   `, depth + 1);
      out += sub || `${indent}   [no tasks queued]\n`;
      continue;
    }
    const t = se.containerOf('struct task_struct', 'se');
    out += `${indent}[${String(t.member('prio').num()).padStart(3)}] ${taskLine(t)}\n`;
  }
  return out;
}

export const runq: Command = {
  name: 'runq',
  summary: 'display the tasks on each CPU run queue',
  help: `NAME
  runq - run queue

SYNOPSIS
  runq [-c cpu[,cpu...]]

DESCRIPTION
  For each online CPU: its runqueue address, the task running on it, and the
  tasks waiting in its real-time priority array and in its CFS red-black tree
  (with their priority), in crash's layout. Task groups are shown nested.

    -c cpus  only these CPUs (comma-separated)
`,
  run(ctx, args) {
    const prog = ctx.program;
    let cpus = onlineCpus(prog);
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-c') {
        const list = args[++i];
        if (!list) throw new CommandError('runq -c needs CPU numbers');
        const want = list.split(',').map(Number);
        cpus = cpus.filter((c) => want.includes(c));
      } else throw new CommandError(`runq: unsupported argument ${args[i]}`);
    }
    const blocks: string[] = [];
    for (const cpu of cpus) {
      const rq = cpuRq(prog, cpu);
      let s = `CPU ${cpu} RUNQUEUE: ${hx(rq.address as bigint)}\n`;
      const curr = rq.member('curr').deref();
      s += `  CURRENT: ${taskLine(curr)}\n`;
      s += `  RT PRIO_ARRAY: ${hx(rq.member('rt.active').address as bigint)}\n`;
      s += rtQueued(prog, rq, '     ') || '     [no tasks queued]\n';
      s += `  CFS RB_ROOT: ${hx(rq.member('cfs.tasks_timeline').address as bigint)}\n`;
      s += cfsQueued(prog, rq.member('cfs'), '     ', 0) || '     [no tasks queued]\n';
      blocks.push(s);
    }
    ctx.out(blocks.join('\n'));
  },
};
