/**
 * The `lockup` plugin: the tasks blocked in uninterruptible sleep (D, crash's UN) for at least the hung-task
 * timeout (the kernel's own hung_task_timeout_secs, else 120 s, or -t SECONDS), with how long each has been
 * blocked, where it waits (the kernel's wchan: its first frame outside the scheduler's text) and its stack.
 * `--plugin lockup` loads it.
 *
 * How long: the dump's latest run-queue clock (the largest rq->clock of the CPUs) minus the task's
 * sched_info.last_arrival (when it last got a CPU: it blocked during that run), both sched_clock nanoseconds.
 */
import type * as Api from './api.js';

type Tscrash = typeof Api;
type Program = Api.Program;

export interface BlockedTask {
  task: Api.TaskRef;
  /** Seconds since the task last got a CPU. */
  blockedSeconds: number;
  /** The kernel's wchan: the first function of the stack outside the scheduler (.sched.text). */
  wchan?: string;
  frames: Api.helpers.StackFrame[];
  /** Why the stack walk stopped early, when it did. */
  stackError?: string;
}

export interface LockupResult {
  /** The threshold in seconds, and where it came from. */
  timeout: number;
  timeoutFrom: 'hung_task_timeout_secs' | 'default' | 'option' | 'all';
  /** The dump's latest run-queue clock (ns since boot). */
  now: Api.Hex;
  tasks: BlockedTask[];
}

/** The latest rq->clock of the online CPUs: the dump's "now" in sched_clock nanoseconds. */
export function latestRqClock(tscrash: Tscrash, prog: Program): bigint {
  let now = 0n;
  for (const cpu of tscrash.helpers.onlineCpus(prog)) {
    const c = tscrash.helpers.perCpu(prog, 'runqueues', cpu).member('clock').value();
    if (c > now) now = c;
  }
  return now;
}

function wchanOf(prog: Program, frames: Api.helpers.StackFrame[]): string | undefined {
  const lo = prog.symbolAddress('__sched_text_start');
  const hi = prog.symbolAddress('__sched_text_end');
  for (const f of frames) {
    const pc = f.isReturn ? f.pc - 1n : f.pc;
    if (lo !== undefined && hi !== undefined && pc >= lo && pc < hi) continue;
    return f.name && f.module ? `${f.name} [${f.module}]` : f.name;
  }
  return undefined;
}

/** The D-state tasks blocked at least `seconds` (every D task with `seconds` 0). */
export function blockedTasks(tscrash: Tscrash, prog: Program, seconds: number): { now: bigint; tasks: BlockedTask[] } {
  const now = latestRqClock(tscrash, prog);
  const out: BlockedTask[] = [];
  for (const t of tscrash.helpers.allTasks(prog)) {
    if (tscrash.helpers.taskStateChar(t) !== 'D') continue;
    const since = t.member('sched_info').member('last_arrival').value();
    const blockedSeconds = Number(now > since ? now - since : 0n) / 1e9;
    if (blockedSeconds < seconds) continue;
    const st = tscrash.helpers.stackTrace(t);
    out.push({
      task: tscrash.taskRef(t),
      blockedSeconds,
      wchan: wchanOf(prog, st.frames),
      frames: st.frames,
      stackError: st.error,
    });
  }
  out.sort((a, b) => b.blockedSeconds - a.blockedSeconds || a.task.pid - b.task.pid);
  return { now, tasks: out };
}

const hx16 = (v: bigint): string => v.toString(16).padStart(16, '0');

function lockupText(tscrash: Tscrash, r: LockupResult): string {
  const from =
    r.timeoutFrom === 'hung_task_timeout_secs'
      ? " (the kernel's hung_task_timeout_secs)"
      : r.timeoutFrom === 'default'
        ? ' (the default)'
        : '';
  if (r.tasks.length === 0)
    return r.timeoutFrom === 'all'
      ? 'no task is blocked (D)\n'
      : `no task has been blocked (D) for ${r.timeout} s or more${from}\n`;
  let s =
    r.timeoutFrom === 'all'
      ? `${r.tasks.length} blocked (D) task${r.tasks.length > 1 ? 's' : ''}\n`
      : `${r.tasks.length} task${r.tasks.length > 1 ? 's' : ''} blocked (D) for ${r.timeout} s or more${from}\n`;
  for (const t of r.tasks) {
    s += `\n${tscrash.taskHeader(t.task)}\n  BLOCKED: ${t.blockedSeconds.toFixed(3)} s  WCHAN: ${t.wchan ?? '?'}\n`;
    t.frames.forEach((f, i) => {
      const at = f.name ? `${f.name} at ${f.pc.toString(16)}` : f.pc.toString(16);
      s += `${`#${i}`.padStart(3)} [${hx16(f.sp)}] ${at}${f.module ? ` [${f.module}]` : ''}\n`;
    });
    if (t.stackError) s += `  (${t.stackError})\n`;
  }
  return s;
}

export default function lockup(tscrash: Tscrash): void {
  tscrash.registerCommand<LockupResult>({
    name: 'lockup',
    summary: 'tasks blocked (D) longer than the hung-task timeout, with their stacks',
    resultType: 'LockupResult',
    help: `NAME
  lockup - tasks blocked in uninterruptible sleep too long (plugin)

SYNOPSIS
  lockup [-t SECONDS | -a]

DESCRIPTION
  The tasks in uninterruptible sleep (D; crash's UN, not the idle kernel
  threads' ID) for at least the hung-task timeout: the kernel's own
  hung_task_timeout_secs, else 120 seconds. Each with how long it has been
  blocked (the dump's latest run-queue clock minus the time it last got a CPU,
  sched_info.last_arrival), where it waits (the kernel's wchan: the first
  function of its stack outside the scheduler) and its stack, longest first.

    -t SECONDS   this threshold instead
    -a           every blocked task, however short

EXAMPLES
  lockup
  lockup -t 30
  lockup -a
`,
    run(ctx, args): LockupResult {
      const prog = ctx.program;
      let timeout: number | undefined;
      let from: LockupResult['timeoutFrom'] = 'option';
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        if (a === '-a') {
          timeout = 0;
          from = 'all';
        } else if (a === '-t') {
          const v = args[++i];
          if (v === undefined || !/^\d+(\.\d+)?$/.test(v))
            throw new tscrash.CommandError('-t needs a number of seconds');
          timeout = Number(v);
        } else throw new tscrash.CommandError(`invalid argument: ${a} (lockup [-t SECONDS | -a])`);
      }
      if (timeout === undefined) {
        if (prog.hasVariable('sysctl_hung_task_timeout_secs')) {
          timeout = prog.variable('sysctl_hung_task_timeout_secs').num();
          from = 'hung_task_timeout_secs';
        }
        // 0 turns the kernel's detector off; the threshold is then the kernel's default.
        if (!timeout) {
          timeout = 120;
          from = 'default';
        }
      }
      const { now, tasks } = blockedTasks(tscrash, prog, timeout);
      return { timeout, timeoutFrom: from, now, tasks };
    },
    text(r, ctx) {
      ctx.out(lockupText(tscrash, r));
    },
  });
}
