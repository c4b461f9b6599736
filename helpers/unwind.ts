/**
 * Kernel stack unwinding with the ORC tables (x86-64), as the kernel's own
 * unwind_orc.c walks them: from a CPU's saved registers (NT_PRSTATUS) or a
 * sleeping task's inactive_task_frame, through call frames, exception frames
 * (full pt_regs) and IRET frames, across stack switches. Every read is
 * checked; the walk ends with a reason instead of looping.
 */

import type { CpuRegisters } from '../core/elf-notes.js';
import { FaultError } from '../core/errors.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import { ElfFile } from '../symbols/elf.js';
import {
  ORC_REG_BP,
  ORC_REG_BP_INDIRECT,
  ORC_REG_DI,
  ORC_REG_DX,
  ORC_REG_PREV_SP,
  ORC_REG_R10,
  ORC_REG_R13,
  ORC_REG_SP,
  ORC_REG_SP_INDIRECT,
  ORC_REG_UNDEFINED,
  OrcTable,
  orcVersionFromMembers,
} from '../symbols/orc.js';
import { perCpuSymbolAddress } from './percpu.js';
import { cpuStacks, type StackRange } from './stacks.js';
import { activeTasks, cpuCurr, taskPid } from './tasks.js';

const MAX_FRAMES = 256;
const MASK64 = (1n << 64n) - 1n;

/** Registers of a frame or a CPU: ip, sp, bp and the others known. */
export interface Registers {
  ip: bigint;
  sp: bigint;
  bp: bigint;
  /** Other registers when known (from pt_regs or NT_PRSTATUS): r10, r13, di, dx, cs ... */
  [name: string]: bigint;
}

/** One frame of an unwind: the stack slot, the pc, whether it is a return address, an exception frame. */
export interface Frame {
  /** The stack slot crash shows in brackets: where this frame's return address was found (or the start sp). */
  sp: bigint;
  ip: bigint;
  /** This frame's ip is a return address (look up ip - 1), not an interrupted instruction. */
  isReturn: boolean;
  /** The exception frame (struct pt_regs address) this frame was entered from, when it came from one. */
  regs?: bigint;
  /** The regs frame is only partial (an IRET frame). */
  partialRegs?: boolean;
}

/** The result of an unwind: its frames, the user-mode registers where it left the kernel, and why it stopped. */
export interface Unwind {
  frames: Frame[];
  /** Registers where the walk left the kernel (user mode), from the last exception frame. */
  userRegs?: bigint;
  /** Why the walk stopped, when not at a normal end of stack. */
  error?: string;
  /** The task has no kernel stack (task_struct.stack is NULL: it exited and the stack was released). */
  noStack?: boolean;
}

interface UnwindContext {
  prog: Program;
  orc: OrcTable;
  kaslr: bigint;
  ptRegs: Record<string, number>;
  ptRegsSize: number;
}

/** Each Program's, made again when the Program takes a vmlinux mid-session (its epoch: the vmlinux's ORC then). */
const contexts = new WeakMap<Program, UnwindContext & { epoch: number }>();

const PT_REGS = [
  'r15',
  'r14',
  'r13',
  'r12',
  'bp',
  'bx',
  'r11',
  'r10',
  'r9',
  'r8',
  'ax',
  'cx',
  'dx',
  'si',
  'di',
  'orig_ax',
  'ip',
  'cs',
  'flags',
  'sp',
  'ss',
];

/**
 * With no vmlinux: the ORC tables from the kernel image in the dump, between the kallsyms symbols
 * __start_orc_unwind_ip / __stop_orc_unwind_ip and __start_orc_unwind, at run-time addresses; the format
 * version from .orc_header's presence or the data; pt_regs in the x86-64 entry code's fixed order.
 */
