import { loadModuleSymbols } from '../helpers/modules.js';
import { perCpuSymbolAddress } from '../helpers/percpu.js';
import { type StackRange, stackOf } from '../helpers/stacks.js';
import { activeTasks, cpuCurr, panicCpu, taskCpu } from '../helpers/tasks.js';
import { type Registers, readPtRegs, type Unwind, unwindCpu, unwindTaskForBt } from '../helpers/unwind.js';
import { CommandError, FaultError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { currentTask, resolveTasks, type TaskRef, taskHeader, taskRef } from './lib/context.js';
import type { Command, CommandContext } from './registry.js';
import type { Hex } from './result.js';

const hx = (v: bigint, w = 16): string => v.toString(16).padStart(w, '0');

/** Registers by name (ip, sp, flags, ax ... r15, orig_ax, cs, ss). */
export type RegisterSet = Record<string, Hex>;

/** One frame of a backtrace. */
export interface BtFrame {
  /** The stack slot crash shows in brackets, and the frame's text address. */
  sp: Hex;
  ip: Hex;
  /** The function (kernel or module symbol) and the offset into it, when the address has a symbol. */
  symbol?: string;
  offset?: number;
  /** The module whose text the address is in. */
  module?: string;
  /** bt -l: the source line (of the call, for a return address). */
  file?: string;
  line?: number;
  /** The kernel-mode exception this frame was entered from: its registers and crash's "exception RIP". */
  exception?: { rip: string; registers: RegisterSet };
  /** The stack the previous frame was on, when this frame is on another (crash's "--- <NAME> ---"). */
  leftStack?: string;
  /** bt -f: the stack words between this frame's slot and the next one's, from `wordsFrom`. */
  wordsFrom?: Hex;
  words?: Hex[];
}

/** The backtrace of one task (or, without a vmlinux, of one CPU's active task). */
export interface BtTask {
  /** The task (with a vmlinux). */
  task?: TaskRef;
  /** Without a vmlinux: the CPU's NT_PRSTATUS PID and its current_task, when the kernel has that symbol. */
  cpuNote?: { pid: number; cpu: number; task?: Hex };
  frames: BtFrame[];
  /** The registers where the walk left the kernel (user mode), or the CPU's registers when there are no frames. */
  userRegisters?: RegisterSet;
  /** The task has no stack (it exited: task_struct.stack is NULL). */
  noStack?: boolean;
  /** Why the walk stopped early. */
  error?: string;
}

/** bt: backtraces, and the options the text view shows (-l lines, -f stack words). */
export interface BtResult {
  tasks: BtTask[];
  options: { lines: boolean; frames: boolean };
}

interface BtOptions {
  lines: boolean;
  frames: boolean;
}

function regsRecord(r: Registers): RegisterSet {
  const out: RegisterSet = {};
  for (const [k, v] of Object.entries(r)) if (typeof v === 'bigint') out[k] = v;
  return out;
}

/** A text address as crash names it in a backtrace: `name` or `name+offset`; the module is not part of it. */
function symbolText(prog: Program, ip: bigint, withOffset: boolean): string {
  const r = prog.symbols.symbolize(ip);
  if (!r) return hx(ip);
  return `${r.symbol.name}${withOffset && r.offset ? `+${r.offset}` : ''}`;
}

/** The words of a frame's stack (bt -f): from `from` up to `to`, stopping at the first unreadable one. */
function frameWords(prog: Program, from: bigint, to: bigint): bigint[] {
  if (to <= from || to - from > 8192n) return [];
  const words: bigint[] = [];
  for (let a = from; a < to; a += 8n) {
    try {
      words.push(prog.memory.readU64(a, 'stack'));
    } catch (e) {
      if (e instanceof FaultError) break;
      throw e;
    }
  }
  return words;
}

/** The frames of an unwind as data: exception registers, stack changes, -l lines and -f words. */
function framesOf(
  prog: Program,
  u: Unwind & { cpuRegs?: Registers },
  cpu: number,
  opts: BtOptions,
  /** The stacks to name (default: the CPU's, from the vmlinux's variables). */
  stacks?: StackRange[],
): Pick<BtTask, 'frames' | 'userRegisters' | 'error'> {
  const stackAt = (a: bigint): StackRange | undefined =>
    stacks ? stacks.find((st) => a >= st.start && a < st.end) : stackOf(prog, cpu, a);
  const frames: BtFrame[] = [];
  const raw = u.frames;
  for (let i = 0; i < raw.length; i++) {
    const f = raw[i]!;
    const hit = prog.symbols.symbolize(f.ip);
    const frame: BtFrame = {
      sp: f.sp,
      ip: f.ip,
      symbol: hit?.symbol.name,
      offset: hit ? Number(hit.offset) : undefined,
      module: hit?.symbol.module,
    };
    if (i > 0) {
      if (f.regs !== undefined) {
        const r = readPtRegs(prog, f.regs);
        if (r) frame.exception = { rip: symbolText(prog, r.ip, true), registers: regsRecord(r) };
      }
      const from = stackAt(raw[i - 1]!.sp);
      const to = stackAt(f.sp);
      if (from && from !== to) frame.leftStack = from.name;
    }
    if (opts.lines) {
      const l = prog.lineFor(f.isReturn ? f.ip - 1n : f.ip);
      if (l) {
        frame.file = l.file;
        frame.line = l.line;
      }
    }
    if (opts.frames && i + 1 < raw.length) {
      frame.wordsFrom = f.sp + 8n;
      frame.words = frameWords(prog, f.sp + 8n, raw[i + 1]!.sp);
    }
    frames.push(frame);
  }
  let userRegisters: RegisterSet | undefined;
  if (u.userRegs !== undefined) {
    const r = readPtRegs(prog, u.userRegs);
    if (r) userRegisters = regsRecord(r);
  } else if (raw.length === 0 && u.cpuRegs) userRegisters = regsRecord(u.cpuRegs);
  return { frames, userRegisters, error: u.error };
}

/** The backtrace of a task, as data. */
export function backtraceOf(prog: Program, task: Obj, opts: BtOptions): BtTask {
  const u = unwindTaskForBt(prog, task, panicCpu(prog));
  if (u.noStack) return { task: taskRef(task), frames: [], noStack: true };
  return { task: taskRef(task), ...framesOf(prog, u, u.cpu ?? taskCpu(task), opts) };
}

/* ------------------------------------------------------------------ the text view */

/** crash's register block of an exception frame (kernel: headed by `[exception RIP: fn+off]`). */
export function regsBlock(g: RegisterSet, rip?: string): string {
  const v = (n: string): bigint => g[n] ?? 0n;
  let s = rip !== undefined ? `    [exception RIP: ${rip}]\n` : '';
  s += `    RIP: ${hx(v('ip'))}  RSP: ${hx(v('sp'))}  RFLAGS: ${hx(v('flags'), 8)}\n`;
  s += `    RAX: ${hx(v('ax'))}  RBX: ${hx(v('bx'))}  RCX: ${hx(v('cx'))}\n`;
  s += `    RDX: ${hx(v('dx'))}  RSI: ${hx(v('si'))}  RDI: ${hx(v('di'))}\n`;
  s += `    RBP: ${hx(v('bp'))}   R8: ${hx(v('r8'))}   R9: ${hx(v('r9'))}\n`;
  s += `    R10: ${hx(v('r10'))}  R11: ${hx(v('r11'))}  R12: ${hx(v('r12'))}\n`;
  s += `    R13: ${hx(v('r13'))}  R14: ${hx(v('r14'))}  R15: ${hx(v('r15'))}\n`;
  s += `    ORIG_RAX: ${hx(v('orig_ax'))}  CS: ${hx(v('cs'), 4)}  SS: ${hx(v('ss'), 4)}\n`;
  return s;
}

/** Frame `i`'s line in crash's layout: ` #1 [ffffc90000003e38] panic at ffffffff8108c5b5 [module]`. */
export function frameLine(f: BtFrame, i: number): string {
  // crash's module tag after a frame's address: ` [module]` when the address is a module's text.
  return `${`#${i}`.padStart(3)} [${hx(f.sp)}] ${f.symbol ?? hx(f.ip)} at ${hx(f.ip)}${f.module ? ` [${f.module}]` : ''}`;
}

/** One task's backtrace in crash's layout. */
export function backtraceText(t: BtTask): string {
  const head = t.task
    ? taskHeader(t.task)
    : `PID: ${String(t.cpuNote!.pid).padEnd(7)}  TASK: ${t.cpuNote!.task === undefined ? '?' : t.cpuNote!.task.toString(16)}  CPU: ${String(t.cpuNote!.cpu).padEnd(3)}  COMMAND: (no vmlinux)`;
  // crash's words for a task whose stack is gone (an exited task: task_struct.stack is NULL).
  if (t.noStack) return `${head}\n(no stack)\n`;
  let out = `${head}\n`;
  t.frames.forEach((f, i) => {
    if (f.exception) out += regsBlock(f.exception.registers, f.exception.rip);
    if (f.leftStack) out += `--- <${f.leftStack}> ---\n`;
    out += `${frameLine(f, i)}\n`;
    if (f.file !== undefined) out += `    ${f.file}: ${f.line}\n`;
    if (f.words && f.wordsFrom !== undefined) {
      for (let k = 0; k < f.words.length; k += 2) {
        out += `    ${hx(f.wordsFrom + BigInt(k * 8))}: ${f.words
          .slice(k, k + 2)
          .map((w) => hx(w))
          .join(' ')} \n`;
      }
    }
  });
  if (t.userRegisters) out += regsBlock(t.userRegisters);
  if (t.error) out += `bt: ${t.error}\n`;
  return out;
}

/**
 * Without a vmlinux: the CPUs' active tasks only, from their NT_PRSTATUS registers, with symbols from the
 * dump's kallsyms and the ORC tables from the kernel image in memory. The header has the PID from the note
 * and the task from the per-cpu current_task when the kernel has that symbol; the command name needs
 * struct task_struct, which only the vmlinux describes.
 */
function cpuBacktraces(prog: Program, all: boolean, sel: string[], opts: BtOptions): BtTask[] {
  const notes = prog.cpus;
  if (notes.length === 0) throw new CommandError('the dump has no CPU registers (NT_PRSTATUS notes)');
  const pc = panicCpu(prog);
  const panicked = pc !== undefined && pc < notes.length ? pc : undefined;
  let chosen = notes;
  if (!all) {
    if (sel.length) {
      chosen = notes.filter((n) => sel.includes(String(n.pid)));
      const missing = sel.filter((a) => !notes.some((n) => String(n.pid) === a));
      if (missing.length)
        throw new CommandError(
          `bt: ${missing.join(', ')}: not a PID active on a CPU (without a vmlinux, only the CPUs' active tasks are known)`,
        );
    } else chosen = [notes.find((n) => n.index === panicked) ?? notes[0]!];
  }
  const current = (cpu: number): bigint | undefined => {
    const at = perCpuSymbolAddress(prog, 'current_task', cpu);
    const t = at === undefined ? undefined : prog.memory.tryReadVirt(at, 8, 'current_task');
    return t ? new DataView(t.buffer, t.byteOffset, 8).getBigUint64(0, true) : undefined;
  };
  return chosen.map((n) => {
    const u = unwindCpu(prog, n, n.index === panicked);
    return {
      cpuNote: { pid: n.pid, cpu: n.index, task: current(n.index) },
      ...framesOf(prog, u, n.index, opts, u.stacks),
    };
  });
}

export const bt: Command<BtResult> = {
  name: 'bt',
  resultType: 'BtResult',
  summary: 'backtrace',
  help: `NAME
  bt - backtrace

SYNOPSIS
  bt [-a] [-l] [-f] [pid | taskp]...

DESCRIPTION
  The kernel stack of a task, as crash shows it, unwound with the kernel's own
  ORC tables: the task that panicked from its CPU's saved registers, the other
  CPUs' active tasks from their NMI stacks, sleeping tasks from their switch
  frame. Exception frames show their registers; a change of stack (NMI, #MC,
  IRQ ...) is marked. A module function's frame ends with its module, "[module]".
  With no argument, the current context (set): at start-up the panic task.

  Without a vmlinux, bt still works for the tasks active on the CPUs: the
  symbols come from the kernel's kallsyms and the ORC tables from the kernel
  image, both read from the dump; the header gives the PID and task, but not
  the command name (that needs the vmlinux's struct task_struct), and pid
  arguments must be active on a CPU.

    -a   the active task of every CPU
    -l   each frame's source file and line
    -f   each frame's stack contents
    pid | taskp   these tasks

EXAMPLES
  bt
  bt -a
  bt -l 1234
  foreach UN bt
`,
  async run(ctx: CommandContext, args: string[]): Promise<BtResult> {
    const prog = ctx.program;
    loadModuleSymbols(prog);
    const opts: BtOptions = { lines: false, frames: false };
    let all = false;
    const sel: string[] = [];
    for (const a of args) {
      if (/^-[alf]+$/.test(a)) {
        for (const ch of a.slice(1)) {
          if (ch === 'a') all = true;
          else if (ch === 'l') opts.lines = true;
          else if (ch === 'f') opts.frames = true;
        }
      } else if (a.startsWith('-')) throw new CommandError(`unsupported option ${a}`);
      else sel.push(a);
    }
    if (!prog.hasDebugInfo) return { tasks: cpuBacktraces(prog, all, sel, opts), options: opts };
    let tasks: Obj[];
    if (all) {
      const active = activeTasks(prog);
      tasks = [...active.entries()].sort((a, b) => a[1] - b[1]).map(([, c]) => cpuCurr(prog, c));
    } else if (sel.length) tasks = sel.flatMap((s) => resolveTasks(prog, s));
    else tasks = [currentTask(prog)];
    if (tasks.length === 0) throw new CommandError('no task');
    return { tasks: tasks.map((t) => backtraceOf(prog, t, opts)), options: opts };
  },
  text(r, ctx) {
    ctx.out(r.tasks.map(backtraceText).join('\n'));
  },
};
