import { formatUptime, jiffiesSinceBoot, monotonicNs } from '../helpers/system.js';
import {
  activeTasks,
  allTasks,
  mmRssPages,
  taskArgsEnv,
  taskComm,
  taskCpu,
  taskParentPid,
  taskPid,
  taskStateLetter,
  totalRamPages,
} from '../helpers/tasks.js';
import { CommandError, FaultError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { type TaskRef, taskHeader, taskRef } from './lib/context.js';
import type { Command, CommandContext } from './registry.js';
import type { Hex } from './result.js';

interface Row {
  task: Obj;
  pid: number;
  ppid: number;
  cpu: number;
  state: string;
  comm: string;
  kernel: boolean;
  active: boolean;
  vszKb: bigint;
  rssKb: bigint;
  pctMem: number;
  leader: boolean;
}

function memUse(prog: Program, tasks: Obj[]): Map<bigint, { vsz: bigint; rss: bigint }> {
  // Group threads by mm, so the per-thread RSS deltas are summed once per mm (crash does the same).
  const byMm = new Map<bigint, Obj[]>();
  for (const t of tasks) {
    const mm = t.member('mm').value();
    if (mm === 0n) continue;
    const l = byMm.get(mm);
    if (l) l.push(t);
    else byMm.set(mm, [t]);
  }
  const kb = BigInt(prog.memory.pageSize / 1024);
  const out = new Map<bigint, { vsz: bigint; rss: bigint }>();
  for (const [mmAddr, threads] of byMm) {
    const mm = prog.object('struct mm_struct', mmAddr, 'mm');
    let vsz = 0n;
    let rss = 0n;
    try {
      vsz = mm.member('total_vm').value() * kb;
      rss = mmRssPages(prog, mm, threads) * kb;
    } catch {
      // An unreadable mm shows zeros, as crash does.
    }
    out.set(mmAddr, { vsz, rss });
  }
  return out;
}

export function psRows(prog: Program): Row[] {
  const tasks = allTasks(prog);
  const active = activeTasks(prog);
  const mem = memUse(prog, tasks);
  let totalKb = 0n;
  try {
    totalKb = totalRamPages(prog) * BigInt(prog.memory.pageSize / 1024);
  } catch {
    totalKb = 0n;
  }
  const rows = tasks.map((task): Row => {
    const mmAddr = task.member('mm').value();
    const m = mem.get(mmAddr) ?? { vsz: 0n, rss: 0n };
    const pid = taskPid(task);
    const tgid = task.member('tgid').num();
    return {
      task,
      pid,
      ppid: taskParentPid(task),
      cpu: taskCpu(task),
      state: taskStateLetter(task),
      comm: taskComm(task),
      kernel: mmAddr === 0n,
      active: active.has(task.address as bigint),
      vszKb: m.vsz,
      rssKb: m.rss,
      pctMem: totalKb > 0n ? Number((m.rss * 100000n) / totalKb) / 1000 : 0,
      leader: pid === tgid,
    };
  });
  rows.sort((a, b) => a.pid - b.pid || a.cpu - b.cpu || (a.task.address! < b.task.address! ? -1 : 1));
  return rows;
}

const HEADER = '      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM';
const HEADER_S = '      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM';

function line(t: PsTask, kstack: boolean): string {
  const comm = t.kernel ? `[${t.comm}]` : t.comm;
  // crash shows "--" for the stack pointer of a task that is running.
  const col = kstack
    ? t.kstackPointer === undefined
      ? '       --       '
      : t.kstackPointer.toString(16)
    : t.task.toString(16);
  return `${t.active ? '>' : ' '}${String(t.pid).padStart(8)}${String(t.ppid).padStart(8)}${String(t.cpu).padStart(4)}  ${col.padStart(16)}  ${t.state} ${t.pctMem.toFixed(1).padStart(5)}${String(t.vszKb).padStart(9)}${String(t.rssKb).padStart(9)}  ${comm}`;
}

/** The saved kernel stack pointer of a task that is not running (crash's ps -s); undefined for active ones. */
function kstackPointer(r: Row): bigint | undefined {
  if (r.active && r.pid !== 0) return undefined;
  try {
    return r.task.member('thread.sp').value();
  } catch {
    return undefined;
  }
}

/** A task of ps's list. */
export interface PsTask extends TaskRef {
  ppid: number;
  /** crash's state letters: RU, IN, UN, ZO, ID, ... */
  state: string;
  /** A kernel thread (no mm). */
  kernel: boolean;
  /** Running on a CPU at the crash. */
  active: boolean;
  pctMem: number;
  vszKb: number;
  rssKb: number;
  /** ps -s: the saved kernel stack pointer (none for a running task). */
  kstackPointer?: Hex;
}

export interface PsTimes {
  task: TaskRef;
  runTime: { seconds: number; text: string };
  startTime: Hex;
  utime: Hex;
  stime: Hex;
}

export interface PsArgs {
  task: TaskRef;
  args?: string[];
  env?: string[];
  /** Why the arguments could not be read (crash's message). */
  error?: string;
}

/** ps: the task list (-k -u -G -s), or parents (-p), children (-c), times (-t), arguments (-a). */
export type PsResult =
  | { mode: 'list'; kstack: boolean; tasks: PsTask[] }
  | { mode: 'parents'; chains: TaskRef[][] }
  | { mode: 'children'; families: { task: TaskRef; children: TaskRef[] }[] }
  | { mode: 'times'; tasks: PsTimes[] }
  | { mode: 'args'; tasks: PsArgs[] }
  | { mode: 'lastRun'; tasks: { task: TaskRef; state: string; lastRun: number }[] };

export const ps: Command<PsResult> = {
  resultType: 'PsResult',
  name: 'ps',
  summary: 'display process status information',
  help: `NAME
  ps - display process status information

SYNOPSIS
  ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-a] [pid | task | command] ...

DESCRIPTION
  Shows every task (thread) of the dump, as crash does, one line each:
  PID, parent PID, CPU, task_struct address, state, %MEM, VSZ and RSS (KB),
  and the command; kernel threads in [brackets]. ">" marks the task running on
  each CPU at the crash. Every task of the kernel's task list is shown,
  sleeping ones included, plus each CPU's idle task (PID 0).

  States: RU running, IN interruptible, UN uninterruptible, ST stopped,
  TR traced, ZO zombie, DE dead, PA parked, ID idle, WA waking, NE new.

    -k  kernel threads only
    -u  user tasks only
    -G  thread group leaders only
    -s  the saved kernel stack pointer instead of the task address
    -p  the parental hierarchy of each selected task, up to PID 0
    -c  the children of each selected task
    -t  run time, start time, user and system time of each selected task
    -l  each selected task's last-run timestamp (sched_info.last_arrival, in
        nanoseconds; else last_run or timestamp, as the kernel has them), the
        most recent first, and its state (alias: last)
    -a  the command line arguments and environment of each selected user task,
        read from its address space (not in dumps that left user pages out)
    pid | task | command   select tasks by PID, task_struct address, or name

EXAMPLES
  ps
  ps -k
  ps -p 1234
  ps bash
`,
  run(ctx: CommandContext, args: string[]): PsResult {
    const prog = ctx.program;
    let kernel = false;
    let user = false;
    let leaders = false;
    let kstack = false;
    let parents = false;
    let children = false;
    let times = false;
    let argsEnv = false;
    let lastRun = false;
    const sel: string[] = [];
    for (const a of args) {
      if (/^-[kuGspctal]+$/.test(a)) {
        for (const f of a.slice(1)) {
          if (f === 'l') lastRun = true;
          if (f === 'a') argsEnv = true;
          if (f === 't') times = true;
          if (f === 'k') kernel = true;
          else if (f === 'u') user = true;
          else if (f === 'G') leaders = true;
          else if (f === 's') kstack = true;
          else if (f === 'p') parents = true;
          else if (f === 'c') children = true;
        }
      } else if (a.startsWith('-')) throw new CommandError(`unsupported option ${a}`);
      else sel.push(a);
    }
    if (kernel && user) throw new CommandError('-k and -u are mutually exclusive');
    const rows = psRows(prog);
    let chosen = rows.filter((r) => (!kernel || r.kernel) && (!user || !r.kernel) && (!leaders || r.leader));
    if (sel.length) {
      chosen = chosen.filter((r) =>
        sel.some((s) => {
          if (/^\d+$/.test(s)) return r.pid === Number(s);
          if (/^(0x)?[0-9a-fA-F]{8,}$/.test(s)) return r.task.address === BigInt(s.startsWith('0x') ? s : `0x${s}`);
          return r.comm === s;
        }),
      );
      if (chosen.length === 0) throw new CommandError(`no task matches ${sel.join(' ')}`);
    }
    if (lastRun) {
      // crash's task_last_run(): sched_info.last_arrival where the kernel has it, else last_run, else timestamp.
      const stamp = (t: Obj): number => {
        for (const path of ['sched_info.last_arrival', 'last_run', 'timestamp']) {
          const [a, b] = path.split('.');
          if (!t.hasMember(a!)) continue;
          const m = t.member(a!);
          if (b === undefined) return Number(m.value());
          if (m.hasMember(b)) return Number(m.member(b).value());
        }
        throw new CommandError('the task_struct has no sched_info.last_arrival, last_run or timestamp');
      };
      const tasks = chosen.map((r) => ({ task: taskRef(r.task), state: r.state, lastRun: stamp(r.task) }));
      // The most recent first; ties keep the task list's order.
      tasks.sort((x, y) => y.lastRun - x.lastRun);
      return { mode: 'lastRun', tasks };
    }
    if (parents) {
      const byAddr = new Map(rows.map((r) => [r.task.address as bigint, r]));
      const chains: TaskRef[][] = [];
      for (const r of chosen) {
        const chain: Obj[] = [];
        let t: Obj | undefined = r.task;
        for (let i = 0; t && i < 1000; i++) {
          chain.unshift(t);
          // Up to PID 0: another CPU's idle task (forked by init) has init_task, swapper/0, above it, as in crash.
          if (taskPid(t) === 0) {
            const root = prog.symbolAddress('init_task');
            if (root !== undefined && t.address !== root)
              chain.unshift(byAddr.get(root)?.task ?? prog.variable('init_task'));
            break;
          }
          const p: Obj = t.hasMember('real_parent') ? t.member('real_parent') : t.member('parent');
          if (p.isNull() || p.value() === t.address) break;
          t = byAddr.get(p.value())?.task ?? p.deref();
        }
        chains.push(chain.map(taskRef));
      }
      return { mode: 'parents', chains };
    }
    if (argsEnv) {
      const tasks = chosen.map((r): PsArgs => {
        const task = taskRef(r.task);
        try {
          const a = taskArgsEnv(prog, r.task);
          if (!a) return { task, error: 'no user stack' };
          return { task, args: a.args, env: a.env };
        } catch (e) {
          if (!(e instanceof FaultError)) throw e;
          const at = e.message.match(/user stack address ([0-9a-f]+)/)?.[1] ?? e.address.toString(16);
          return { task, error: `cannot access user stack address: ${at}` };
        }
      });
      return { mode: 'args', tasks };
    }
    if (times) {
      // crash's RUN TIME: jiffies since boot less the start time's whole seconds in jiffies, over HZ.
      const j = jiffiesSinceBoot(prog);
      const now = monotonicNs(prog);
      const tasks = chosen.map((r): PsTimes => {
        const start = r.task.member('start_time').value();
        let run = 0;
        if (j) {
          const startJiffies = (start / 1_000_000_000n) * BigInt(j.hz);
          run = j.jiffies > startJiffies ? Number((j.jiffies - startJiffies) / BigInt(j.hz)) : 0;
        } else if (now !== undefined && now > start) run = Number((now - start) / 1_000_000_000n);
        return {
          task: taskRef(r.task),
          runTime: { seconds: run, text: formatUptime(run) },
          startTime: start,
          utime: r.task.member('utime').value(),
          stime: r.task.member('stime').value(),
        };
      });
      return { mode: 'times', tasks };
    }
    if (children) {
      const families = chosen.map((r) => ({
        task: taskRef(r.task),
        children: rows
          .filter((k) => k.ppid === r.pid && k.task.address !== r.task.address && k.pid !== 0)
          .map((k) => taskRef(k.task)),
      }));
      return { mode: 'children', families };
    }
    return {
      mode: 'list',
      kstack,
      tasks: chosen.map((r) => ({
        ...taskRef(r.task),
        ppid: r.ppid,
        state: r.state,
        kernel: r.kernel,
        active: r.active,
        pctMem: r.pctMem,
        vszKb: Number(r.vszKb),
        rssKb: Number(r.rssKb),
        kstackPointer: kstack ? kstackPointer(r) : undefined,
      })),
    };
  },
  text(r, ctx) {
    switch (r.mode) {
      case 'lastRun': {
        const width = Math.max(1, ...r.tasks.map((t) => String(t.lastRun).length));
        ctx.out(
          r.tasks.map((t) => `[${String(t.lastRun).padStart(width)}] [${t.state}]  ${taskHeader(t.task)}\n`).join(''),
        );
        return;
      }
      case 'parents':
        ctx.out(r.chains.map((c) => c.map((t, i) => `${' '.repeat(i)}${taskHeader(t)}\n`).join('')).join('\n'));
        return;
      case 'args':
        // crash's layout: each argument followed by a space; one environment variable a line.
        ctx.out(
          r.tasks
            .map((t) => {
              const head = `${taskHeader(t.task)}\n`;
              if (t.error !== undefined) return `${head}ps: ${t.error}\n`;
              return (
                `${head}ARG: ${(t.args ?? []).map((x) => `${x} `).join('')}\n` +
                (t.env ?? []).map((e, i) => `${i === 0 ? 'ENV: ' : '     '}${e}\n`).join('')
              );
            })
            .join('\n'),
        );
        return;
      case 'times':
        ctx.out(
          r.tasks
            .map(
              (t) =>
                `${taskHeader(t.task)}\n` +
                `    RUN TIME: ${t.runTime.text}\n` +
                `  START TIME: ${t.startTime}\n` +
                `       UTIME: ${t.utime}\n` +
                `       STIME: ${t.stime}\n\n`,
            )
            .join(''),
        );
        return;
      case 'children':
        ctx.out(
          r.families
            .map(
              (f) =>
                `${taskHeader(f.task)}\n` +
                (f.children.length ? f.children.map((k) => `  ${taskHeader(k)}\n`).join('') : '  (no children)\n'),
            )
            .join('\n'),
        );
        return;
      case 'list': {
        let text = `${r.kstack ? HEADER_S : HEADER}\n`;
        for (const t of r.tasks) text += `${line(t, r.kstack)}\n`;
        ctx.out(text);
      }
    }
  },
};