function contextFromMemory(prog: Program): UnwindContext {
  const addr = (n: string): bigint | undefined => prog.symbolAddress(n);
  const ipStart = addr('__start_orc_unwind_ip');
  const ipStop = addr('__stop_orc_unwind_ip');
  const unwind = addr('__start_orc_unwind');
  if (ipStart === undefined || ipStop === undefined || unwind === undefined || ipStop <= ipStart)
    throw new FaultError(
      "the dump's kallsyms has no __start_orc_unwind_ip / __stop_orc_unwind_ip / __start_orc_unwind: bt without a vmlinux needs CONFIG_UNWINDER_ORC and CONFIG_KALLSYMS_ALL",
      0n,
      'virtual',
      'corrupt',
      'orc',
    );
  const n = Number(ipStop - ipStart) / 4;
  if (!Number.isInteger(n) || n > 8_000_000)
    throw new FaultError(`implausible ORC table of ${ipStop - ipStart} bytes`, ipStart, 'virtual', 'corrupt', 'orc');
  const ipBytes = prog.memory.readVirt(ipStart, n * 4, 'ORC ip table');
  const unwindBytes = prog.memory.readVirt(unwind, n * 6, 'ORC entries');
  const orc = OrcTable.fromBytes(ipBytes, unwindBytes, ipStart, {
    hasHeader: addr('__start_orc_header') !== undefined ? true : undefined,
    source: 'the dump (kallsyms)',
  });
  const ptRegs: Record<string, number> = {};
  PT_REGS.forEach((r, i) => {
    ptRegs[r] = i * 8;
  });
  return { prog, orc, kaslr: 0n, ptRegs, ptRegsSize: PT_REGS.length * 8 };
}

function context(prog: Program): UnwindContext {
  const hit = contexts.get(prog);
  if (hit && hit.epoch === prog.epoch) return hit;
  if (!prog.vmlinux) {
    if (!prog.hasDump) prog.requireDebugInfo('bt');
    const c = contextFromMemory(prog);
    contexts.set(prog, { ...c, epoch: prog.epoch });
    return c;
  }
  const elf = ElfFile.open(prog.vmlinux);
  let version: 1 | 2 | 3 | undefined;
  const orcType = prog.debug.findType('struct orc_entry');
  if (orcType && orcType.kind === 'struct') {
    version = orcVersionFromMembers(orcType.members.map((m) => ({ name: m.name ?? '', bitSize: m.bitSize })));
  }
  const orc = OrcTable.fromElf(elf, { version });
  if (!orc)
    throw new FaultError(
      `${prog.vmlinux} has no .orc_unwind tables: bt needs a kernel built with CONFIG_UNWINDER_ORC`,
      0n,
      'virtual',
      'corrupt',
      'orc',
    );
  const ptRegs: Record<string, number> = {};
  const t = prog.type('struct pt_regs');
  for (const r of PT_REGS) {
    try {
      ptRegs[r] = prog.offsetOf(t, r);
    } catch {
      // Older layouts name some registers differently; those are not needed for unwinding.
    }
  }
  const ctx = { prog, orc, kaslr: prog.memory.kaslrOffset, ptRegs, ptRegsSize: prog.sizeof('struct pt_regs') };
  contexts.set(prog, { ...ctx, epoch: prog.epoch });
  return ctx;
}

function read(prog: Program, addr: bigint, what: string): bigint | undefined {
  try {
    return prog.memory.readU64(addr, what);
  } catch (e) {
    if (e instanceof FaultError) return undefined;
    throw e;
  }
}

/** Is `v` a kernel text address right after a call instruction (a plausible return address)? */
export function isReturnAddress(prog: Program, v: bigint): boolean {
  const c = context(prog);
  if (v < 0xffff800000000000n) return false;
  const e = c.orc.find(v - 1n - c.kaslr);
  if (!e) return false;
  let code: Uint8Array;
  try {
    code = prog.memory.readVirt(v - 7n, 7, 'code');
  } catch (err) {
    if (err instanceof FaultError) return false;
    throw err;
  }
  // call rel32 (e8), call *%reg (ff d0+r), call *disp8(%reg) (ff 50+r xx), call *disp32(%rip) (ff 15 xxxxxxxx).
  if (code[2] === 0xe8) return true;
  if (code[5] === 0xff && (code[6]! & 0xf8) === 0xd0) return true;
  if (code[4] === 0xff && (code[5]! & 0xf8) === 0x50) return true;
  if (code[1] === 0xff && code[2] === 0x15) return true;
  return false;
}

const SCAN_LIMIT = 8192;

function scanForReturn(c: UnwindContext, sp: bigint): { slot: bigint; ip: bigint } | undefined {
  for (let a = sp; a < sp + BigInt(SCAN_LIMIT); a += 8n) {
    const v = read(c.prog, a, 'stack');
    if (v === undefined) return undefined;
    if (isReturnAddress(c.prog, v)) return { slot: a, ip: v };
  }
  return undefined;
}

