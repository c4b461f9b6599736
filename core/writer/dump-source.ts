/**
 * Any dump the format readers open (kdump-compressed, flattened, ...) as a
 * writer input, through the `Dump` interface (core/dump.ts) and core/open.ts's
 * openDump(): re-filtering an existing dump, or converting between formats.
 * Pages the input does not carry (excluded, truncated) stay out of the output.
 */
import type { Dump } from '../dump.js';
import { RankedBitmap } from '../formats/bitmap.js';
import { KernelMemory } from '../kernel-memory.js';
import { type DumpSource, InputReadError, type MemorySegment } from './source.js';

function serializeNotes(dump: Dump): { bytes: Uint8Array; vmcoreinfoOffset: number; vmcoreinfoSize: number } {
  const parts: Uint8Array[] = [];
  let len = 0;
  let vmcoreinfoOffset = 0;
  let vmcoreinfoSize = 0;
  for (const n of dump.notes) {
    const name = Buffer.from(`${n.name}\0`, 'latin1');
    const nameLen = (name.length + 3) & ~3;
    const descLen = (n.desc.length + 3) & ~3;
    const b = new Uint8Array(12 + nameLen + descLen);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, name.length, true);
    dv.setUint32(4, n.desc.length, true);
    dv.setUint32(8, n.type, true);
    b.set(name, 12);
    b.set(n.desc, 12 + nameLen);
    if (n.name === 'VMCOREINFO' && vmcoreinfoSize === 0) {
      vmcoreinfoOffset = len + 12 + nameLen;
      vmcoreinfoSize = n.desc.length;
    }
    parts.push(b);
    len += b.length;
  }
  return { bytes: Buffer.concat(parts, len), vmcoreinfoOffset, vmcoreinfoSize };
}

export class DumpAdapter implements DumpSource {
  readonly segments: MemorySegment[] = [];
  readonly noteBytes: Uint8Array;
  readonly vmcoreinfoNoteOffset: number;
  readonly vmcoreinfoNoteSize: number;
  readonly nrCpus: number;
  readonly elfMachine: number;
  readonly physBase?: bigint;
  readonly utsname?: Uint8Array;
  readonly inputDumpLevel?: number;
  readonly truncatedAt?: number;

  constructor(readonly dump: Dump) {
    if (typeof dump.info.truncatedAt === 'number') this.truncatedAt = dump.info.truncatedAt;
    const notes = serializeNotes(dump);
    this.noteBytes = notes.bytes;
    this.vmcoreinfoNoteOffset = notes.vmcoreinfoOffset;
    this.vmcoreinfoNoteSize = notes.vmcoreinfoSize;
    const info = dump.info;
    this.nrCpus = info.nrCpus ?? dump.notes.filter((n) => n.name === 'CORE' && n.type === 1).length;
    this.elfMachine = info.utsname?.machine === 'x86_64' || info.utsname === undefined ? 62 : 0;
    if (typeof info.physBase === 'bigint') this.physBase = info.physBase;
    if (typeof info.dumpLevel === 'number') this.inputDumpLevel = info.dumpLevel;
    if (info.utsname) {
      const u = new Uint8Array(390);
      const f = info.utsname;
      [f.sysname, f.nodename, f.release, f.version, f.machine, f.domainname].forEach((s, i) => {
        u.set(Buffer.from((s ?? '').slice(0, 64), 'latin1'), i * 65);
      });
      this.utsname = u;
    }
    // runs of pfns that exist in the machine; their direct-map addresses when
    // the page tables tell page_offset_base (ELF output wants real p_vaddr)
    const ps = dump.pageSize;
    let pageOffset = 0n;
    try {
      pageOffset = new KernelMemory(dump).pageOffsetBase ?? 0n;
    } catch {
      pageOffset = 0n;
    }
    const run = (start: number, end: number): void => {
      this.segments.push({
        paddr: start * ps,
        memsz: (end - start) * ps,
        filesz: (end - start) * ps,
        offset: -1,
        vaddr: pageOffset ? pageOffset + BigInt(start * ps) : 0n,
      });
    };
    const k = dump as { present?: unknown; dumped?: unknown };
    if (k.present instanceof RankedBitmap && k.dumped instanceof RankedBitmap && dump.info.split === undefined) {
      // A kdump file's bitmaps say which pfns exist (present, or dumped): their set bits, not a test of every pfn
      // of a big machine.
      const a = k.present.ones(dump.maxPfn)[Symbol.iterator]();
      const b = k.dumped.ones(dump.maxPfn)[Symbol.iterator]();
      let x = a.next();
      let y = b.next();
      let start = -1;
      let end = -1;
      while (!x.done || !y.done) {
        let pfn: number;
        if (y.done || (!x.done && x.value <= y.value)) {
          pfn = x.value as number;
          if (!y.done && y.value === pfn) y = b.next();
          x = a.next();
        } else {
          pfn = y.value;
          y = b.next();
        }
        if (pfn !== end) {
          if (start >= 0) run(start, end);
          start = pfn;
        }
        end = pfn + 1;
      }
      if (start >= 0) run(start, end);
      return;
    }
    let runStart = -1;
    for (let pfn = 0; pfn <= dump.maxPfn; pfn++) {
      const exists = pfn < dump.maxPfn && dump.pageState(pfn) !== 'absent';
      if (exists && runStart < 0) runStart = pfn;
      if (!exists && runStart >= 0) {
        run(runStart, pfn);
        runStart = -1;
      }
    }
  }

  get path(): string {
    return this.dump.path;
  }
  get pageSize(): number {
    return this.dump.pageSize;
  }
  get maxPfn(): number {
    return this.dump.maxPfn;
  }
  get vmcoreinfo(): string | undefined {
    return this.dump.vmcoreinfo;
  }

  hasPfn(pfn: number): boolean {
    return pfn < this.dump.maxPfn && this.dump.pageState(pfn) !== 'absent';
  }

  hasData(pfn: number): boolean {
    const s = this.dump.pageState(pfn);
    return s === 'dumped' || s === 'zero';
  }

  readPages(pfn: number, count: number, dst: Uint8Array, dstOff: number): void {
    const ps = this.dump.pageSize;
    for (let i = 0; i < count; i++) {
      try {
        dst.set(this.dump.readPage(pfn + i), dstOff + i * ps);
      } catch (e) {
        throw new InputReadError(
          `${this.dump.path}: pfn 0x${(pfn + i).toString(16)}: ${(e as Error).message}`,
          pfn + i,
          { cause: e },
        );
      }
    }
  }

  readPhys(paddr: number, len: number, dst: Uint8Array, dstOff = 0): void {
    const ps = this.dump.pageSize;
    let done = 0;
    while (done < len) {
      const pa = paddr + done;
      const pfn = Math.floor(pa / ps);
      const inPage = pa - pfn * ps;
      const n = Math.min(len - done, ps - inPage);
      let page: Uint8Array;
      try {
        page = this.dump.readPage(pfn);
      } catch (e) {
        throw new InputReadError(`${this.dump.path}: pfn 0x${pfn.toString(16)}: ${(e as Error).message}`, pfn, {
          cause: e,
        });
      }
      dst.set(page.subarray(inPage, inPage + n), dstOff + done);
      done += n;
    }
  }

  close(): void {
    this.dump.close();
  }
}

/** Open a non-ELF dump through core/open.ts (the format readers). */
export async function openDumpSource(path: string): Promise<DumpSource> {
  // A literal specifier, so that the bundle (scripts/bundle.mjs) carries the readers in a chunk of its own.
  const mod = await import('../open.js');
  return new DumpAdapter(await mod.openDump(path));
}
