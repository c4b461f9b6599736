/**
 * ELF64 vmcores: /proc/vmcore as kdump saves it, `makedumpfile -E`, QEMU's
 * dump-guest-memory. PT_LOAD segments map physical addresses (p_paddr) to file
 * data; where p_filesz < p_memsz the tail reads as zeros. The PT_NOTE segments
 * hold NT_PRSTATUS per CPU and VMCOREINFO.
 */
import type { Dump, DumpInfo, DumpNote, PageState } from '../dump.js';
import { checkCpuNotes, parseNotes, vmcoreinfoFromNotes } from '../elf-notes.js';
import { BadDataError, FaultError } from '../errors.js';
import { PageCache } from '../page-cache.js';
import { checkElfArchitecture } from './arch.js';
import { type ByteSource, readAt } from './source.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const MAX_PHDRS = 1 << 20;
const MAX_NOTES = 64 << 20;
/** File offsets and sizes above this are absurd (and past any file): clamped so arithmetic stays exact. */
const MAX_ADDR = 2 ** 53 - 1;
const START_KERNEL_MAP = 0xffffffff80000000n;

export function isElf64(head: Uint8Array): boolean {
  return (
    head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46 && head[4] === 2
  );
}

interface Segment {
  paddr: number;
  vaddr: bigint;
  offset: number;
  filesz: number;
  memsz: number;
}

export class ElfDump implements Dump {
  readonly path: string;
  readonly pageSize: number;
  readonly maxPfn: number;
  readonly notes: DumpNote[] = [];
  readonly vmcoreinfo: string | undefined;
  readonly info: DumpInfo;
  readonly warnings: string[] = [];
  /** PT_LOADs sorted by physical address. */
  readonly segments: Segment[];
  private readonly cache: PageCache;
  /** maxEndBefore[i]: the highest paddr + memsz among segments[0..i]. */
  private readonly maxEndBefore: Float64Array;