/** Registers saved in a struct pt_regs at `addr`. */
export function readPtRegs(prog: Program, addr: bigint): Registers | undefined {
  const c = context(prog);
  const out: Record<string, bigint> = {};
  for (const [name, off] of Object.entries(c.ptRegs)) {
    const v = read(prog, addr + BigInt(off), `pt_regs.${name}`);
    if (v === undefined) return undefined;
    out[name] = v;
  }
  return out as Registers;
}

/** Whether the registers were saved in user mode (their code segment has privilege level 3). */
export function isUserMode(regs: Registers): boolean {
  return regs.cs !== undefined && (regs.cs & 3n) !== 0n;
}

/** Walk the stack from a register state. */
export function unwindFrom(
  prog: Program,
  start: Registers,
  opts: { isReturn?: boolean; firstSp?: bigint } = {},
): Unwind {
  const c = context(prog);
  const frames: Frame[] = [];
  let ip = start.ip;
  let sp = start.sp;
  let bp = start.bp;
  let regs: Registers | undefined = start.r10 !== undefined ? start : undefined;
  let regsAddr: bigint | undefined;
  let partial = false;
  let isReturn = opts.isReturn ?? false;
  let slot = opts.firstSp ?? sp;
  const seen = new Set<string>();
  for (let n = 0; n < MAX_FRAMES; n++) {
    frames.push({ sp: slot, ip, isReturn, regs: regsAddr, partialRegs: regsAddr !== undefined ? partial : undefined });
    const key = `${ip}:${sp}`;
    if (seen.has(key)) return { frames, error: `the stack loops at ip 0x${ip.toString(16)}, sp 0x${sp.toString(16)}` };
    seen.add(key);
    let entry = c.orc.find((isReturn ? ip - 1n : ip) - c.kaslr);
    // An ip taken with _THIS_IP_ (crash_setup_regs) can sit where the table has no entry of its own: the
    // entry of the instruction before it describes the same frame.
    if (entry && !isReturn && n === 0 && (entry.type === 'undefined' || entry.spReg === ORC_REG_UNDEFINED)) {
      entry = c.orc.find(ip - 1n - c.kaslr) ?? entry;
    }
    if (entry && (entry.end || entry.type === 'end_of_stack')) return { frames };
    if (!entry || entry.type === 'undefined' || entry.spReg === ORC_REG_UNDEFINED) {
      // Code the ORC tables do not cover (objtool skips some files, e.g. kexec_core.c): find the caller's
      // return address on the stack, as crash does.
      const found = scanForReturn(c, sp);
      if (!found)
        return {
          frames,
          error: `no ORC data for 0x${ip.toString(16)} and no return address above 0x${sp.toString(16)}`,
        };
      ip = found.ip;
      sp = found.slot + 8n;
      slot = found.slot;
      isReturn = true;
      regs = undefined;
      regsAddr = undefined;
      continue;
    }
    // The CFA (the stack pointer before the call or exception).
    let cfa: bigint | undefined;
    let indirect = false;
    switch (entry.spReg) {
      case ORC_REG_SP:
        cfa = sp + BigInt(entry.spOffset);
        break;
      case ORC_REG_BP:
        cfa = bp + BigInt(entry.spOffset);
        break;
      case ORC_REG_SP_INDIRECT:
        cfa = sp;
        indirect = true;
        break;
      case ORC_REG_BP_INDIRECT:
        cfa = bp + BigInt(entry.spOffset);
        indirect = true;
        break;
      case ORC_REG_R10:
        cfa = regs?.r10;
        break;
      case ORC_REG_R13:
        cfa = regs?.r13;
        break;
      case ORC_REG_DI:
        cfa = regs?.di;
        break;
      case ORC_REG_DX:
        cfa = regs?.dx;
        break;
      default:
        cfa = undefined;
    }
    if (cfa === undefined) return { frames, error: `unsupported ORC sp_reg ${entry.spReg} at 0x${ip.toString(16)}` };
    cfa &= MASK64;
    if (indirect) {
      const v = read(c.prog, cfa, 'indirect stack pointer');
      if (v === undefined) return { frames, error: `cannot read the stack at 0x${cfa.toString(16)}` };
      cfa = entry.spReg === ORC_REG_SP_INDIRECT ? v + BigInt(entry.spOffset) : v;
    }
    let nextIp: bigint | undefined;
    let nextSp: bigint;
    let nextRegs: Registers | undefined;
    let nextRegsAddr: bigint | undefined;
    let nextPartial = false;
    let nextSlot: bigint;
    if (entry.type === 'call') {
      nextSlot = cfa - 8n;
      nextIp = read(c.prog, nextSlot, 'return address');
      nextSp = cfa;
      isReturn = true;
    } else if (entry.type === 'regs') {
      const r = readPtRegs(c.prog, cfa);
      if (!r) return { frames, error: `cannot read the exception frame at 0x${cfa.toString(16)}` };
      nextRegs = r;
      nextRegsAddr = cfa;
      nextIp = r.ip;
      nextSp = r.sp;
      nextSlot = r.sp;
      isReturn = false;
    } else {
      // An IRET frame: ip, cs, flags, sp, ss at the CFA; the pt_regs it belongs to starts before it.
      const base = cfa - BigInt(c.ptRegs.ip ?? 0);
      const r = readPtRegs(c.prog, base);
      if (!r) return { frames, error: `cannot read the IRET frame at 0x${cfa.toString(16)}` };
      nextRegs = r;
      nextRegsAddr = base;
      nextPartial = true;
      nextIp = r.ip;
      nextSp = r.sp;
      nextSlot = r.sp;
      isReturn = false;
    }
    if (nextIp === undefined)
      return { frames, error: `cannot read the return address at 0x${(cfa - 8n).toString(16)}` };
    // BP.
    switch (entry.bpReg) {
      case ORC_REG_UNDEFINED:
        if (nextRegs && !nextPartial) bp = nextRegs.bp;
        break;
      case ORC_REG_PREV_SP: {
        const v = read(c.prog, cfa + BigInt(entry.bpOffset), 'saved bp');
        if (v === undefined) return { frames, error: 'cannot read the saved frame pointer' };
        bp = v;
        break;
      }
      case ORC_REG_BP: {
        const v = read(c.prog, bp + BigInt(entry.bpOffset), 'saved bp');
        if (v === undefined) return { frames, error: 'cannot read the saved frame pointer' };
        bp = v;
        break;
      }
    }
    if (nextRegs && isUserMode(nextRegs)) return { frames, userRegs: nextRegsAddr };
    if (nextIp === 0n) return { frames };
    ip = nextIp;
    sp = nextSp;
    regs = nextRegs ?? (entry.type === 'call' ? undefined : regs);
    regsAddr = nextRegsAddr;
    partial = nextPartial;
    slot = nextSlot;
  }
  return { frames, error: `more than ${MAX_FRAMES} frames` };
}

