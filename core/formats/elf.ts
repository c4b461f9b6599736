/**
 * ELF64 vmcores: /proc/vmcore as kdump saves it, `makedumpfile -E`, QEMU's
 * dump-guest-memory. PT_LOAD segments map physical addresses (p_paddr) to file
 * data; where p_filesz < p_memsz the tail reads as zeros. The PT_NOTE segments
 * hold NT_PRSTATUS per CPU and VMCOREINFO.
 */
import type { Dump, DumpInfo, DumpNote, PageState } from '../dump.js';
import { parseNotes, vmcoreinfoFromNotes } from '../elf-notes.js';
import { BadDataError, FaultError } from '../errors.js';
import { PageCache } from '../page-cache.js';
import { type ByteSource, readAt } from './source.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const MAX_PHDRS = 1 << 20;
const MAX_NOTES = 64 << 20;

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
    const file = src.name;
    const h = readAt(src, 0, 64);
    if (h.length < 64 || !isElf64(h)) throw new BadDataError('not an ELF64 file', file, 0);
    if (h[5] !== 1) throw new BadDataError('big-endian ELF vmcores are not supported', file, 5);
    const dv = new DataView(h.buffer, h.byteOffset, 64);
    const type = dv.getUint16(16, true);
    if (type !== 4) throw new BadDataError(`ELF type ${type} is not ET_CORE (4)`, file, 16);
    const machine = dv.getUint16(18, true);
    const phoff = Number(dv.getBigUint64(32, true));
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
        `${phnum} program headers at 0x${phoff.toString(16)} run past the end of the file`,
        file,
        32,
      );
    }
    const ph = readAt(src, phoff, phnum * phentsize);
    const pv = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
    const segs: Segment[] = [];
    const noteAreas: Uint8Array[] = [];
    let truncatedSegments = 0;
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      const ptype = pv.getUint32(o, true);
      const offset = Number(pv.getBigUint64(o + 8, true));
      const vaddr = pv.getBigUint64(o + 16, true);
      const paddr = Number(pv.getBigUint64(o + 24, true));
      const filesz = Number(pv.getBigUint64(o + 32, true));
      const memsz = Number(pv.getBigUint64(o + 40, true));
      if (ptype === PT_NOTE) {
        if (filesz > MAX_NOTES) throw new BadDataError(`PT_NOTE of ${filesz} bytes`, file, phoff + o);
        const b = readAt(src, offset, filesz);
        if (b.length < filesz) throw new BadDataError('PT_NOTE runs past the end of the file', file, offset);
        noteAreas.push(b);
        this.notes.push(...parseNotes(b, file, offset));
      } else if (ptype === PT_LOAD) {
        if (filesz > memsz) throw new BadDataError(`PT_LOAD p_filesz ${filesz} > p_memsz ${memsz}`, file, phoff + o);
        if (offset + filesz > src.size) truncatedSegments++;
        segs.push({ paddr, vaddr, offset, filesz, memsz });
      }
    }
    this.segments = segs.sort((a, b) => a.paddr - b.paddr);
    this.maxEndBefore = new Float64Array(segs.length);
    let running = 0;
    segs.forEach((s, i) => {
      running = Math.max(running, s.paddr + s.memsz);
      this.maxEndBefore[i] = running;
    });
    this.vmcoreinfo = vmcoreinfoFromNotes(this.notes);
    const ps = /^PAGESIZE=(\d+)$/m.exec(this.vmcoreinfo ?? '');
    this.pageSize = ps ? Number(ps[1]) : 4096;
    let maxEnd = 0;
    for (const s of segs) maxEnd = Math.max(maxEnd, s.paddr + s.memsz);
    this.maxPfn = Math.ceil(maxEnd / this.pageSize);
    this.cache = new PageCache(this.pageSize);
    this.info = {
      format,
      compression: ['none'],
      elfMachine: machine,
      segments: segs.length,
      nrCpus: this.notes.filter((n) => n.type === 1 && n.name === 'CORE').length,
      truncated: truncatedSegments > 0 || undefined,
    };
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
