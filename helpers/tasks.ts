/**
 * Tasks: every thread of the kernel (the init_task list, then each thread
 * group), per-CPU current and idle tasks, state letters as crash and the
 * kernel's /proc report them, memory use as crash's ps shows it.
 */
import { LookupError, TscrashError } from '../core/errors.js';
import type { Obj } from '../program/object.js';
import { strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listForEach, listForEachEntry } from './lists.js';
import { onlineCpus, perCpu, perCpuPtr, possibleCpus } from './percpu.js';

/** Every task (thread) in the task list, init_task first. The per-CPU idle tasks other than CPU 0's are not on it. */
export function* forEachTask(prog: Program): Generator<Obj> {
  const init = prog.variable('init_task');
  const taskT = init.type;
  const threadsViaSignal =
    prog.hasMember('struct signal_struct', 'thread_head') && prog.hasMember('struct task_struct', 'thread_node');
  const tasksOff = BigInt(prog.offsetOf(taskT, 'tasks'));
  const head = init.member('tasks');
  const leaders: bigint[] = [init.address as bigint];
  for (const node of listForEach(head)) leaders.push(node - tasksOff);
  for (const leader of leaders) {
    const t = prog.object(taskT, leader, 'task');
    if (threadsViaSignal) {
      const sig = t.member('signal');
      if (sig.isNull()) {
        yield t;
        continue;
      }
      let any = false;
      for (const th of listForEachEntry(sig.member('thread_head'), 'struct task_struct', 'thread_node')) {
        any = true;
        yield th;
      }
      if (!any) yield t;
    } else if (prog.hasMember('struct task_struct', 'thread_group')) {
      yield t;
      for (const th of listForEachEntry(t.member('thread_group'), 'struct task_struct', 'thread_group')) yield th;
    } else {
      yield t;
    }
  }
}

/** All tasks crash's ps shows: the task list plus each CPU's idle task. */
export function allTasks(prog: Program): Obj[] {
  const out: Obj[] = [];
  const seen = new Set<bigint>();
  for (const cpu of possibleCpusWithRq(prog)) {
    const idle = idleTask(prog, cpu);
    if (idle && !seen.has(idle.address as bigint)) {
      seen.add(idle.address as bigint);
      out.push(idle);
    }
  }
  for (const t of forEachTask(prog)) {
    const a = t.address as bigint;
    if (seen.has(a)) continue;
    seen.add(a);
    out.push(t);
  }
  return out;
}

function possibleCpusWithRq(prog: Program): number[] {
  const online = onlineCpus(prog);
  return online.length ? online : possibleCpus(prog);
}

/** The task with that PID (the thread group leader first), if any. */
export function findTask(prog: Program, pid: number): Obj | undefined {
  for (const t of allTasks(prog)) if (t.member('pid').num() === pid) return t;
  return undefined;
}

const taskSizes = new WeakMap<Program, bigint>();

/**
 * The bytes a task_struct really occupies: the kernel sizes the FPU register area at the end of the task to the
 * CPU's xstate and keeps the allocation size in arch_task_struct_size (x86), often less than the type's sizeof.
 * Slab neighbours start within the type's size, so an address-to-task lookup must use this one (as crash does).
 */
export function taskStructSize(prog: Program): bigint {
  let size = taskSizes.get(prog);
  if (size !== undefined) return size;
  size = BigInt(prog.sizeof('struct task_struct'));
  const sym = prog.symbolAddress('arch_task_struct_size');
  if (sym !== undefined) {
    try {
      const v = BigInt(prog.memory.readU32(sym));
      if (v > 0n && v <= size * 2n) size = v;
    } catch (e) {
      if (!(e instanceof TscrashError)) throw e;
    }
  }
  taskSizes.set(prog, size);
  return size;
}

/** The task whose task_struct holds the address, if any. */
export function taskContaining(prog: Program, tasks: Iterable<Obj>, address: bigint): Obj | undefined {
  const size = taskStructSize(prog);
  for (const t of tasks) {
    const a = t.address as bigint;
    if (address >= a && address < a + size) return t;
  }
  return undefined;
}

/** The task at an address (checked to look like a task: its pid and comm readable). */
export function taskAt(prog: Program, address: bigint): Obj {
  const t = prog.object('struct task_struct', address, 'task');
  t.member('pid').num();
  return t;
}

/** The CPU the task is on or last ran on. */
export function taskCpu(task: Obj): number {
  if (task.hasMember('cpu')) return task.member('cpu').num();
  return task.member('thread_info.cpu').num();
}