/** The NT_PRSTATUS registers of the CPU a task was running on, if it was running at the crash. */
export function savedRegisters(prog: Program, task: Obj): { cpu: number; regs: Registers } | undefined {
  const cpu = activeTasks(prog).get(task.address as bigint);
  if (cpu === undefined) return undefined;
  const pid = taskPid(task);
  const notes = prog.cpus;
  const note: CpuRegisters | undefined =
    notes.find((n) => n.index === cpu && n.pid === pid) ??
    notes.find((n) => n.pid === pid && pid !== 0) ??
    notes.find((n) => n.index === cpu);
  if (!note || cpuCurr(prog, cpu).address !== task.address) return undefined;
  return { cpu, regs: noteRegisters(note) };
}

/** A CPU's NT_PRSTATUS registers in the unwinder's names. */
export function noteRegisters(note: CpuRegisters): Registers {
  const r = note.regs;
  return {
    ip: r.rip,
    sp: r.rsp,
    bp: r.rbp,
    r10: r.r10,
    r13: r.r13,
    di: r.rdi,
    dx: r.rdx,
    cs: r.cs,
    r15: r.r15,
    r14: r.r14,
    r12: r.r12,
    bx: r.rbx,
    r11: r.r11,
    r9: r.r9,
    r8: r.r8,
    ax: r.rax,
    cx: r.rcx,
    si: r.rsi,
    orig_ax: r.orig_rax,
    flags: r.eflags,
    ss: r.ss,
  };
}

/**
 * Unwind a CPU from its NT_PRSTATUS registers alone (no task, no debug info: the session without a vmlinux):
 * the CPU that panicked from the return address into machine_kexec, as crash shows it, the others from the
 * context the crash NMI interrupted.
 */