  constructor(
    private readonly src: ByteSource,
    format = 'elf',
  ) {
    this.path = src.name;
    this.warnings.push(...(src.warnings ?? []));
    const file = src.name;
    const h = readAt(src, 0, 64);
    if (h.length < 64 || !isElf64(h)) throw new BadDataError('not an ELF64 file', file, 0);
    checkElfArchitecture(h, file);
    const dv = new DataView(h.buffer, h.byteOffset, 64);
    const type = dv.getUint16(16, true);
    if (type !== 4) throw new BadDataError(`ELF type ${type} is not ET_CORE (4)`, file, 16);
    const machine = dv.getUint16(18, true);
    const phoffBig = dv.getBigUint64(32, true);
    const phoff = phoffBig > BigInt(src.size) ? src.size + 1 : Number(phoffBig);
    const phentsize = dv.getUint16(54, true);
    let phnum = dv.getUint16(56, true);
    if (phentsize < 56) throw new BadDataError(`e_phentsize ${phentsize} < 56`, file, 54);
    if (phnum === 0xffff) {
      // PN_XNUM (a big machine's filtered ELF dump: 65535 program headers or more): the count is section 0's sh_info.
      const shoff = Number(dv.getBigUint64(40, true));
      const sh0 = readAt(src, shoff, 64);
      if (sh0.length < 64)
        throw new BadDataError(
          `e_phnum is PN_XNUM but section header 0 at 0x${shoff.toString(16)} is not in the file`,
          file,
          40,
        );
      phnum = new DataView(sh0.buffer, sh0.byteOffset, 64).getUint32(44, true);
    }
    if (phnum > MAX_PHDRS || phoff + phnum * phentsize > src.size) {
      throw new BadDataError(
        `${phnum} program headers at 0x${phoffBig.toString(16)} run past the end of the file (0x${src.size.toString(16)} bytes): the file is truncated inside its headers`,
        file,
        32,
      );
    }
    const ph = readAt(src, phoff, phnum * phentsize);
    const pv = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
    const segs: (Segment & { phdrAt: number })[] = [];
    /** The first PT_LOAD (in header order) whose data runs past the end of the file, as crash reports it. */
    let short: { offset: number; filesz: number; end: number } | undefined;
    const u64 = (o: number): number => {
      const x = pv.getBigUint64(o, true);
      return x > BigInt(MAX_ADDR) ? MAX_ADDR : Number(x);
    };
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      const at = phoff + o;
      const ptype = pv.getUint32(o, true);
      const offset = u64(o + 8);
      const vaddr = pv.getBigUint64(o + 16, true);
      const paddr = u64(o + 24);
      const filesz = u64(o + 32);
      const memsz = u64(o + 40);
      if (ptype === PT_NOTE) {
        if (filesz > MAX_NOTES) throw new BadDataError(`PT_NOTE of ${filesz} bytes`, file, at);
        const b = readAt(src, offset, filesz);
        if (b.length < filesz)
          this.warnings.push(
            `${file}: the PT_NOTE segment (0x${filesz.toString(16)} bytes at file offset 0x${offset.toString(16)}) runs past the end of the file (0x${src.size.toString(16)} bytes): only the notes before the end were read`,
          );
        this.notes.push(...parseNotes(b, file, offset, this.warnings));
      } else if (ptype === PT_LOAD) {
        if (filesz > memsz) throw new BadDataError(`PT_LOAD p_filesz ${filesz} > p_memsz ${memsz}`, file, at);
        const end = offset + filesz;
        if (end > src.size && !short) short = { offset, filesz, end };
        segs.push({ paddr, vaddr, offset, filesz, memsz, phdrAt: at });
      } else if (ptype !== 0 && ptype < 0x60000000) {
        // PT_NULL and the OS / processor ranges aside, a vmcore has PT_LOAD and PT_NOTE only.
        this.warnings.push(
          `${file}: offset 0x${at.toString(16)}: program header ${i} has type ${ptype}, neither PT_LOAD (1) nor PT_NOTE (4): ignored`,
        );
      }
    }
    this.vmcoreinfo = vmcoreinfoFromNotes(this.notes);
    // The physical address space: NUMBER(MAX_PHYSMEM_BITS) when VMCOREINFO has it, else x86-64's widest (52).
    const bits = Number(/^NUMBER\(MAX_PHYSMEM_BITS\)=(\d+)$/m.exec(this.vmcoreinfo ?? '')?.[1] ?? 52);
    const maxPhys = 2 ** Math.min(Math.max(bits, 32), 52);
    for (const s of segs) {
      if (s.paddr + s.memsz <= maxPhys) continue;
      this.warnings.push(
        `${file}: offset 0x${s.phdrAt.toString(16)}: PT_LOAD at physical 0x${s.paddr.toString(16)} with p_memsz 0x${s.memsz.toString(16)} ends past the ${Math.log2(maxPhys)}-bit physical address space: its size is taken as its p_filesz (0x${s.filesz.toString(16)})`,
      );
      s.memsz = s.filesz;
    }
    segs.sort((a, b) => a.paddr - b.paddr);
    this.checkOverlaps(segs);
    this.segments = segs;
    if (segs.length === 0) {
      const xen = xenSections(src, h);
      if (xen)
        throw new BadDataError(
          `a Xen xc_core dump (sections ${xen}), not a Linux vmcore: tscrash does not read Xen dumps`,
          file,
          0,
        );
      throw new BadDataError('no PT_LOAD segment: this ELF core holds no memory', file, 32);
    }
    this.maxEndBefore = new Float64Array(segs.length);
    let running = 0;
    segs.forEach((s, i) => {
      running = Math.max(running, s.paddr + s.memsz);
      this.maxEndBefore[i] = running;
    });
    const ps = /^PAGESIZE=(\d+)$/m.exec(this.vmcoreinfo ?? '');
    this.pageSize = ps ? Number(ps[1]) : 4096;
    let maxEnd = 0;
    for (const s of segs) maxEnd = Math.max(maxEnd, s.paddr + s.memsz);
    this.maxPfn = Math.ceil(maxEnd / this.pageSize);
    this.cache = new PageCache(this.pageSize);
    const nrCpus = checkCpuNotes(this.notes, file, this.warnings);
    if (short) {
      // crash's words for the same finding (netdump.c), then where reads will stop.
      this.warnings.unshift(
        `${file}: may be truncated or incomplete\n` +
          `         PT_LOAD p_offset: ${short.offset}\n` +
          `                 p_filesz: ${short.filesz}\n` +
          `           bytes required: ${short.end}\n` +
          `            dumpfile size: ${src.size}\n` +
          `         (pages stored past file offset 0x${src.size.toString(16)} cannot be read: each read of one says so)`,
      );
    }
    this.info = {
      format,
      compression: ['none'],
      elfMachine: machine,
      segments: segs.length,
      nrCpus,
      truncated: short !== undefined || undefined,
      truncatedAt: short ? src.size : undefined,
    };
  }

  /**
   * Segments whose physical ranges overlap. The kernel-text PT_LOAD of a kexec vmcore (virtual addresses in the
   * kernel map) legitimately repeats part of a RAM segment; any other overlap is damage: warned, naming the
   * program header's file offset, and a segment whose zero-filled tail (p_memsz past p_filesz) overlaps a later
   * one is cut back to its file data.
   */
  private checkOverlaps(segs: (Segment & { phdrAt: number })[]): void {
    const ram = segs.filter((s) => s.vaddr < START_KERNEL_MAP);
    for (let i = 0; i + 1 < ram.length; i++) {
      const a = ram[i]!;
      const b = ram[i + 1]!;
      if (a.paddr + a.memsz <= b.paddr) continue;
      const cut = a.paddr + a.filesz <= b.paddr;
      this.warnings.push(
        `${this.path}: offset 0x${a.phdrAt.toString(16)}: PT_LOAD [0x${a.paddr.toString(16)}, 0x${(a.paddr + a.memsz).toString(16)}) overlaps the PT_LOAD at 0x${b.paddr.toString(16)} (program header at offset 0x${b.phdrAt.toString(16)})${cut ? `: its size is taken as its p_filesz (0x${a.filesz.toString(16)})` : ': the later one is read where they overlap'}`,
      );
      if (cut) a.memsz = a.filesz;
    }
  }

  /** Segments overlapping [start, end) of physical memory (binary search + scan for overlaps). */
  private overlapping(start: number, end: number): Segment[] {
    const out: Segment[] = [];
    const segs = this.segments;
    // Segments are sorted by paddr; a few may overlap (the kernel-text PT_LOAD), so scan back a little.
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.paddr < end) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && this.maxEndBefore[i]! > start; i--) {
      const s = segs[i]!;
      if (s.paddr + s.memsz > start) out.push(s);
    }
    return out;
  }

  pageState(pfn: number): PageState {
    const a = pfn * this.pageSize;
    const segs = this.overlapping(a, a + this.pageSize);
    if (segs.length === 0) return 'absent';
    let inFile = false;
    for (const s of segs) {
      if (a < s.paddr + s.filesz) {
        const fileEnd = s.offset + (a + this.pageSize - s.paddr);
        if (Math.min(fileEnd, s.offset + s.filesz) > this.src.size) return 'truncated';
        inFile = true;
      }
    }
    return inFile ? 'dumped' : 'zero';
  }

  readPage(pfn: number): Uint8Array {
    const hit = this.cache.get(pfn);
    if (hit) return hit;
    const ps = this.pageSize;
    const a = pfn * ps;
    const segs = this.overlapping(a, a + ps);
    if (segs.length === 0) {
      throw new FaultError(
        `physical address 0x${a.toString(16)} (pfn 0x${pfn.toString(16)}) is not in the dump ${this.path}`,
        BigInt(a),
        'physical',
        'not-in-dump',
        undefined,
        pfn,
      );
    }
    const page = new Uint8Array(ps);
    // Apply segments lowest-first so that, on overlap, the earlier-sorted one is overwritten consistently.
    for (const s of segs.reverse()) {
      const from = Math.max(a, s.paddr);
      const to = Math.min(a + ps, s.paddr + s.filesz);
      if (to <= from) continue;
      const want = to - from;
      const got = this.src.read(page, from - a, want, s.offset + (from - s.paddr));
      if (got < want) {
        throw new FaultError(
          `physical address 0x${a.toString(16)} (pfn 0x${pfn.toString(16)}) lies past the end of the truncated dump ${this.path} (file offset 0x${(s.offset + (from - s.paddr) + got).toString(16)}, size 0x${this.src.size.toString(16)})`,
          BigInt(a),
          'physical',
          'truncated',
          undefined,
          pfn,
        );
      }
    }
    this.cache.set(pfn, page);
    return page;
  }

  *presentPfns(): Iterable<number> {
    const ps = this.pageSize;
    let next = 0;
    for (const s of this.segments) {
      const first = Math.max(Math.floor(s.paddr / ps), next);
      const last = Math.ceil((s.paddr + s.memsz) / ps);
      for (let p = first; p < last; p++) yield p;
      next = Math.max(next, last);
    }
  }

  close(): void {
    this.src.close();
  }
}

