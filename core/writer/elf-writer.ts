/**
 * ELF output (makedumpfile -E): the input's ELF header, one PT_NOTE (the notes
 * copied), and PT_LOADs cut from each input PT_LOAD where at least 256
 * consecutive pages are excluded (shorter excluded runs stay in the segment,
 * with their data, exactly as makedumpfile's write_elf_pages_cyclic() does).
 * Zero pages (-d bit 1) are found before the headers are written, because the
 * 2nd bitmap must be final to lay out the PT_LOADs.
 */
import { isZeroPage } from './batch.js';
import type { Bitmap } from './bitmap.js';
import { type Messages, PROGRESS_COPY, PROGRESS_ZERO_PAGES } from './messages.js';
import { NoSpaceError, type OutputSink } from './output.js';
import { type DumpSource, InputReadError } from './source.js';

const PFN_EXCLUDED = 256;
const EHDR = 64;
const PHDR = 56;
const PN_XNUM = 0xffff;
const DUMP_ELF_INCOMPLETE = 0x1;
const CHUNK = 1 << 20;

interface Load {
  paddr: number;
  vaddr: bigint;
  memsz: number;
  filesz: number;
}

/** Clear zero pages from the 2nd bitmap (reads every dumpable page once). Returns how many. */
export function excludeZeroPages(src: DumpSource, bitmap2: Bitmap, msgs: Messages): number {
  const ps = src.pageSize;
  const buf = new Uint8Array(256 * ps);
  let n = 0;
  const total = bitmap2.count();
  let done = 0;
  const t0 = performance.now();
  let pfn = bitmap2.nextSet(0);
  while (pfn >= 0) {
    let run = 1;
    while (run < 256 && pfn + run < bitmap2.nbits && bitmap2.get(pfn + run)) run++;
    src.readPages(pfn, run, buf, 0);
    for (let i = 0; i < run; i++) {
      if (isZeroPage(buf, i * ps, ps)) {
        bitmap2.clear(pfn + i);
        n++;
      }
    }
    done += run;
    msgs.progress(PROGRESS_ZERO_PAGES, done, total, t0);
    const next = pfn + run;
    pfn = next < bitmap2.nbits ? bitmap2.nextSet(next) : -1;
  }
  msgs.progressDone(PROGRESS_ZERO_PAGES, total, t0);
  return n;
}

function planLoads(src: DumpSource, bitmap2: Bitmap): { loads: Load[]; elfExcluded: number } {
  const ps = src.pageSize;
  const loads: Load[] = [];
  let elfExcluded = 0;
  const dumpable = (pfn: number) => pfn < bitmap2.nbits && bitmap2.get(pfn);
  for (const s of src.segments) {
    let pfnStart = Math.floor(s.paddr / ps);
    let pfnEnd = Math.floor((s.paddr + s.memsz) / ps);
    const fracHead = ps - (s.paddr % ps);
    const fracTail = (s.paddr + s.memsz) % ps;
    let memsz = 0;
    let filesz = 0;
    if (fracHead && fracHead !== ps) {
      memsz = fracHead;
      filesz = fracHead;
      pfnStart++;
    }
    if (fracTail) pfnEnd++;
    let cur: Load = { paddr: s.paddr, vaddr: s.vaddr, memsz: 0, filesz: 0 };
    let excluded = 0;
    for (let pfn = pfnStart; pfn < pfnEnd; pfn++) {
      const tail = pfn === pfnEnd - 1 && fracTail !== 0;
      const sz = tail ? fracTail : ps;
      if (!dumpable(pfn)) {
        excluded++;
        memsz += sz;
        continue;
      }
      if (!excluded) {
        memsz += sz;
        filesz += sz;
        continue;
      }
      if (excluded < PFN_EXCLUDED) {
        memsz += sz;
        filesz += ps * excluded + sz;
        excluded = 0;
        continue;
      }
      elfExcluded += excluded;
      cur.memsz = memsz;
      cur.filesz = filesz;
      loads.push(cur);
      cur = { paddr: cur.paddr + memsz, vaddr: cur.vaddr + BigInt(memsz), memsz: 0, filesz: 0 };
      excluded = 0;
      memsz = ps;
      filesz = ps;
    }
    elfExcluded += excluded;
    cur.memsz = memsz;
    cur.filesz = filesz;
    loads.push(cur);
  }
  return { loads, elfExcluded };
}