export function unwindCpu(
  prog: Program,
  note: CpuRegisters,
  panicked: boolean,
): Unwind & { cpuRegs: Registers; stacks: StackRange[] } {
  const regs = noteRegisters(note);
  let slot: bigint | undefined;
  let nmiStack: StackRange | undefined;
  if (panicked) {
    if (!isUserMode(regs)) slot = findReturnInto(prog, 'machine_kexec', regs.sp - 4096n, regs.sp);
  } else {
    // The crash NMI's handler frames: on the NMI stack (one of the TSS's interrupt stacks) when it came from
    // the kernel, on the task's stack when it came from user mode. The interrupt stack the handler ran on is,
    // by that, the NMI stack: its extent is the mapped pages below its top (guard pages bound it).
    for (const c of nmiStackCandidates(prog, note.index)) {
      slot = findReturnInto(prog, 'crash_nmi_callback', c.lo, c.hi);
      if (slot === undefined) continue;
      if (c.interrupt) {
        let start = c.hi;
        while (start > c.lo && read(prog, start - 4096n, 'NMI stack') !== undefined) start -= 4096n;
        nmiStack = { name: 'NMI exception stack', start, end: c.hi };
      }
      break;
    }
  }
  let u: Unwind;
  if (slot !== undefined) {
    const ip = prog.memory.readU64(slot, 'return address');
    u = unwindFrom(prog, { ip, sp: slot + 8n, bp: regs.bp }, { isReturn: true, firstSp: slot });
  } else if (isUserMode(regs)) return { frames: [], cpuRegs: regs, stacks: [] };
  else u = unwindFrom(prog, regs);
  return { ...u, cpuRegs: regs, stacks: interruptStacksOf(prog, note.index, u.frames, nmiStack) };
}

/** The exception entry points whose frames name the interrupt stack they run on, as crash names those stacks. */
const ENTRY_STACKS = new Map([
  ['asm_exc_nmi', 'NMI'],
  ['asm_exc_machine_check', 'MCE'],
  ['asm_exc_double_fault', 'DOUBLEFAULT'],
  ['asm_exc_debug', 'DEBUG'],
  ['asm_exc_vmm_communication', 'VC'],
]);

/**
 * Without debug info, the interrupt stacks a CPU's frames are on: each of the TSS's interrupt stacks (its extent
 * the mapped pages below its top, bounded by guard pages) that holds a frame, named by the exception entry frame
 * on it (asm_exc_machine_check: the MCE exception stack), or the NMI stack the crash NMI's handler was found on.
 */
function interruptStacksOf(prog: Program, cpu: number, frames: Frame[], nmiStack?: StackRange): StackRange[] {
  const out: StackRange[] = nmiStack ? [nmiStack] : [];
  for (const c of nmiStackCandidates(prog, cpu)) {
    if (!c.interrupt) continue;
    let start = c.hi;
    while (start > c.lo && read(prog, start - 4096n, 'interrupt stack') !== undefined) start -= 4096n;
    const on = frames.filter((f) => f.sp >= start && f.sp < c.hi);
    if (on.length === 0 || out.some((s) => s.start === start && s.end === c.hi)) continue;
    let name: string | undefined;
    for (const f of on) {
      const sym = prog.symbols.symbolize(f.ip)?.symbol.name;
      name = sym === undefined ? undefined : ENTRY_STACKS.get(sym);
      if (name) break;
    }
    if (name) out.push({ name: `${name} exception stack`, start, end: c.hi });
  }
  return out;
}

/**
 * Where a CPU's NMI handler can have run, without debug info: below each interrupt stack top of the CPU's TSS
 * (per-cpu cpu_tss_rw; the hardware TSS is at its start and its IST array at byte 36, as the x86-64
 * architecture lays it out), and below the current task's stack top (per-cpu cpu_current_top_of_stack).
 * Only pages in the dump are read: a scan stops at the first missing one.
 */
function nmiStackCandidates(prog: Program, cpu: number): { lo: bigint; hi: bigint; interrupt: boolean }[] {
  const out: { lo: bigint; hi: bigint; interrupt: boolean }[] = [];
  const tss = perCpuSymbolAddress(prog, 'cpu_tss_rw', cpu);
  if (tss !== undefined) {
    for (let i = 0; i < 7; i++) {
      const top = read(prog, tss + 36n + BigInt(i * 8), 'TSS interrupt stack');
      if (top && top >= 0xffff800000000000n) out.push({ lo: top - 16384n, hi: top, interrupt: true });
    }
  }
  const task = perCpuSymbolAddress(prog, 'cpu_current_top_of_stack', cpu);
  const top = task === undefined ? undefined : read(prog, task, 'cpu_current_top_of_stack');
  if (top && top >= 0xffff800000000000n) out.push({ lo: top - 32768n, hi: top, interrupt: false });
  return out;
}