/** The run queue (struct rq) of `cpu`. */
export function cpuRq(prog: Program, cpu: number): Obj {
  return perCpu(prog, 'runqueues', cpu);
}

/** The task running on `cpu` (its run queue's curr). */
export function cpuCurr(prog: Program, cpu: number): Obj {
  return cpuRq(prog, cpu).member('curr').deref();
}

/** The idle task of `cpu` (swapper/N). */
export function idleTask(prog: Program, cpu: number): Obj | undefined {
  if (!prog.hasVariable('runqueues')) return cpu === 0 ? prog.variable('init_task') : undefined;
  const idle = cpuRq(prog, cpu).member('idle');
  return idle.isNull() ? undefined : idle.deref();
}

/** Address → CPU of the task running on each CPU at the crash. */
export function activeTasks(prog: Program): Map<bigint, number> {
  const out = new Map<bigint, number>();
  for (const cpu of possibleCpusWithRq(prog)) {
    try {
      out.set(cpuCurr(prog, cpu).address as bigint, cpu);
    } catch {
      // A CPU whose runqueue is unreadable has no known active task.
    }
  }
  return out;
}

/** The task that panicked: the crashing CPU's current task. */
export function panicTask(prog: Program): Obj | undefined {
  const cpu = panicCpu(prog);
  if (cpu === undefined) return undefined;
  return cpuCurr(prog, cpu);
}

/** The CPU that crashed: panic_cpu when set, else the first CPU with registers saved. */
export function panicCpu(prog: Program): number | undefined {
  if (!prog.hasDebugInfo) {
    // No types: panic_cpu is an atomic_t, one int, at its kallsyms address.
    const a = prog.symbolAddress('panic_cpu');
    const b = a === undefined ? undefined : prog.memory.tryReadVirt(a, 4, 'panic_cpu');
    const v = b ? new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) : -1;
    return v >= 0 ? v : undefined;
  }
  if (prog.hasVariable('panic_cpu')) {
    const v = prog.variable('panic_cpu');
    const c = (v.hasMember('counter') ? v.member('counter') : v).value();
    if (c >= 0n && c < 1n << 31n) return Number(c);
  }
  if (prog.hasVariable('crashing_cpu')) {
    const c = prog.variable('crashing_cpu').value();
    if (c >= 0n && c < 1n << 31n) return Number(c);
  }
  return undefined;
}

const TASK_NOLOAD = 0x400n; // TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD since Linux 4.2

interface StateTable {
  chars: string;
  report: bigint;
}
const stateTables = new WeakMap<Program, StateTable>();

function stateTable(prog: Program): StateTable {
  const hit = stateTables.get(prog);
  if (hit) return hit;
  let chars = 'RSDTtXZPI';
  if (prog.hasVariable('task_state_array')) {
    const arr = prog.variable('task_state_array');
    const n = arr.type.kind === 'array' ? (arr.type.counts[0] ?? 0) : 0;
    const cs: string[] = [];
    for (let i = 0; i < n; i++) cs.push(arr.index(i).string(32).charAt(0));
    if (cs.length) chars = cs.join('');
  }
  // The entries up to "I (idle)" are TASK_REPORT's bits; "I" is TASK_REPORT_IDLE, one past them.
  const idle = chars.indexOf('I');
  const nbits = (idle > 0 ? idle : chars.length) - 1;
  const t = { chars, report: (1n << BigInt(nbits)) - 1n };
  stateTables.set(prog, t);
  return t;
}

/** The kernel's one-letter task state (R S D T t X Z P I), as /proc and drgn show it. */
export function taskStateChar(task: Obj): string {
  const { chars, report } = stateTable(task.prog);
  const raw = (task.hasMember('__state') ? task.member('__state') : task.member('state')).value();
  const exit = task.member('exit_state').value();
  const state = (raw | exit) & report;
  const idx = state === 0n ? 0 : state.toString(2).length;
  const c = chars.charAt(idx) || '?';
  if (c === 'D' && (raw & ~state) === TASK_NOLOAD) return 'I';
  return c;
}

const CRASH_LETTERS: Record<string, string> = {
  R: 'RU',
  S: 'IN',
  D: 'UN',
  T: 'ST',
  t: 'TR',
  X: 'DE',
  Z: 'ZO',
  P: 'PA',
  I: 'ID',
};

