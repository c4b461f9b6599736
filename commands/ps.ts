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
import { taskHeader } from './lib/context.js';
import type { Command, CommandContext } from './registry.js';

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

function line(r: Row, kstack?: string): string {
  const comm = r.kernel ? `[${r.comm}]` : r.comm;
  const col = kstack ?? (r.task.address as bigint).toString(16);
  return `${r.active ? '>' : ' '}${String(r.pid).padStart(8)}${String(r.ppid).padStart(8)}${String(r.cpu).padStart(4)}  ${col.padStart(16)}  ${r.state} ${r.pctMem.toFixed(1).padStart(5)}${String(r.vszKb).padStart(9)}${String(r.rssKb).padStart(9)}  ${comm}`;
}

function kstackPointer(r: Row): string {
  // crash shows the saved kernel stack pointer of tasks that are not running, "--" for active ones.
  if (r.active && r.pid !== 0) return '       --       ';
  try {
    return r.task.member('thread.sp').value().toString(16);
  } catch {
    return '       --       ';
  }
}

export const ps: Command = {
  name: 'ps',
  summary: 'display process status information',
  help: `NAME
  ps - display process status information

SYNOPSIS
  ps [-k|-u|-G] [-s] [-p|-c|-t|-a] [pid | task | command] ...

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
    -a  the command line arguments and environment of each selected user task,
        read from its address space (not in dumps that left user pages out)
    pid | task | command   select tasks by PID, task_struct address, or name

EXAMPLES
  ps
  ps -k
  ps -p 1234
  ps bash
`,
  run(ctx: CommandContext, args: string[]) {
    const prog = ctx.program;
    let kernel = false;
    let user = false;
    let leaders = false;
    let kstack = false;
    let parents = false;
    let children = false;
    let times = false;
    let argsEnv = false;
    const sel: string[] = [];
    for (const a of args) {
      if (/^-[kuGspcta]+$/.test(a)) {
        for (const f of a.slice(1)) {
          if (f === 'a') argsEnv = true;
          if (f === 't') times = true;
          if (f === 'k') kernel = true;
          else if (f === 'u') user = true;
          else if (f === 'G') leaders = true;
          else if (f === 's') kstack = true;
          else if (f === 'p') parents = true;
          else if (f === 'c') children = true;
        }
      } else if (a.startsWith('-')) throw new CommandError(`ps: unsupported option ${a}`);
      else sel.push(a);
    }
    if (kernel && user) throw new CommandError('ps: -k and -u are mutually exclusive');
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
      if (chosen.length === 0) throw new CommandError(`ps: no task matches ${sel.join(' ')}`);
    }
    if (parents) {
      const byAddr = new Map(rows.map((r) => [r.task.address as bigint, r]));
      const blocks: string[] = [];
      for (const r of chosen) {
        const chain: Obj[] = [];
        let t: Obj | undefined = r.task;
        for (let i = 0; t && i < 1000; i++) {
          chain.unshift(t);
          if (taskPid(t) === 0) break;
          const p: Obj = t.hasMember('real_parent') ? t.member('real_parent') : t.member('parent');
          if (p.isNull() || p.value() === t.address) break;
          t = byAddr.get(p.value())?.task ?? p.deref();
        }
        blocks.push(chain.map((c, i) => `${' '.repeat(i)}${taskHeader(c)}\n`).join(''));
      }
      ctx.out(blocks.join('\n'));
      return;
    }
    if (argsEnv) {
      // crash's layout: each argument followed by a space; one environment variable a line.
      const blocks = chosen.map((r) => {
        let text = `${taskHeader(r.task)}\n`;
        try {
          const a = taskArgsEnv(prog, r.task);
          if (!a) return `${text}ps: no user stack\n`;
          text += `ARG: ${a.args.map((x) => `${x} `).join('')}\n`;
          text += a.env.map((e, i) => `${i === 0 ? 'ENV: ' : '     '}${e}\n`).join('');
          return text;
        } catch (e) {
          if (!(e instanceof FaultError)) throw e;
          const at = e.message.match(/user stack address ([0-9a-f]+)/)?.[1] ?? e.address.toString(16);
          return `${text}ps: cannot access user stack address: ${at}\n`;
        }
      });
      ctx.out(blocks.join('\n'));
      return;
    }
    if (times) {
      // crash's RUN TIME: jiffies since boot less the start time's whole seconds in jiffies, over HZ.
      const j = jiffiesSinceBoot(prog);
      const now = monotonicNs(prog);
      const blocks = chosen.map((r) => {
        const start = r.task.member('start_time').value();
        let run = 0;
        if (j) {
          const startJiffies = (start / 1_000_000_000n) * BigInt(j.hz);
          run = j.jiffies > startJiffies ? Number((j.jiffies - startJiffies) / BigInt(j.hz)) : 0;
        } else if (now !== undefined && now > start) run = Number((now - start) / 1_000_000_000n);
        return (
          `${taskHeader(r.task)}\n` +
          `    RUN TIME: ${formatUptime(run)}\n` +
          `  START TIME: ${start}\n` +
          `       UTIME: ${r.task.member('utime').value()}\n` +
          `       STIME: ${r.task.member('stime').value()}\n\n`
        );
      });
      ctx.out(blocks.join(''));
      return;
    }
    if (children) {
      const blocks: string[] = [];
      for (const r of chosen) {
        let text = `${taskHeader(r.task)}\n`;
        const kids = rows.filter((k) => k.ppid === r.pid && k.task.address !== r.task.address && k.pid !== 0);
        if (kids.length === 0) text += '  (no children)\n';
        for (const k of kids) text += `  ${taskHeader(k.task)}\n`;
        blocks.push(text);
      }
      ctx.out(blocks.join('\n'));
      return;
    }
    let text = `${kstack ? HEADER_S : HEADER}\n`;
    for (const r of chosen) text += `${line(r, kstack ? kstackPointer(r) : undefined)}\n`;
    ctx.out(text);
  },
};
