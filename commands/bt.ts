import { loadModuleSymbols } from '../helpers/modules.js';
import { perCpuSymbolAddress } from '../helpers/percpu.js';
import { type StackRange, stackOf } from '../helpers/stacks.js';
import { activeTasks, cpuCurr, panicCpu, taskCpu } from '../helpers/tasks.js';
import { type Frame, type Registers, readPtRegs, type Unwind, unwindCpu, unwindTaskForBt } from '../helpers/unwind.js';
import { CommandError, FaultError } from '../program/index.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { currentTask, resolveTasks, taskHeader } from './lib/context.js';
import type { Command } from './registry.js';

const hx = (v: bigint, w = 16): string => v.toString(16).padStart(w, '0');

/** A text address as crash names it in a backtrace: `name` or `name+offset`; the module is not part of it. */
function symbolText(prog: Program, ip: bigint, withOffset: boolean): string {
  const r = prog.symbols.symbolize(ip);
  if (!r) return hx(ip);
  return `${r.symbol.name}${withOffset && r.offset ? `+${r.offset}` : ''}`;
}

/** crash's module tag after a frame's address: ` [module]` when the address is a module's text. */
function moduleTag(prog: Program, ip: bigint): string {
  const mod = prog.symbols.symbolize(ip)?.symbol.module;
  return mod ? ` [${mod}]` : '';
}

/** crash's register block of an exception frame (kernel: headed by `[exception RIP: fn+off]`). */
function regsBlock(prog: Program, r: Registers, kernel: boolean): string {
  const g = (n: string): bigint => r[n] ?? 0n;
  let s = kernel ? `    [exception RIP: ${symbolText(prog, r.ip, true)}]\n` : '';
  s += `    RIP: ${hx(g('ip'))}  RSP: ${hx(g('sp'))}  RFLAGS: ${hx(g('flags'), 8)}\n`;
  s += `    RAX: ${hx(g('ax'))}  RBX: ${hx(g('bx'))}  RCX: ${hx(g('cx'))}\n`;
  s += `    RDX: ${hx(g('dx'))}  RSI: ${hx(g('si'))}  RDI: ${hx(g('di'))}\n`;
  s += `    RBP: ${hx(g('bp'))}   R8: ${hx(g('r8'))}   R9: ${hx(g('r9'))}\n`;
  s += `    R10: ${hx(g('r10'))}  R11: ${hx(g('r11'))}  R12: ${hx(g('r12'))}\n`;
  s += `    R13: ${hx(g('r13'))}  R14: ${hx(g('r14'))}  R15: ${hx(g('r15'))}\n`;
  s += `    ORIG_RAX: ${hx(g('orig_ax'))}  CS: ${hx(g('cs'), 4)}  SS: ${hx(g('ss'), 4)}\n`;
  return s;
}

interface BtOptions {
  lines: boolean;
  frames: boolean;
}

function frameLine(prog: Program, i: number, f: Frame, opts: BtOptions): string {
  let s = `${`#${i}`.padStart(3)} [${hx(f.sp)}] ${symbolText(prog, f.ip, false)} at ${hx(f.ip)}${moduleTag(prog, f.ip)}\n`;
  if (opts.lines) {
    const l = prog.lineFor(f.isReturn ? f.ip - 1n : f.ip);
    if (l) s += `    ${l.file}: ${l.line}\n`;
  }
  return s;
}

/** The frame's stack contents (bt -f): the words between this frame's slot and the next one's. */
function frameWords(prog: Program, from: bigint, to: bigint): string {
  if (to <= from || to - from > 8192n) return '';
  let s = '';
  const words: bigint[] = [];
  for (let a = from; a < to; a += 8n) {
    try {
      words.push(prog.memory.readU64(a, 'stack'));
    } catch (e) {
      if (e instanceof FaultError) break;
      throw e;
    }
  }
  for (let i = 0; i < words.length; i += 2) {
    s += `    ${hx(from + BigInt(i * 8))}: ${words
      .slice(i, i + 2)
      .map((w) => hx(w))
      .join(' ')} \n`;
  }
  return s;
}

