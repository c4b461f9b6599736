/**
 * Synthetic dump files for edge cases and hostile input (the real behaviour is
 * tested on the real samples). Specs are small: sparse physical memory as
 * pfn → bytes, plus which pfns are excluded, zero, or never written.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { Lzo1xCompressor, lzo1xBound } from '../../core/compress/lzo-compress.js';

const require = createRequire(import.meta.url);

export type SynthCompression = 'none' | 'zlib' | 'lzo' | 'snappy' | 'zstd';

export interface KdumpSpec {
  version?: number; // header_version, default 6
  signature?: 'KDUMP   ' | 'DISKDUMP';
  pageSize?: number;
  maxPfn: number;
  /** Dumped pages (pfn → exactly pageSize bytes). */
  pages: Map<number, Uint8Array>;
  /** Pfns that existed but were filtered out (1st bitmap set, 2nd clear). */
  excluded?: number[];
  /** Dumped pfns stored as the shared zero page. */
  zero?: number[];
  compression?: SynthCompression;
  incomplete?: boolean;
  /** Pfns whose descriptor is left all-zero (never written: INCOMPLETE dumps). */
  unwritten?: number[];
  split?: { start: number; end: number };
  vmcoreinfo?: string;
  dumpLevel?: number;
}

const FLAG: Record<SynthCompression, number> = { none: 0, zlib: 1, lzo: 2, snappy: 4, zstd: 0x20 };

export function compressPage(kind: SynthCompression, page: Uint8Array): Uint8Array {
  switch (kind) {
    case 'none':
      return page;
    case 'zlib':
      return deflateSync(page, { level: 1 });
    case 'lzo': {
      const out = new Uint8Array(lzo1xBound(page.length));
      const n = new Lzo1xCompressor().compressInto(page, 0, page.length, out, 0);
      return out.subarray(0, n);
    }
    case 'snappy':
      return (require('snappyjs') as { compress(b: Uint8Array): Uint8Array }).compress(page);
    case 'zstd':
      return zstdCompress(page, { compressionLevel: 1 } as never);
  }
}