/** An ELF64 little-endian ET_CORE header for inputs that are not ELF (kdump, flattened). */
export function synthesizeElfHeader(machine: number): Uint8Array {
  const h = new Uint8Array(EHDR);
  const dv = new DataView(h.buffer);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELFCLASS64, little-endian, EV_CURRENT
  dv.setUint16(16, 4, true); // ET_CORE
  dv.setUint16(18, machine, true);
  dv.setUint32(20, 1, true);
  dv.setUint16(52, EHDR, true);
  dv.setUint16(54, PHDR, true);
  return h;
}

/**
 * Bytes of a PT_LOAD's data. Short excluded runs stay inside a PT_LOAD (as in
 * makedumpfile); when the input is itself a filtered dump those pages have no
 * data and are written as zeros.
 */
function readSpan(src: DumpSource, paddr: number, n: number, buf: Uint8Array): void {
  if (!src.hasData) {
    src.readPhys(paddr, n, buf, 0);
    return;
  }
  const ps = src.pageSize;
  let done = 0;
  while (done < n) {
    const pa = paddr + done;
    const pfn = Math.floor(pa / ps);
    const len = Math.min(n - done, (pfn + 1) * ps - pa);
    if (src.hasData(pfn)) src.readPhys(pa, len, buf, done);
    else buf.fill(0, done, done + len);
    done += len;
  }
}

export interface ElfWriteResult {
  incomplete: boolean;
  error?: Error;
  elfExcluded: number;
}

