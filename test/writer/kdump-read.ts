/**
 * A small, independent kdump-compressed reader for the writer tests (so the
 * writer is checked by code that does not share its layout constants), plus
 * an ELF page reader. The project's format readers are used too when present.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

const require = createRequire(import.meta.url);

export interface KdumpFile {
  status: number;
  blockSize: number;
  maxPfn: number;
  dumpLevel: number;
  nrCpus: number;
  utsRelease: string;
  timestamp: bigint;
  physBase: bigint;
  split: number;
  startPfn: number;
  endPfn: number;
  notes: Buffer;
  vmcoreinfo: string;
  bitmap1: Buffer;
  bitmap2: Buffer;
  /** pfn -> {offset,size,flags} for dumped pages of this file. */
  desc(pfn: number): { offset: number; size: number; flags: number } | undefined;
  page(pfn: number, lzo?: (b: Uint8Array, n: number) => Uint8Array): Buffer | undefined;
  raw: Buffer;
}

const bit = (b: Buffer, i: number) => (b[i >> 3]! >> (i & 7)) & 1;

export function readKdump(path: string): KdumpFile {
  const raw = readFileSync(path);
  if (raw.subarray(0, 8).toString('latin1') !== 'KDUMP   ') throw new Error(`${path}: not KDUMP`);
  const bs = raw.readInt32LE(428);
  const subBlocks = raw.readInt32LE(432);
  const bmBlocks = raw.readUInt32LE(436);
  const sub = bs;
  const maxPfn = Number(raw.readBigUInt64LE(sub + 96));
  const offNote = Number(raw.readBigUInt64LE(sub + 48));
  const sizeNote = Number(raw.readBigUInt64LE(sub + 56));
  const offVi = Number(raw.readBigUInt64LE(sub + 32));
  const sizeVi = Number(raw.readBigUInt64LE(sub + 40));
  const offBm = (1 + subBlocks) * bs;
  const bmLen = (bmBlocks * bs) / 2;
  const bitmap1 = raw.subarray(offBm, offBm + bmLen);
  const bitmap2 = raw.subarray(offBm + bmLen, offBm + 2 * bmLen);
  const offDesc = offBm + 2 * bmLen;
  const split = raw.readInt32LE(sub + 12);
  const startPfn = split ? Number(raw.readBigUInt64LE(sub + 80)) : 0;
  const endPfn = split ? Number(raw.readBigUInt64LE(sub + 88)) : maxPfn;
  // rank index
  const rank = new Int32Array(maxPfn + 1).fill(-1);
  let k = 0;
  for (let p = startPfn; p < endPfn; p++) if (bit(bitmap2, p)) rank[p] = k++;
  const desc = (pfn: number) => {
    if (pfn >= maxPfn || rank[pfn]! < 0) return undefined;
    const o = offDesc + rank[pfn]! * 24;
    return { offset: Number(raw.readBigUInt64LE(o)), size: raw.readUInt32LE(o + 8), flags: raw.readUInt32LE(o + 12) };
  };
  return {
    status: raw.readUInt32LE(424),
    blockSize: bs,
    maxPfn,
    dumpLevel: raw.readInt32LE(sub + 8),
    nrCpus: raw.readInt32LE(460),
    utsRelease: raw
      .subarray(12 + 130, 12 + 195)
      .toString('latin1')
      .replace(/\0.*$/s, ''),
    timestamp: raw.readBigInt64LE(408),
    physBase: raw.readBigUInt64LE(sub),
    split,
    startPfn,
    endPfn,
    notes: raw.subarray(offNote, offNote + sizeNote),
    vmcoreinfo: raw.subarray(offVi, offVi + sizeVi).toString('latin1'),
    bitmap1,
    bitmap2,
    desc,
    raw,
    page(pfn, lzo) {
      const d = desc(pfn);
      if (!d) return undefined;
      const data = raw.subarray(d.offset, d.offset + d.size);
      if (data.length !== d.size) throw new Error(`pfn ${pfn}: data past EOF`);
      if (d.flags & 1) return zlib.inflateSync(data);
      if (d.flags & 2) {
        if (!lzo) throw new Error('lzo page without decompressor');
        return Buffer.from(lzo(data, bs));
      }
      if (d.flags & 4)
        return Buffer.from((require('snappyjs') as { uncompress(b: Uint8Array): Uint8Array }).uncompress(data));
      if (d.flags & 0x20)
        return Buffer.from((require('zstd-napi') as { decompress(b: Uint8Array): Uint8Array }).decompress(data));
      return Buffer.from(data);
    },
  };
}

export function bitmapBit(b: Buffer, i: number): number {
  return bit(b, i);
}

/** Pages of an ELF core by pfn (first PT_LOAD wins), zero past p_filesz. */
export function readElfPages(path: string): { pageSize: number; page(pfn: number): Buffer | undefined; raw: Buffer } {
  const raw = readFileSync(path);
  const phoff = Number(raw.readBigUInt64LE(32));
  const phnum = raw.readUInt16LE(56);
  const segs: { paddr: number; memsz: number; filesz: number; off: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    if (raw.readUInt32LE(o) !== 1) continue;
    segs.push({
      off: Number(raw.readBigUInt64LE(o + 8)),
      paddr: Number(raw.readBigUInt64LE(o + 24)),
      filesz: Number(raw.readBigUInt64LE(o + 32)),
      memsz: Number(raw.readBigUInt64LE(o + 40)),
    });
  }
  const ps = 4096;
  return {
    pageSize: ps,
    raw,
    page(pfn) {
      const pa = pfn * ps;
      for (const s of segs) {
        if (pa >= s.paddr && pa + ps <= s.paddr + s.memsz) {
          const out = Buffer.alloc(ps);
          const inSeg = pa - s.paddr;
          const n = Math.max(0, Math.min(ps, s.filesz - inSeg));
          if (n > 0) raw.copy(out, 0, s.off + inSeg, s.off + inSeg + n);
          return out;
        }
      }
      return undefined;
    },
  };
}
