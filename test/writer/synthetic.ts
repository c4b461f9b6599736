/**
 * Synthetic ELF vmcores for writer edge cases (the real samples are the ground
 * truth; these only cover what the samples cannot: holes, partial pages,
 * truncation, hostile headers).
 */
import { writeFileSync } from 'node:fs';

export interface SynthSegment {
  paddr: number;
  /** Page contents generator: returns the page's bytes for pfn. */
  pages: number;
  fill: (pfn: number, page: Uint8Array) => void;
  /** File-backed bytes (default memsz). */
  filesz?: number;
  vaddr?: bigint;
}

function note(name: string, type: number, desc: Uint8Array): Buffer {
  const n = Buffer.from(`${name}\0`, 'latin1');
  const nl = (n.length + 3) & ~3;
  const dl = (desc.length + 3) & ~3;
  const b = Buffer.alloc(12 + nl + dl);
  b.writeUInt32LE(n.length, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(type, 8);
  n.copy(b, 12);
  Buffer.from(desc).copy(b, 12 + nl);
  return b;
}

export function buildElfCore(
  path: string,
  segs: SynthSegment[],
  vmcoreinfo: string,
  cpus = 2,
  pageSize = 4096,
): Buffer {
  const notes = Buffer.concat([
    ...Array.from({ length: cpus }, (_, i) => {
      const d = new Uint8Array(336);
      d[32] = i;
      return note('CORE', 1, d);
    }),
    note('VMCOREINFO', 0, Buffer.from(vmcoreinfo, 'latin1')),
  ]);
  const phnum = segs.length + 1;
  const hdrLen = 64 + 56 * phnum;
  let off = Math.ceil((hdrLen + notes.length) / pageSize) * pageSize;
  const eh = Buffer.alloc(64);
  eh.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  eh.writeUInt16LE(4, 16);
  eh.writeUInt16LE(62, 18);
  eh.writeUInt32LE(1, 20);
  eh.writeBigUInt64LE(64n, 32);
  eh.writeUInt16LE(64, 52);
  eh.writeUInt16LE(56, 54);
  eh.writeUInt16LE(phnum, 56);
  const ph = Buffer.alloc(56 * phnum);
  ph.writeUInt32LE(4, 0);
  ph.writeBigUInt64LE(BigInt(hdrLen), 8);
  ph.writeBigUInt64LE(BigInt(notes.length), 32);
  ph.writeBigUInt64LE(BigInt(notes.length), 40);
  const datas: { off: number; buf: Buffer }[] = [];
  segs.forEach((s, i) => {
    const memsz = s.pages * pageSize;
    const filesz = s.filesz ?? memsz;
    const buf = Buffer.alloc(filesz);
    const page = new Uint8Array(pageSize);
    for (let p = 0; p < s.pages; p++) {
      page.fill(0);
      s.fill(Math.floor(s.paddr / pageSize) + p, page);
      const at = p * pageSize;
      if (at < filesz) Buffer.from(page).copy(buf, at, 0, Math.min(pageSize, filesz - at));
    }
    const o = 56 * (i + 1);
    ph.writeUInt32LE(1, o);
    ph.writeUInt32LE(7, o + 4);
    ph.writeBigUInt64LE(BigInt(off), o + 8);
    ph.writeBigUInt64LE(s.vaddr ?? 0xffff888000000000n + BigInt(s.paddr), o + 16);
    ph.writeBigUInt64LE(BigInt(s.paddr), o + 24);
    ph.writeBigUInt64LE(BigInt(filesz), o + 32);
    ph.writeBigUInt64LE(BigInt(memsz), o + 40);
    datas.push({ off, buf });
    off += filesz;
  });
  const total = Buffer.alloc(off);
  eh.copy(total, 0);
  ph.copy(total, 64);
  notes.copy(total, hdrLen);
  for (const d of datas) d.buf.copy(total, d.off);
  writeFileSync(path, total);
  return total;
}

/** Deterministic page content: mixes zero pages, text-like and random pages. */
export function mixedFill(pfn: number, page: Uint8Array): void {
  const kind = pfn % 5;
  if (kind === 0) return; // zero page
  let s = pfn * 2654435761;
  for (let i = 0; i < page.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    page[i] =
      kind === 1
        ? s >>> 24
        : kind === 2
          ? 65 + ((i + pfn) % 7)
          : kind === 3
            ? i % 64 < 8
              ? s >>> 28
              : 0
            : (pfn + i) & 0xff;
  }
}