export function writeElf(
  src: DumpSource,
  elfHeader: Uint8Array,
  sink: OutputSink,
  bitmap2: Bitmap,
  msgs: Messages,
  opts: {
    /** Bytes read and written at a time (-b ORDER: page size << ORDER); default 1 MiB. */
    chunkBytes?: number;
    /** Rewrites physical memory [paddr, paddr + buf.length) before it is written (--config's erase commands). */
    filterSpan?: (buf: Uint8Array, paddr: number) => void;
    /**
     * makedumpfile's ERASEINFO note (--config): `reserve` bytes are set aside after the notes before the pages are
     * written, `text()` fills them afterwards (the rest zeros).
     */
    eraseInfo?: { reserve: number; text: () => Uint8Array };
  } = {},
): ElfWriteResult {
  const ps = src.pageSize;
  const chunk = Math.max(ps, opts.chunkBytes ?? CHUNK);
  const { loads, elfExcluded } = planLoads(src, bitmap2);
  const phnum = loads.length + 1;
  const ehdr = elfHeader.slice(0, EHDR);
  const ev = new DataView(ehdr.buffer);
  let offNote = EHDR + PHDR * phnum;
  ev.setBigUint64(32, BigInt(EHDR), true); // e_phoff
  ev.setUint16(54, PHDR, true);
  let shdr: Uint8Array | undefined;
  if (phnum >= PN_XNUM) {
    ev.setUint16(56, PN_XNUM, true);
    ev.setBigUint64(40, BigInt(offNote), true); // e_shoff
    ev.setUint16(58, 64, true); // e_shentsize
    ev.setUint16(60, 1, true); // e_shnum
    ev.setUint16(62, 0, true); // e_shstrndx
    shdr = new Uint8Array(64);
    const sv = new DataView(shdr.buffer);
    sv.setBigUint64(32, 1n, true); // sh_size = e_shnum
    sv.setUint32(44, phnum, true); // sh_info
    offNote += 64;
  } else {
    ev.setUint16(56, phnum, true);
    ev.setBigUint64(40, 0n, true);
    ev.setUint16(58, 0, true);
    ev.setUint16(60, 0, true);
    ev.setUint16(62, 0, true);
  }
  ev.setUint32(48, ev.getUint32(48, true) & ~DUMP_ELF_INCOMPLETE, true);
  const noteSize = src.noteBytes.length;
  const eiReserve = opts.eraseInfo?.reserve ?? 0;
  // the ERASEINFO note: its header (12 bytes), "ERASEINFO\0" padded to 12, the text padded to 4
  const eiNoteSize = eiReserve ? 12 + 12 + Math.ceil(eiReserve / 4) * 4 : 0;
  let offLoad = offNote + noteSize + eiNoteSize; // makedumpfile: PT_LOAD data right after the notes
  const ph = new Uint8Array(PHDR * phnum);
  const pv = new DataView(ph.buffer);
  // PT_NOTE
  pv.setUint32(0, 4, true);
  pv.setBigUint64(8, BigInt(offNote), true);
  pv.setBigUint64(32, BigInt(noteSize + eiNoteSize), true);
  pv.setBigUint64(40, BigInt(noteSize), true);
  const fileOffsets: number[] = [];
  loads.forEach((l, i) => {
    const o = PHDR * (i + 1);
    pv.setUint32(o, 1, true);
    pv.setUint32(o + 4, 7, true); // RWX, as the kernel's /proc/vmcore
    pv.setBigUint64(o + 8, BigInt(l.filesz ? offLoad : 0), true);
    pv.setBigUint64(o + 16, l.vaddr, true);
    pv.setBigUint64(o + 24, BigInt(l.paddr), true);
    pv.setBigUint64(o + 32, BigInt(l.filesz), true);
    pv.setBigUint64(o + 40, BigInt(l.memsz), true);
    pv.setBigUint64(o + 48, 0n, true);
    fileOffsets.push(offLoad);
    offLoad += l.filesz;
  });
  sink.write(0, ehdr);
  sink.write(EHDR, ph);
  if (shdr) sink.write(EHDR + PHDR * phnum, shdr);
  if (noteSize) sink.write(offNote, src.noteBytes);

  const total = loads.reduce((a, l) => a + l.filesz, 0);
  let done = 0;
  const t0 = performance.now();
  const buf = new Uint8Array(chunk);
  try {
    loads.forEach((l, i) => {
      let at = 0;
      while (at < l.filesz) {
        const n = Math.min(chunk, l.filesz - at);
        readSpan(src, l.paddr + at, n, buf);
        opts.filterSpan?.(buf.subarray(0, n), l.paddr + at);
        sink.write(fileOffsets[i]! + at, buf.subarray(0, n));
        at += n;
        done += n;
        msgs.progress(PROGRESS_COPY, done, total, t0);
      }
    });
  } catch (e) {
    if (!(e instanceof InputReadError || e instanceof NoSpaceError)) throw e;
    msgs.progressDone(PROGRESS_COPY, total, t0, true);
    if (!sink.flattened) {
      ev.setUint32(48, ev.getUint32(48, true) | DUMP_ELF_INCOMPLETE, true);
      try {
        sink.write(0, ehdr);
      } catch {}
    }
    return { incomplete: true, error: e, elfExcluded };
  }
  msgs.progressDone(PROGRESS_COPY, total, t0, true);
  msgs.stepTime(PROGRESS_COPY, t0);
  if (eiReserve) {
    // makedumpfile's write_elf_eraseinfo(), after the pages: what was erased is known only then
    const note = new Uint8Array(eiNoteSize);
    const nv = new DataView(note.buffer);
    nv.setUint32(0, 10, true); // n_namesz: "ERASEINFO\0"
    nv.setUint32(4, eiReserve, true); // n_descsz: the size set aside
    nv.setUint32(8, 0, true); // n_type
    note.set(Buffer.from('ERASEINFO', 'latin1'), 12);
    const text = opts.eraseInfo!.text();
    note.set(text.subarray(0, eiReserve), 24);
    sink.write(offNote + Math.ceil(noteSize / 4) * 4, note.subarray(0, 24 + eiReserve));
  }
  void ps;
  return { incomplete: false, elfExcluded };
}