function vmcoreinfoNote(text: string): Uint8Array {
  const name = Buffer.from('VMCOREINFO\0');
  const desc = Buffer.from(text);
  const pad = (n: number): number => (n + 3) & ~3;
  const b = Buffer.alloc(12 + pad(name.length) + pad(desc.length));
  b.writeUInt32LE(name.length, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(0, 8);
  name.copy(b, 12);
  desc.copy(b, 12 + pad(name.length));
  return b;
}

/** Build a kdump-compressed file image. */
export function buildKdump(spec: KdumpSpec): Buffer {
  const bs = spec.pageSize ?? 4096;
  const version = spec.version ?? 6;
  const comp = spec.compression ?? 'zlib';
  const note = spec.vmcoreinfo !== undefined ? vmcoreinfoNote(spec.vmcoreinfo) : new Uint8Array(0);
  const subHdrBlocks = Math.max(1, Math.ceil((104 + note.length) / bs));
  const bitmapBytes = Math.ceil(Math.ceil(spec.maxPfn / 8) / bs) * bs;
  const bitmapBlocks = (bitmapBytes * 2) / bs;
  const bm1 = Buffer.alloc(bitmapBytes);
  const bm2 = Buffer.alloc(bitmapBytes);
  const set = (b: Buffer, pfn: number): void => {
    b[pfn >> 3]! |= 1 << (pfn & 7);
  };
  const zero = new Set(spec.zero ?? []);
  const dumped = [...new Set([...spec.pages.keys(), ...zero, ...(spec.unwritten ?? [])])].sort((a, b) => a - b);
  for (const p of dumped) {
    set(bm1, p);
    set(bm2, p);
  }
  for (const p of spec.excluded ?? []) set(bm1, p);
  const descStart = (1 + subHdrBlocks + bitmapBlocks) * bs;
  const inRange = dumped.filter((p) => !spec.split || (p >= spec.split.start && p < spec.split.end));
  let dataOff = descStart + inRange.length * 24;
  const descs = Buffer.alloc(inRange.length * 24);
  const data: Uint8Array[] = [];
  let zeroOff = -1;
  const unwritten = new Set(spec.unwritten ?? []);
  inRange.forEach((pfn, i) => {
    if (unwritten.has(pfn)) return;
    let off: number;
    let size: number;
    let flags = 0;
    if (zero.has(pfn)) {
      if (zeroOff < 0) {
        zeroOff = dataOff;
        data.push(new Uint8Array(bs));
        dataOff += bs;
      }
      off = zeroOff;
      size = bs;
    } else {
      const page = spec.pages.get(pfn)!;
      const c = compressPage(comp, page);
      const use = c.length < bs ? c : page;
      flags = c.length < bs ? FLAG[comp] : 0;
      off = dataOff;
      size = use.length;
      data.push(use);
      dataOff += use.length;
    }
    descs.writeBigInt64LE(BigInt(off), i * 24);
    descs.writeUInt32LE(size, i * 24 + 8);
    descs.writeUInt32LE(flags, i * 24 + 12);
  });
  const header = Buffer.alloc(bs);
  header.write(spec.signature ?? 'KDUMP   ', 0, 'latin1');
  header.writeInt32LE(version, 8);
  const uts = ['Linux', 'synth', '6.1.0-synth', '#1 SMP', 'x86_64', '(none)'];
  for (const [i, s] of uts.entries()) header.write(s, 12 + i * 65, 'latin1');
  header.writeBigInt64LE(1700000000n, 408);
  header.writeUInt32LE(FLAG[comp] | (spec.incomplete ? 8 : 0), 424);
  header.writeUInt32LE(bs, 428);
  header.writeUInt32LE(subHdrBlocks, 432);
  header.writeUInt32LE(bitmapBlocks, 436);
  header.writeUInt32LE(Math.min(spec.maxPfn, 0xffffffff), 440);
  header.writeUInt32LE(1, 460);
  const sub = Buffer.alloc(subHdrBlocks * bs);
  sub.writeBigUInt64LE(0n, 0);
  sub.writeInt32LE(spec.dumpLevel ?? 31, 8);
  if (spec.split) {
    sub.writeInt32LE(1, 12);
    sub.writeBigUInt64LE(BigInt(spec.split.start), 16);
    sub.writeBigUInt64LE(BigInt(spec.split.end), 24);
  }
  if (note.length) {
    const noteOff = bs + 104;
    sub.set(note, 104);
    if (version >= 4) {
      sub.writeBigUInt64LE(BigInt(noteOff), 48);
      sub.writeBigUInt64LE(BigInt(note.length), 56);
    }
    if (version >= 3) {
      const descAt = noteOff + 12 + 12; // "VMCOREINFO\0" padded to 12
      sub.writeBigUInt64LE(BigInt(descAt), 32);
      sub.writeBigUInt64LE(BigInt(Buffer.byteLength(spec.vmcoreinfo!)), 40);
    }
  }
  if (version >= 6) {
    if (spec.split) {
      sub.writeBigUInt64LE(BigInt(spec.split.start), 80);
      sub.writeBigUInt64LE(BigInt(spec.split.end), 88);
    }
    sub.writeBigUInt64LE(BigInt(spec.maxPfn), 96);
  }
  return Buffer.concat([header, sub, bm1, bm2, descs, ...data]);
}

/** Wrap a file image in makedumpfile's flattened format, with the given record order. */
export function flatten(
  image: Uint8Array,
  recordSize = 4096,
  order?: (records: [number, Uint8Array][]) => [number, Uint8Array][],
): Buffer {
  const head = Buffer.alloc(4096);
  head.write('makedumpfile', 0, 'latin1');
  head.writeBigInt64BE(1n, 16);
  head.writeBigInt64BE(1n, 24);
  let records: [number, Uint8Array][] = [];
  for (let o = 0; o < image.length; o += recordSize)
    records.push([o, image.subarray(o, Math.min(o + recordSize, image.length))]);
  if (order) records = order(records);
  const parts: Buffer[] = [head];
  for (const [off, data] of records) {
    const h = Buffer.alloc(16);
    h.writeBigInt64BE(BigInt(off), 0);
    h.writeBigInt64BE(BigInt(data.length), 8);
    parts.push(h, Buffer.from(data));
  }
  const end = Buffer.alloc(16);
  end.writeBigInt64BE(-1n, 0);
  end.writeBigInt64BE(-1n, 8);
  parts.push(end);
  return Buffer.concat(parts);
}

/** Build a minimal ELF64 core: PT_NOTE (optional VMCOREINFO) and one PT_LOAD per [paddr, bytes, memsz?]. */
export function buildElfCore(
  loads: { paddr: number; data: Uint8Array; memsz?: number }[],
  vmcoreinfo?: string,
): Buffer {
  const note = vmcoreinfo !== undefined ? vmcoreinfoNote(vmcoreinfo) : new Uint8Array(0);
  const phnum = 1 + loads.length;
  const hdr = Buffer.alloc(64 + phnum * 56);
  hdr.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  hdr.writeUInt16LE(4, 16);
  hdr.writeUInt16LE(62, 18);
  hdr.writeUInt32LE(1, 20);
  hdr.writeBigUInt64LE(64n, 32);
  hdr.writeUInt16LE(64, 52);
  hdr.writeUInt16LE(56, 54);
  // 65535 program headers or more: PN_XNUM, the count in section header 0's sh_info (placed after the data).
  const xnum = phnum >= 0xffff;
  hdr.writeUInt16LE(xnum ? 0xffff : phnum, 56);
  let off = hdr.length;
  const ph = (i: number, type: number, o: number, paddr: number, filesz: number, memsz: number): void => {
    const p = 64 + i * 56;
    hdr.writeUInt32LE(type, p);
    hdr.writeBigUInt64LE(BigInt(o), p + 8);
    hdr.writeBigUInt64LE(BigInt(paddr), p + 24);
    hdr.writeBigUInt64LE(BigInt(filesz), p + 32);
    hdr.writeBigUInt64LE(BigInt(memsz), p + 40);
  };
  ph(0, 4, off, 0, note.length, note.length);
  off += note.length;
  loads.forEach((l, i) => {
    ph(i + 1, 1, off, l.paddr, l.data.length, l.memsz ?? l.data.length);
    off += l.data.length;
  });
  const sh = Buffer.alloc(xnum ? 64 : 0);
  if (xnum) {
    hdr.writeBigUInt64LE(BigInt(off), 40);
    hdr.writeUInt16LE(64, 58);
    hdr.writeUInt16LE(1, 60);
    sh.writeUInt32LE(phnum, 44);
  }
  return Buffer.concat([hdr, note, ...loads.map((l) => Buffer.from(l.data)), sh]);
}

let dir: string | undefined;
/** Write bytes to a fresh temporary file and return its path. */
export function tempFile(name: string, data: Uint8Array): string {
  dir ??= mkdtempSync(join(tmpdir(), 'tscrash-test-'));
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** A page filled with a recognisable pattern for pfn. */
export function patternPage(pfn: number, size = 4096): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (pfn * 31 + (i >> 3) * 7 + (i & 7)) & 0xff;
  // Some runs, so compressors compress.
  b.fill(pfn & 0xff, 1024, 2048);
  return b;
}

export { type BigKdumpSpec, writeBigKdump } from '../../bench/big-kdump.js';

/** A fresh temporary directory's path for `name` (the test's temporary directory). */
export function tempPath(name: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'tscrash-test-'));
  return join(dir, name);
}