/** crash's two-letter state (RU IN UN ST TR DE ZO PA ID; WA for waking, NE for new). */
export function taskStateLetter(task: Obj): string {
  const raw = (task.hasMember('__state') ? task.member('__state') : task.member('state')).value();
  if (raw === 0x200n) return 'WA';
  if (raw === 0x800n) return 'NE';
  return CRASH_LETTERS[taskStateChar(task)] ?? '??';
}

/** Whether the task is a kernel thread (it has no mm of its own). */
export function isKernelThread(task: Obj): boolean {
  return task.member('mm').isNull();
}

/** The task's PID. */
export function taskPid(task: Obj): number {
  return task.member('pid').num();
}

/** The task's command name (comm). */
export function taskComm(task: Obj): string {
  return task.member('comm').string(64);
}

/** The PID of the task's parent (real_parent). */
export function taskParentPid(task: Obj): number {
  if (taskPid(task) === 0) return 0; // idle tasks: forked from whatever ran at boot, shown as 0 by crash and ps
  const p = task.hasMember('real_parent') ? task.member('real_parent') : task.member('parent');
  return p.isNull() ? 0 : p.member('pid').num();
}

/** Resident pages of an mm: the mm's counters plus the not yet folded per-thread deltas (SPLIT_RSS_COUNTING). */
export function mmRssPages(prog: Program, mm: Obj, threads: Obj[] = []): bigint {
  const names = ['MM_FILEPAGES', 'MM_ANONPAGES', 'MM_SHMEMPAGES'];
  const idx = names.flatMap((n) => {
    try {
      return [Number(prog.constant(n))];
    } catch (e) {
      if (e instanceof LookupError) return [];
      throw e;
    }
  });
  let total = 0n;
  const rs = mm.member('rss_stat');
  for (const i of idx) {
    if (strip(rs.type).kind === 'array') {
      // Linux 6.2+: struct percpu_counter rss_stat[NR_MM_COUNTERS]
      const c = rs.index(i);
      let v = c.member('count').value();
      const pcpu = c.member('counters');
      if (!pcpu.isNull()) {
        for (const cpu of possibleCpus(prog)) v += perCpuPtr(pcpu, cpu).value();
      }
      total += v;
    } else {
      total += rs.member('count').index(i).member('counter').value();
    }
  }
  for (const t of threads) {
    if (!t.hasMember('rss_stat')) break;
    const trs = t.member('rss_stat.count');
    for (const i of idx) total += trs.index(i).value();
  }
  return total < 0n ? 0n : total;
}

/** The pages of RAM the kernel manages (totalram_pages), as crash's ps %MEM divides by. */
export function totalRamPages(prog: Program): bigint {
  for (const n of ['_totalram_pages', 'totalram_pages']) {
    if (!prog.hasVariable(n)) continue;
    const v = prog.variable(n);
    return v.hasMember('counter') ? v.member('counter').value() : v.value();
  }
  throw new TscrashError('neither _totalram_pages nor totalram_pages is in the debug info');
}

/** The most of a task's argument or environment area read (the kernel allows far less than this). */
const MAX_ARGS_AREA = 1 << 20;

/**
 * A user task's command line and environment, from its own address space (mm->arg_start..arg_end and
 * env_start..env_end, through mm->pgd): undefined for a task without an mm (a kernel thread). Throws
 * FaultError when the pages are not in the dump (makedumpfile -d 8 and up leave user pages out).
 */
export function taskArgsEnv(prog: Program, task: Obj): { args: string[]; env: string[]; argStart: bigint } | undefined {
  const mmp = task.member('mm');
  if (mmp.isNull()) return undefined;
  const mm = mmp.deref();
  const pgd = mm.member('pgd').value();
  const area = (from: string, to: string): string[] => {
    const start = mm.member(from).value();
    const end = mm.member(to).value();
    if (end <= start) return [];
    if (end - start > BigInt(MAX_ARGS_AREA))
      throw new TscrashError(`mm ${from}..${to} spans ${end - start} bytes: not a plausible area`);
    const bytes = prog.memory.readUser(pgd, start, Number(end - start), `user stack address ${start.toString(16)}`);
    const text = Buffer.from(bytes).toString('latin1');
    return text.split('\0').filter((s, i, all) => s !== '' || i < all.length - 1);
  };
  return {
    args: area('arg_start', 'arg_end'),
    env: area('env_start', 'env_end'),
    argStart: mm.member('arg_start').value(),
  };
}
