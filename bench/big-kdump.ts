/**
 * Dumps of big machines for the bench and the tests (test/lib/synth-dump.ts re-exports it): a kdump file of a
 * machine with `maxPfn` pages made from a real small one, written sparse.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

export interface BigKdumpSpec {
  /** max_mapnr of the big machine (1 TiB of 4 KiB pages: 2 ** 28). */
  maxPfn: number;
  /** Pfns at or above the source's max_mapnr marked present but excluded (1st bitmap only). */
  excluded?: number[];
  /** Pages at or above the source's max_mapnr added as dumped (stored uncompressed). */
  pages?: Map<number, Uint8Array>;
}

/**
 * A kdump file of a big machine made from a real (small) kdump file: the same header, notes, VMCOREINFO, and
 * every dumped page with its compressed bytes as they are, the page descriptors moved past bitmaps sized for
 * `maxPfn`. The bitmaps' bytes past the real ones are never written (a sparse file: a 16 TiB machine's two
 * 512 MiB bitmaps take no disk and no memory here), so the file reads as the small dump plus empty memory.
 * Streams: nothing is held but one piece of the source at a time.
 */
export function writeBigKdump(from: string, to: string, spec: BigKdumpSpec): { extraDescs: number; size: number } {
  const src = openSync(from, 'r');
  const out = openSync(to, 'w+', 0o600);
  try {
    const head = Buffer.alloc(4096);
    readSync(src, head, 0, 4096, 0);
    if (head.toString('latin1', 0, 8) !== 'KDUMP   ' || head.readInt32LE(8) < 6)
      throw new Error(`${from}: not a kdump file of header version 6`);
    const bs = head.readUInt32LE(428);
    const subBlocks = head.readUInt32LE(432);
    const oldBitmapBlocks = head.readUInt32LE(436);
    const sub = Buffer.alloc(subBlocks * bs);
    readSync(src, sub, 0, sub.length, bs);
    const oldMax = Number(sub.readBigUInt64LE(96)) || head.readUInt32LE(440);
    if (spec.maxPfn < oldMax) throw new Error(`maxPfn ${spec.maxPfn} below the source's ${oldMax}`);
    const bitmapOff = (1 + subBlocks) * bs;
    const oldHalf = (oldBitmapBlocks * bs) / 2;
    const newHalf = Math.ceil(Math.ceil(spec.maxPfn / 8) / bs) * bs;
    // The real bitmaps, copied to the start of each new one.
    const bm1 = Buffer.alloc(oldHalf);
    const bm2 = Buffer.alloc(oldHalf);
    readSync(src, bm1, 0, oldHalf, bitmapOff);
    readSync(src, bm2, 0, oldHalf, bitmapOff + oldHalf);
    let ndesc = 0;
    for (const b of bm2) for (let v = b; v; v &= v - 1) ndesc++;
    const extra = [...(spec.pages ?? new Map<number, Uint8Array>()).entries()].sort((a, b) => a[0] - b[0]);
    const setBit = (pos: number, pfn: number): void => {
      const b = Buffer.alloc(1);
      readSync(out, b, 0, 1, pos + Math.floor(pfn / 8));
      b[0]! |= 1 << (pfn % 8);
      writeSync(out, b, 0, 1, pos + Math.floor(pfn / 8));
    };
    head.writeUInt32LE((newHalf * 2) / bs, 436);
    head.writeUInt32LE(Math.min(spec.maxPfn, 0xffffffff), 440);
    sub.writeBigUInt64LE(BigInt(spec.maxPfn), 96);
    writeSync(out, head, 0, Math.min(bs, 4096), 0);
    writeSync(out, sub, 0, sub.length, bs);
    writeSync(out, bm1, 0, oldHalf, bitmapOff);
    writeSync(out, bm2, 0, oldHalf, bitmapOff + newHalf);
    for (const p of spec.excluded ?? []) {
      if (p < oldMax || p >= spec.maxPfn) throw new Error(`excluded pfn ${p} outside [${oldMax}, ${spec.maxPfn})`);
      setBit(bitmapOff, p);
    }
    for (const [p] of extra) {
      if (p < oldMax || p >= spec.maxPfn) throw new Error(`added pfn ${p} outside [${oldMax}, ${spec.maxPfn})`);
      setBit(bitmapOff, p);
      setBit(bitmapOff + newHalf, p);
    }
    // Descriptors, their offsets moved by what the bitmaps and the added descriptors take.
    const oldDesc = bitmapOff + 2 * oldHalf;
    const newDesc = bitmapOff + 2 * newHalf;
    const oldData = oldDesc + ndesc * 24;
    const newData = newDesc + (ndesc + extra.length) * 24;
    const delta = BigInt(newData - oldData);
    const piece = Buffer.alloc(24 * 43690);
    for (let i = 0; i < ndesc; i += 43690) {
      const n = Math.min(43690, ndesc - i) * 24;
      readSync(src, piece, 0, n, oldDesc + i * 24);
      for (let o = 0; o < n; o += 24) piece.writeBigInt64LE(piece.readBigInt64LE(o) + delta, o);
      writeSync(out, piece, 0, n, newDesc + i * 24);
    }
    // The page data as it is.
    const srcSize = fstatSync(src).size;
    const buf = Buffer.alloc(1 << 20);
    for (let o = oldData; o < srcSize; ) {
      const n = readSync(src, buf, 0, Math.min(buf.length, srcSize - o), o);
      if (n <= 0) break;
      writeSync(out, buf, 0, n, o - oldData + newData);
      o += n;
    }
    // Added pages after it.
    let at = srcSize - oldData + newData;
    extra.forEach(([, page], i) => {
      const d = Buffer.alloc(24);
      d.writeBigInt64LE(BigInt(at), 0);
      d.writeUInt32LE(page.length, 8);
      writeSync(out, d, 0, 24, newDesc + (ndesc + i) * 24);
      writeSync(out, page, 0, page.length, at);
      at += page.length;
    });
    ftruncateSync(out, at);
    return { extraDescs: extra.length, size: at };
  } finally {
    closeSync(src);
    closeSync(out);
  }
}
