/**
 * The helpers of the public API (`tscrash.helpers`): every helper module of helpers/, flattened, plus drgn's
 * vocabulary where the built-ins use other names: `forEachTask(prog)`, `listForEach(head, type, member)`,
 * `perCpu(obj, cpu)`, `stackTrace(task)`. The built-in commands use these same functions.
 */
import { listForEachEntry, listForEach as listNodes } from '../helpers/lists.js';
import { loadModuleSymbols } from '../helpers/modules.js';
import { perCpuAddress, perCpu as perCpuByName, perCpuPtr } from '../helpers/percpu.js';
import { panicCpu } from '../helpers/tasks.js';
import { type Frame as UnwindFrame, unwindTaskForBt } from '../helpers/unwind.js';
import { type Obj, Program, strip, TscrashError } from '../program/index.js';

export * from '../helpers/lists.js';
export * from '../helpers/mce.js';
export * from '../helpers/mce-log.js';
export * from '../helpers/mce-records.js';
export * from '../helpers/meminfo.js';
export * from '../helpers/mm.js';
export * from '../helpers/modules.js';
export * from '../helpers/percpu.js';
export * from '../helpers/printk.js';
export * from '../helpers/slab.js';
export * from '../helpers/stacks.js';
export * from '../helpers/system.js';
export * from '../helpers/tasks.js';
export * from '../helpers/triage.js';
export * from '../helpers/unwind.js';
export * from '../helpers/utsname.js';
export * from '../helpers/xarray.js';

/**
 * A list's entries: `listForEach(head, 'struct task_struct', 'tasks')` gives each entry as an object of that type
 * (drgn's list_for_each_entry); `listForEach(head)` gives the addresses of its list_head nodes. `head` is a
 * `struct list_head` or a pointer to one; the head itself is not an entry.
 *
 * @example
 * for (const m of helpers.listForEach(prog.variable('modules'), 'struct module', 'list'))
 *   console.log(m.member('name').string());
 */
export function listForEach(head: Obj): Generator<bigint>;
export function listForEach(head: Obj, type: string, member: string): Generator<Obj>;
export function listForEach(head: Obj, type?: string, member?: string): Generator<bigint> | Generator<Obj> {
  if (type === undefined) return listNodes(head);
  if (member === undefined) throw new TscrashError('listForEach: give the entry type and its list_head member');
  return listForEachEntry(head, type, member);
}

/**
 * A per-cpu variable's instance on `cpu`: `perCpu(prog.variable('runqueues'), 1)` (drgn's per_cpu), a per-cpu
 * pointer's (`__percpu`, as alloc_percpu returns: drgn's per_cpu_ptr), or by name: `perCpu(prog, 'runqueues', 1)`.
 */
export function perCpu(obj: Obj, cpu: number): Obj;
export function perCpu(prog: Program, name: string, cpu: number): Obj;
export function perCpu(a: Obj | Program, b: number | string, c?: number): Obj {
  if (a instanceof Program) return perCpuByName(a, b as string, c as number);
  const cpu = b as number;
  if (strip(a.type).kind === 'pointer') return perCpuPtr(a, cpu);
  if (a.address === undefined) throw new TscrashError(`perCpu: ${a.expr || 'the object'} is not a variable`);
  return a.prog.object(a.type, perCpuAddress(a.prog, a.address, cpu), `per_cpu(${a.expr}, ${cpu})`);
}

/** One frame of a stack trace, as data. */
export interface StackFrame {
  /** The program counter: the interrupted instruction, or the return address (`isReturn`). */
  pc: bigint;
  /** The stack slot the frame's return address was read from (the bracketed address of crash's bt). */
  sp: bigint;
  /** The function, when the address is in a known symbol. */
  name?: string;
  /** pc minus the function's address. */
  offset?: number;
  /** The module the function is in (undefined for the kernel itself). */
  module?: string;
  /** pc is a return address: the call is at pc - 1 (look that up for the source line). */
  isReturn: boolean;
  /** The struct pt_regs this frame was entered from (an interrupt or exception), when it was. */
  regs?: bigint;
}

/** A task's stack trace. */
export interface StackTrace {
  frames: StackFrame[];
  /** Why the walk stopped early, when it did. */
  error?: string;
}

/**
 * A task's stack, innermost frame first, as crash's bt walks it (drgn's stack_trace): the panicking task from
 * where it panicked, the other CPUs' active tasks from their NMI, a sleeping task from its switch frame.
 *
 * @example
 * for (const f of helpers.stackTrace(helpers.findTask(prog, 1)!).frames) console.log(f.name, f.offset);
 */
export function stackTrace(task: Obj): StackTrace {
  const prog = task.prog;
  loadModuleSymbols(prog); // frames in modules by name, as bt has them
  const u = unwindTaskForBt(prog, task, panicCpu(prog));
  const frames = u.frames.map((f: UnwindFrame): StackFrame => {
    const hit = prog.symbols.symbolize(f.ip);
    return {
      pc: f.ip,
      sp: f.sp,
      name: hit?.symbol.name,
      offset: hit ? Number(hit.offset) : undefined,
      module: hit?.symbol.module,
      isReturn: f.isReturn,
      regs: f.regs,
    };
  });
  return u.error ? { frames, error: u.error } : { frames };
}
