/**
 * ELF notes as found in vmcores (PT_NOTE of an ELF core, or the note area that
 * makedumpfile copies into a kdump-compressed file): NT_PRSTATUS per CPU with
 * the registers at the time of the crash, the VMCOREINFO note, QEMU's notes.
 */
import type { Dump, DumpNote } from './dump.js';
import { BadDataError } from './errors.js';

export const NT_PRSTATUS = 1;

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Parse a note area (Elf64_Nhdr: namesz, descsz, type, then padded name and desc). With `warnings`, a note that
 * runs past the area (a cut or damaged file) ends the parse with a warning and the notes before it are kept;
 * without, it throws.
 */
export function parseNotes(buf: Uint8Array, file: string, base: number, warnings?: string[]): DumpNote[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const notes: DumpNote[] = [];
  let pos = 0;
  while (pos + 12 <= buf.length) {
    const namesz = dv.getUint32(pos, true);
    const descsz = dv.getUint32(pos + 4, true);
    const type = dv.getUint32(pos + 8, true);
    if (namesz === 0 && descsz === 0 && type === 0) break; // zero padding after the last note
    const nameAt = pos + 12;
    const descAt = nameAt + align4(namesz);
    const end = descAt + align4(descsz);
    if (descAt + descsz > buf.length || namesz > buf.length) {
      const e = new BadDataError(`note (namesz ${namesz}, descsz ${descsz}) runs past the note area`, file, base + pos);
      if (!warnings) throw e;
      warnings.push(`${e.message}: the notes from there on are not read`);
      break;
    }
    let nameEnd = nameAt + namesz;
    while (nameEnd > nameAt && buf[nameEnd - 1] === 0) nameEnd--;
    const name = new TextDecoder('latin1').decode(buf.subarray(nameAt, nameEnd));
    notes.push({ name, type, desc: buf.subarray(descAt, descAt + descsz), offset: base + descAt });
    pos = Math.min(end, buf.length);
  }
  return notes;
}

/** Core-file note types a vmcore's "CORE" notes may have (NT_PRSTATUS, NT_PRFPREG, NT_PRPSINFO, NT_TASKSTRUCT, NT_AUXV). */
const CORE_NOTE_TYPES = new Set([1, 2, 3, 4, 6]);
/** The size of an x86-64 elf_prstatus. */
export const PRSTATUS_SIZE = 336;

/**
 * The NT_PRSTATUS notes' count, checked: a "CORE" note of a type no vmcore has but of NT_PRSTATUS's size is a
 * CPU's registers with a damaged type (a warning naming its offset: that CPU's registers are missing); no
 * NT_PRSTATUS at all is a warning too (no CPU's registers: backtraces of the active tasks cannot start).
 */
export function checkCpuNotes(notes: readonly DumpNote[], file: string, warnings: string[]): number {
  const cpus = notes.filter((n) => n.type === NT_PRSTATUS && n.name === 'CORE').length;
  for (const n of notes) {
    if (n.name !== 'CORE' || CORE_NOTE_TYPES.has(n.type)) continue;
    warnings.push(
      `${file}: offset 0x${n.offset.toString(16)}: a CORE note of type ${n.type}, which no vmcore has${n.desc.length === PRSTATUS_SIZE ? ' (of the size of NT_PRSTATUS: a CPU whose registers are not read)' : ''}`,
    );
  }
  if (cpus === 0)
    warnings.push(
      `${file}: no NT_PRSTATUS note${notes.length === 0 ? ' (no ELF note at all)' : ''}: no CPU's registers at the crash, so the active tasks' backtraces cannot be found`,
    );
  return cpus;
}

/** The VMCOREINFO text of a note list, if present. */
export function vmcoreinfoFromNotes(notes: readonly DumpNote[]): string | undefined {
  const n = notes.find((x) => x.name === 'VMCOREINFO');
  if (!n) return undefined;
  let end = n.desc.length;
  while (end > 0 && n.desc[end - 1] === 0) end--;
  return new TextDecoder('latin1').decode(n.desc.subarray(0, end));
}

/** x86-64 user_regs_struct order, as in elf_prstatus.pr_reg. */
export const X86_64_PR_REG = [
  'r15',
  'r14',
  'r13',
  'r12',
  'rbp',
  'rbx',
  'r11',
  'r10',
  'r9',
  'r8',
  'rax',
  'rcx',
  'rdx',
  'rsi',
  'rdi',
  'orig_rax',
  'rip',
  'cs',
  'eflags',
  'rsp',
  'ss',
  'fs_base',
  'gs_base',
  'ds',
  'es',
  'fs',
  'gs',
] as const;

export interface CpuRegisters {
  /** Index of the NT_PRSTATUS note (crash's and the kernel's order: one per online CPU). */
  index: number;
  pid: number;
  regs: Record<(typeof X86_64_PR_REG)[number], bigint>;
}

/**
 * elf_prstatus on x86-64: elf_siginfo (12) + short cursig (2, padded to 16) +
 * sigpend and sighold (2 x 8) + pid, ppid, pgrp, sid (4 x 4, at 32) + four
 * timevals (4 x 16, at 48) + pr_reg (27 x 8, at 112) + fpvalid. Size 336.
 */
const PR_PID = 32;
const PR_REG = 112;

export function decodePrstatus(desc: Uint8Array, index: number, file = 'vmcore', offset = 0): CpuRegisters {
  if (desc.length < PR_REG + X86_64_PR_REG.length * 8) {
    throw new BadDataError(`NT_PRSTATUS of ${desc.length} bytes is too short for x86-64`, file, offset);
  }
  const dv = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  const regs = {} as Record<(typeof X86_64_PR_REG)[number], bigint>;
  X86_64_PR_REG.forEach((r, i) => {
    regs[r] = dv.getBigUint64(PR_REG + i * 8, true);
  });
  return { index, pid: dv.getInt32(PR_PID, true), regs };
}

/** The registers of every CPU the dump has an NT_PRSTATUS note for, in note order. */
export function prstatusRegisters(dump: Pick<Dump, 'notes' | 'path'>): CpuRegisters[] {
  // A CORE note of NT_PRSTATUS's size whose type was damaged keeps its CPU's place: the CPUs after it keep
  // their numbers (checkCpuNotes warns of it).
  const slots = dump.notes.filter(
    (n) =>
      n.name === 'CORE' &&
      (n.type === NT_PRSTATUS || (!CORE_NOTE_TYPES.has(n.type) && n.desc.length === PRSTATUS_SIZE)),
  );
  const out: CpuRegisters[] = [];
  slots.forEach((n, i) => {
    if (n.type === NT_PRSTATUS) out.push(decodePrstatus(n.desc, i, dump.path, n.offset));
  });
  return out;
}