/**
 * The Xen sections of an ELF file with no PT_LOAD (xc_core dumps keep guest memory in sections: .xen_pages,
 * .xen_p2m, .note.Xen), or undefined. Reads only the section headers and their name table, all bounds-checked.
 */
function xenSections(src: ByteSource, h: Uint8Array): string | undefined {
  const dv = new DataView(h.buffer, h.byteOffset, 64);
  const shoff = dv.getBigUint64(40, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (shnum === 0 || shentsize < 64 || shstrndx >= shnum || shoff > BigInt(src.size)) return undefined;
  const sh = readAt(src, Number(shoff), shnum * shentsize);
  if (sh.length < shnum * shentsize) return undefined;
  const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
  const strOff = sv.getBigUint64(shstrndx * shentsize + 24, true);
  const strSize = sv.getBigUint64(shstrndx * shentsize + 32, true);
  if (strSize > 1n << 20n || strOff > BigInt(src.size)) return undefined;
  const names = readAt(src, Number(strOff), Number(strSize));
  const found: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = sv.getUint32(i * shentsize, true);
    if (at >= names.length) continue;
    let end = at;
    while (end < names.length && names[end] !== 0) end++;
    const name = String.fromCharCode(...names.subarray(at, Math.min(end, at + 64)));
    if (name.startsWith('.xen_') || name === '.note.Xen') found.push(name);
  }
  return found.length ? found.join(', ') : undefined;
}
