import { listForEach, rbInorder } from '../helpers/lists.js';
import { onlineCpus } from '../helpers/percpu.js';
import { cpuRq, taskComm, taskPid } from '../helpers/tasks.js';
import { CommandError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

const hx = (v: bigint): string => v.toString(16);

/** A queued task and its priority. */
export interface QueuedTask {
  prio: number;
  pid: number;
  task: Hex;
  comm: string;
}

/** A CFS queue: its tasks and nested task groups, in the red-black tree's order. */
export interface CfsQueue {
  root: Hex;
  entries: ({ task: QueuedTask } | { group: CfsQueue })[];
}

/** runq: each CPU's runqueue: the running task, the real-time queue by priority, the CFS tree. */
export interface RunqResult {
  cpus: {
    cpu: number;
    runqueue: Hex;
    current: { pid: number; task: Hex; comm: string };
    rt: { array: Hex; tasks: QueuedTask[] };
    cfs: CfsQueue;
  }[];
}

function queued(t: Obj, prio: number): QueuedTask {
  return { prio, pid: taskPid(t), task: t.address as bigint, comm: taskComm(t) };
}

function rtQueued(prog: Program, rq: Obj): QueuedTask[] {
  const queue = rq.member('rt').member('active').member('queue');
  const n = queue.type.kind === 'array' ? (queue.type.counts[0] ?? 0) : 0;
  const rtOff = BigInt(prog.offsetOf('struct task_struct', 'rt.run_list'));
  const out: QueuedTask[] = [];
  for (let prio = 0; prio < n; prio++) {
    for (const node of listForEach(queue.index(prio))) {
      out.push(queued(prog.object('struct task_struct', node - rtOff, 'task'), prio));
    }
  }
  return out;
}

function cfsQueued(prog: Program, cfsRq: Obj, depth: number): CfsQueue {
  const seOff = BigInt(prog.offsetOf('struct sched_entity', 'run_node'));
  const grouped = prog.hasMember('struct sched_entity', 'my_q');
  const entries: CfsQueue['entries'] = [];
  for (const node of rbInorder(cfsRq.member('tasks_timeline'))) {
    const se = prog.object('struct sched_entity', node - seOff, 'sched_entity');
    const myQ = grouped ? se.member('my_q') : undefined;
    if (myQ && !myQ.isNull() && depth < 16) {
      entries.push({ group: cfsQueued(prog, myQ.deref(), depth + 1) });
      continue;
    }
    const t = se.containerOf('struct task_struct', 'se');
    entries.push({ task: queued(t, t.member('prio').num()) });
  }
  return { root: cfsRq.member('tasks_timeline').address as bigint, entries };
}

function taskLine(t: { pid: number; task: bigint; comm: string }): string {
  return `PID: ${String(t.pid).padEnd(6)} TASK: ${hx(t.task)}  COMMAND: "${t.comm}"`;
}

function cfsText(q: CfsQueue, indent: string): string {
  let out = '';
  for (const e of q.entries) {
    if ('group' in e) {
      out += `${indent}[${'   '}] GROUP CFS RB_ROOT: ${hx(e.group.root)}\n`;
      out += cfsText(e.group, `${indent}   `) || `${indent}   [no tasks queued]\n`;
    } else out += `${indent}[${String(e.task.prio).padStart(3)}] ${taskLine(e.task)}\n`;
  }
  return out;
}

export const runq: Command<RunqResult> = {
  resultType: 'RunqResult',
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
  run(ctx, args): RunqResult {
    const prog = ctx.program;
    let cpus = onlineCpus(prog);
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '-c') {
        const list = args[++i];
        if (!list) throw new CommandError('runq -c needs CPU numbers');
        const want = list.split(',').map(Number);
        cpus = cpus.filter((c) => want.includes(c));
      } else throw new CommandError(`unsupported argument ${args[i]}`);
    }
    return {
      cpus: cpus.map((cpu) => {
        const rq = cpuRq(prog, cpu);
        const curr = rq.member('curr').deref();
        return {
          cpu,
          runqueue: rq.address as bigint,
          current: { pid: taskPid(curr), task: curr.address as bigint, comm: taskComm(curr) },
          rt: { array: rq.member('rt.active').address as bigint, tasks: rtQueued(prog, rq) },
          cfs: cfsQueued(prog, rq.member('cfs'), 0),
        };
      }),
    };
  },
  text(r, ctx) {
    const blocks = r.cpus.map((c) => {
      let s = `CPU ${c.cpu} RUNQUEUE: ${hx(c.runqueue)}\n`;
      s += `  CURRENT: ${taskLine(c.current)}\n`;
      s += `  RT PRIO_ARRAY: ${hx(c.rt.array)}\n`;
      s +=
        c.rt.tasks.map((t) => `     [${String(t.prio).padStart(3)}] ${taskLine(t)}\n`).join('') ||
        '     [no tasks queued]\n';
      s += `  CFS RB_ROOT: ${hx(c.cfs.root)}\n`;
      s += cfsText(c.cfs, '     ') || '     [no tasks queued]\n';
      return s;
    });
    ctx.out(blocks.join('\n'));
  },
};
