/**
 * The ELF vmcore (/proc/vmcore or a saved copy) as a writer input: PT_LOAD
 * segments give physical memory, PT_NOTE the notes (NT_PRSTATUS per CPU and
 * VMCOREINFO). Data is read on demand with positioned reads.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Cursor } from '../cursor.js';
import { BadDataError } from '../errors.js';
import { type DumpSource, InputReadError, type MemorySegment } from './source.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRSTATUS = 1;
const MAX_NOTE_AREA = 64 << 20;
const MAX_PHYS = 2 ** 52; // x86-64 MAX_PHYSMEM_BITS with 5-level paging

export function isElfCore(head: Uint8Array): boolean {
  return head.length >= 20 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

export class ElfSource implements DumpSource {
  readonly segments: MemorySegment[] = [];
  readonly maxPfn: number;
  readonly noteBytes: Uint8Array;
  readonly vmcoreinfoNoteOffset: number = 0;
  readonly vmcoreinfoNoteSize: number = 0;
  readonly vmcoreinfo: string | undefined;
  readonly nrCpus: number = 0;
  readonly elfMachine: number;
  readonly elfHeader: Uint8Array;
  readonly pageSize: number;
  readonly fileSize: number;
  truncatedAt?: number;
  private readonly fd: number;
  /** Segments sorted by paddr for lookup; entries keep the first-listed segment on overlap. */
  private readonly lookup: MemorySegment[];

  constructor(
    readonly path: string,
    pageSizeOverride?: number,
  ) {
    this.fd = openSync(path, 'r');
    try {
      this.fileSize = fstatSync(this.fd).size;
      const ehdr = this.readAt(0, 64);
      const c = new Cursor(ehdr, path);
      this.elfHeader = ehdr;
      if (!isElfCore(ehdr)) c.fail('not an ELF file (bad magic)', 0);
      if (ehdr[4] !== 2) c.fail(`ELF class ${ehdr[4]}: only ELF64 vmcores are supported`, 4);
      if (ehdr[5] !== 1) c.fail('big-endian ELF vmcores are not supported', 5);
      const eType = c.seek(16).u16('e_type');
      if (eType !== 4) c.fail(`e_type ${eType}: not a core file (ET_CORE = 4)`, 16);
      this.elfMachine = c.u16('e_machine');
      const phoff = Number(c.seek(32).u64('e_phoff'));
      const phentsize = c.seek(54).u16('e_phentsize');
      let phnum = c.u16('e_phnum');
      if (phentsize < 56) c.fail(`e_phentsize ${phentsize} < 56`, 54);
      if (phnum === 0xffff) {
        // PN_XNUM: the real count is in section header 0's sh_info
        const shoff = Number(c.seek(40).u64('e_shoff'));
        const sh0 = new Cursor(this.readAt(shoff, 64), path, shoff);
        phnum = sh0.seek(44).u32('sh_info');
      }
      if (phoff + phnum * phentsize > this.fileSize) {
        c.fail(`program headers (${phnum} x ${phentsize} at 0x${phoff.toString(16)}) run past the end of the file`, 32);
      }
      const ph = this.readAt(phoff, phnum * phentsize);
      const pc = new Cursor(ph, path, phoff);
      let noteOff = -1;
      let noteSize = 0;
      for (let i = 0; i < phnum; i++) {
        pc.seek(i * phentsize);
        const type = pc.u32('p_type');
        pc.u32('p_flags');
        const offset = Number(pc.u64('p_offset'));
        const vaddr = pc.u64('p_vaddr');
        const paddr = Number(pc.u64('p_paddr'));
        const filesz = Number(pc.u64('p_filesz'));
        const memsz = Number(pc.u64('p_memsz'));
        if (type === PT_NOTE && noteOff < 0) {
          noteOff = offset;
          noteSize = filesz;
        } else if (type === PT_LOAD && memsz > 0) {
          if (filesz > memsz) pc.fail(`PT_LOAD ${i}: p_filesz 0x${filesz.toString(16)} > p_memsz`, i * phentsize + 32);
          if (paddr + memsz > MAX_PHYS || !Number.isSafeInteger(offset + filesz)) {
            pc.fail(
              `PT_LOAD ${i}: physical range 0x${paddr.toString(16)}+0x${memsz.toString(16)} beyond 2^52`,
              i * phentsize + 24,
            );
          }
          this.segments.push({ paddr, memsz, filesz, offset, vaddr });
        }
      }
      if (this.segments.length === 0) throw new BadDataError('no PT_LOAD segment', path, phoff);
      if (this.segments.some((s) => s.offset + s.filesz > this.fileSize)) this.truncatedAt = this.fileSize;
      if (noteSize > MAX_NOTE_AREA) throw new BadDataError(`PT_NOTE of ${noteSize} bytes is implausible`, path, phoff);
      this.noteBytes = noteOff >= 0 && noteSize > 0 ? this.readAt(noteOff, noteSize) : new Uint8Array(0);
      if (this.noteBytes.length < noteSize) {
        throw new BadDataError(`PT_NOTE truncated: ${this.noteBytes.length} of ${noteSize} bytes`, path, noteOff);
      }
      // walk the notes
      const nc = new Cursor(this.noteBytes, path, noteOff);
      let cpus = 0;
      while (nc.remaining >= 12) {
        const namesz = nc.u32('n_namesz');
        const descsz = nc.u32('n_descsz');
        const type = nc.u32('n_type');
        const nameBytes = nc.bytes(namesz, 'note name');
        nc.skip((4 - (namesz & 3)) & 3, 'note name padding');
        const name = Buffer.from(nameBytes).toString('latin1').replace(/\0+$/, '');
        const descOff = nc.pos;
        if (descsz > nc.remaining) break;
        nc.skip(descsz, 'note desc');
        if (nc.remaining > 0) nc.skip(Math.min((4 - (descsz & 3)) & 3, nc.remaining));
        if (name === 'CORE' && type === NT_PRSTATUS) cpus++;
        else if (name === 'VMCOREINFO' && type === 0 && this.vmcoreinfo === undefined) {
          this.vmcoreinfoNoteOffset = descOff;
          this.vmcoreinfoNoteSize = descsz;
          this.vmcoreinfo = Buffer.from(this.noteBytes.subarray(descOff, descOff + descsz))
            .toString('latin1')
            .replace(/\0+$/, '');
        }
      }
      this.nrCpus = cpus;
      let ps = pageSizeOverride ?? 0;
      if (!ps && this.vmcoreinfo) {
        const m = /^PAGESIZE=(\d+)$/m.exec(this.vmcoreinfo);
        if (m) ps = Number(m[1]);
      }
      if (!ps) ps = 4096;
      if (ps < 512 || ps > 65536 || (ps & (ps - 1)) !== 0) {
        throw new BadDataError(`PAGESIZE ${ps} is not a power of two in 512..65536`, path, noteOff);
      }
      this.pageSize = ps;
      let maxPaddr = 0;
      for (const s of this.segments) maxPaddr = Math.max(maxPaddr, s.paddr + s.memsz);
      this.maxPfn = Math.ceil(maxPaddr / ps);
      if (this.maxPfn / 8 > 2 ** 31) {
        throw new BadDataError(
          `max pfn 0x${this.maxPfn.toString(16)} needs bitmaps over 2 GiB each (more than 64 TiB of memory): not supported`,
          path,
          phoff,
        );
      }
      this.lookup = [...this.segments].sort((a, b) => a.paddr - b.paddr);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  private readAt(off: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, b, done, len - done, off + done);
      if (n <= 0) break;
      done += n;
    }
    return done === len ? b : b.subarray(0, done);
  }

  /** The segment holding paddr (first listed wins on overlap), or undefined. */
  segmentOf(paddr: number): MemorySegment | undefined {
    const l = this.lookup;
    let lo = 0;
    let hi = l.length - 1;
    let found: MemorySegment | undefined;
    // segments may overlap (kernel text PT_LOAD inside a RAM PT_LOAD): scan linearly when few
    if (l.length <= 64) {
      for (const s of this.segments) if (paddr >= s.paddr && paddr < s.paddr + s.memsz) return s;
      return undefined;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = l[mid]!;
      if (paddr < s.paddr) hi = mid - 1;
      else {
        if (paddr < s.paddr + s.memsz) found = s;
        lo = mid + 1;
      }
    }
    if (found) return found;
    for (const s of this.segments) if (paddr >= s.paddr && paddr < s.paddr + s.memsz) return s;
    return undefined;
  }

  hasPfn(pfn: number): boolean {
    return this.segmentOf(pfn * this.pageSize) !== undefined;
  }

  readPhys(paddr: number, len: number, dst: Uint8Array, dstOff = 0): void {
    let done = 0;
    while (done < len) {
      const pa = paddr + done;
      const s = this.segmentOf(pa);
      const pfn = Math.floor(pa / this.pageSize);
      if (!s) throw new InputReadError(`physical address 0x${pa.toString(16)} is not in the dump`, pfn);
      const inSeg = pa - s.paddr;
      const n = Math.min(len - done, s.memsz - inSeg);
      this.readSeg(s, inSeg, n, dst, dstOff + done, pfn);
      done += n;
    }
  }

  private readSeg(s: MemorySegment, inSeg: number, n: number, dst: Uint8Array, at: number, pfn: number): void {
    const fileN = Math.max(0, Math.min(n, s.filesz - inSeg));
    if (fileN > 0) {
      const off = s.offset + inSeg;
      let got = 0;
      while (got < fileN) {
        let r: number;
        try {
          r = readSync(this.fd, dst, at + got, fileN - got, off + got);
        } catch (e) {
          const bad = pfn + Math.floor(got / this.pageSize);
          throw new InputReadError(
            `${this.path}: read error at offset 0x${(off + got).toString(16)} (pfn 0x${bad.toString(16)}): ${(e as Error).message}`,
            bad,
            { cause: e },
          );
        }
        if (r <= 0) {
          const bad = pfn + Math.floor(got / this.pageSize);
          throw new InputReadError(
            `${this.path}: file ends at 0x${this.fileSize.toString(16)}, pfn 0x${bad.toString(16)} needs offset 0x${(off + got).toString(16)} (truncated dump)`,
            bad,
          );
        }
        got += r;
      }
    }
    if (fileN < n) dst.fill(0, at + fileN, at + n);
  }

  private span = new Uint8Array(0);

  readPageList(pfns: Float64Array, count: number, dst: Uint8Array, dstOff: number): void {
    const ps = this.pageSize;
    const MAX_GAP = 16;
    const MAX_SPAN = 256;
    let i = 0;
    while (i < count) {
      const first = pfns[i]!;
      const seg = this.segmentOf(first * ps);
      if (!seg || seg.filesz < seg.memsz) {
        this.readPages(first, 1, dst, dstOff + i * ps);
        i++;
        continue;
      }
      // extend the span over pfns close together inside the same file-backed segment
      const segEndPfn = Math.floor((seg.paddr + seg.filesz) / ps);
      let j = i + 1;
      while (
        j < count &&
        pfns[j]! - pfns[j - 1]! <= MAX_GAP &&
        pfns[j]! - first < MAX_SPAN &&
        pfns[j]! < segEndPfn &&
        this.segmentOf(pfns[j]! * ps) === seg
      ) {
        j++;
      }
      const last = pfns[j - 1]!;
      const spanPages = last - first + 1;
      if (spanPages === j - i) {
        this.readPages(first, spanPages, dst, dstOff + i * ps); // contiguous: straight into place
      } else {
        if (this.span.length < spanPages * ps) this.span = new Uint8Array(MAX_SPAN * ps);
        this.readPages(first, spanPages, this.span, 0);
        for (let k = i; k < j; k++) {
          const o = (pfns[k]! - first) * ps;
          dst.set(this.span.subarray(o, o + ps), dstOff + k * ps);
        }
      }
      i = j;
    }
  }

  readPages(pfn: number, count: number, dst: Uint8Array, dstOff: number): void {
    this.readPhys(pfn * this.pageSize, count * this.pageSize, dst, dstOff);
  }

  close(): void {
    closeSync(this.fd);
  }
}