/** A sleeping task's state from thread.sp and the inactive_task_frame __switch_to_asm left there. */
export function sleepingStart(prog: Program, task: Obj): { regs: Registers; frameSp: bigint } {
  const sp = task.member('thread.sp').value();
  const f = prog.object('struct inactive_task_frame', sp, 'inactive_task_frame');
  const size = prog.sizeof('struct inactive_task_frame');
  return {
    regs: { ip: f.member('ret_addr').value(), sp: sp + BigInt(size), bp: f.member('bp').value() },
    frameSp: sp,
  };
}

/** Unwind a task: from its CPU's saved registers when it was running, else from its switch frame. */
export function unwindTask(prog: Program, task: Obj): Unwind & { cpuRegs?: Registers } {
  const saved = savedRegisters(prog, task);
  if (saved) {
    if (isUserMode(saved.regs)) return { frames: [], cpuRegs: saved.regs };
    return { ...unwindFrom(prog, saved.regs), cpuRegs: saved.regs };
  }
  // A task that has exited releases its stack (task_struct.stack is NULL); thread.sp then points into freed or
  // reused memory, whose contents are no frames of this task.
  if (task.hasMember('stack') && task.member('stack').value() === 0n) return { frames: [], noStack: true };
  const s = sleepingStart(prog, task);
  return unwindFrom(prog, s.regs, { isReturn: true, firstSp: s.frameSp });
}

/** The highest stack slot in [lo, hi) holding a return address into `fn` (the live frame of fn's callee). */
function findReturnInto(prog: Program, fn: string, lo: bigint, hi: bigint): bigint | undefined {
  const sym = prog.symbols.lookup(fn);
  if (!sym) return undefined;
  const end = sym.address + BigInt(sym.size || 1);
  for (let a = (hi - 8n) & ~7n; a >= lo; a -= 8n) {
    const v = read(prog, a, 'stack');
    if (v === undefined) return undefined;
    if (v > sym.address && v <= end && isReturnAddress(prog, v)) return a;
  }
  return undefined;
}

/**
 * Unwind a task the way crash's bt shows it: the task that panicked from the return address into
 * machine_kexec (below the registers __crash_kexec saved), the other CPUs' active tasks from their NMI
 * stacks (crash_nmi_callback and the NMI entry, then the interrupted context); sleeping tasks from their
 * switch frame.
 */
export function unwindTaskForBt(
  prog: Program,
  task: Obj,
  panicCpuNo: number | undefined,
): Unwind & { cpuRegs?: Registers; cpu?: number } {
  const saved = savedRegisters(prog, task);
  if (!saved) {
    // A task running at the crash whose CPU has no registers in the dump (its NT_PRSTATUS note missing or
    // damaged): its switch frame is stale, so no frames are made up from it.
    const cpu = activeTasks(prog).get(task.address as bigint);
    if (cpu !== undefined && cpuCurr(prog, cpu).address === task.address)
      return {
        frames: [],
        cpu,
        error: `no registers for CPU ${cpu} in the dump (its NT_PRSTATUS note is missing or damaged: ${prog.cpus.length} notes): the stack of its active task cannot be unwound`,
      };
    return unwindTask(prog, task);
  }
  const { cpu, regs } = saved;
  let slot: bigint | undefined;
  if (cpu === panicCpuNo && !isUserMode(regs)) {
    slot = findReturnInto(prog, 'machine_kexec', regs.sp - 4096n, regs.sp);
  } else {
    // An NMI from kernel mode runs on the NMI stack; one from user mode moves to the task's stack.
    const nmi = cpuStacks(prog, cpu).find((st) => st.name === 'NMI exception stack');
    if (nmi) slot = findReturnInto(prog, 'crash_nmi_callback', nmi.start, nmi.end);
    if (slot === undefined) {
      const base = task.member('stack').value();
      const size = prog.hasType('union thread_union') ? BigInt(prog.sizeof('union thread_union')) : 16384n;
      slot = findReturnInto(prog, 'crash_nmi_callback', base, base + size);
    }
  }
  if (slot !== undefined) {
    const ip = prog.memory.readU64(slot, 'return address');
    const u = unwindFrom(prog, { ip, sp: slot + 8n, bp: regs.bp }, { isReturn: true, firstSp: slot });
    return { ...u, cpuRegs: regs, cpu };
  }
  if (isUserMode(regs)) return { frames: [], cpuRegs: regs, cpu };
  return { ...unwindFrom(prog, regs), cpuRegs: regs, cpu };
}