export function backtrace(prog: Program, task: Obj, opts: BtOptions): string {
  const u = unwindTaskForBt(prog, task, panicCpu(prog));
  // crash's words for a task whose stack is gone (an exited task: task_struct.stack is NULL).
  if (u.noStack) return `${taskHeader(task)}\n(no stack)\n`;
  return `${taskHeader(task)}\n${framesText(prog, u, u.cpu ?? taskCpu(task), opts)}`;
}

/** The frames of an unwind as crash prints them: exception frames' registers, stack changes, -l and -f. */
function framesText(
  prog: Program,
  u: Unwind & { cpuRegs?: Registers },
  cpu: number,
  opts: BtOptions,
  /** The stacks to name (default: the CPU's, from the vmlinux's variables). */
  stacks?: StackRange[],
): string {
  const stackAt = (a: bigint): StackRange | undefined =>
    stacks ? stacks.find((st) => a >= st.start && a < st.end) : stackOf(prog, cpu, a);
  let out = '';
  const frames = u.frames;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (i > 0 && f.regs !== undefined) {
      const r = readPtRegs(prog, f.regs);
      if (r) out += regsBlock(prog, r, true);
      const from = stackAt(frames[i - 1]!.sp);
      const to = stackAt(f.sp);
      if (from && from !== to) out += `--- <${from.name}> ---\n`;
    } else if (i > 0) {
      const from = stackAt(frames[i - 1]!.sp);
      const to = stackAt(f.sp);
      if (from && from !== to) out += `--- <${from.name}> ---\n`;
    }
    out += frameLine(prog, i, f, opts);
    if (opts.frames && i + 1 < frames.length) out += frameWords(prog, f.sp + 8n, frames[i + 1]!.sp);
  }
  if (u.userRegs !== undefined) {
    const r = readPtRegs(prog, u.userRegs);
    if (r) out += regsBlock(prog, r, false);
  } else if (frames.length === 0 && u.cpuRegs) {
    out += regsBlock(prog, u.cpuRegs, false);
  }
  if (u.error) out += `bt: ${u.error}\n`;
  return out;
}

/**
 * Without a vmlinux: the CPUs' active tasks only, from their NT_PRSTATUS registers, with symbols from the
 * dump's kallsyms and the ORC tables from the kernel image in memory. The header has the PID from the note
 * and the task from the per-cpu current_task when the kernel has that symbol; the command name needs
 * struct task_struct, which only the vmlinux describes.
 */
function cpuBacktraces(prog: Program, all: boolean, sel: string[], opts: BtOptions): string {
  const notes = prog.cpus;
  if (notes.length === 0) throw new CommandError('bt: the dump has no CPU registers (NT_PRSTATUS notes)');
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
  const current = (cpu: number): string => {
    const at = perCpuSymbolAddress(prog, 'current_task', cpu);
    const t = at === undefined ? undefined : prog.memory.tryReadVirt(at, 8, 'current_task');
    return t ? new DataView(t.buffer, t.byteOffset, 8).getBigUint64(0, true).toString(16) : '?';
  };
  return chosen
    .map((n) => {
      const u = unwindCpu(prog, n, n.index === panicked);
      const head = `PID: ${String(n.pid).padEnd(7)}  TASK: ${current(n.index)}  CPU: ${String(n.index).padEnd(3)}  COMMAND: (no vmlinux)\n`;
      return head + framesText(prog, u, n.index, opts, u.nmiStack ? [u.nmiStack] : []);
    })
    .join('\n');
}

export const bt: Command = {
  name: 'bt',
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
  async run(ctx, args) {
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
      } else if (a.startsWith('-')) throw new CommandError(`bt: unsupported option ${a}`);
      else sel.push(a);
    }
    if (!prog.vmlinux) {
      ctx.out(cpuBacktraces(prog, all, sel, opts));
      return;
    }
    let tasks: Obj[];
    if (all) {
      const active = activeTasks(prog);
      tasks = [...active.entries()].sort((a, b) => a[1] - b[1]).map(([, c]) => cpuCurr(prog, c));
    } else if (sel.length) tasks = sel.flatMap((s) => resolveTasks(prog, s));
    else tasks = [currentTask(prog)];
    if (tasks.length === 0) throw new CommandError('bt: no task');
    ctx.out(tasks.map((t) => backtrace(prog, t, opts)).join('\n'));
  },
};
