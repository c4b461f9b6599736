/**
 * --reassemble: join the files of a --split dump into one kdump-compressed
 * file. Every split file carries the whole header, notes and both bitmaps,
 * and the page descriptors / data of its own pfn range [start_pfn, end_pfn).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { BadDataError } from '../errors.js';
import { DUMP_DH_COMPRESSED_INCOMPLETE } from '../formats/kdump-flags.js';
import { Bitmap } from './bitmap.js';
import { DISK_DUMP_HEADER_SIZE, KDUMP_SUB_HEADER_SIZE, PAGE_DESC_SIZE } from './kdump-writer.js';
import { type Messages, PROGRESS_COPY } from './messages.js';
import type { OutputSink } from './output.js';

interface SplitFile {
  path: string;
  fd: number;
  header: Uint8Array;
  blockSize: number;
  subHdrBlocks: number;
  bitmapBlocks: number;
  maxPfn: number;
  status: number;
  dumpLevel: number;
  startPfn: number;
  endPfn: number;
}

function readAt(fd: number, off: number, len: number, path: string): Uint8Array {
  const b = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, off + got);
    if (n <= 0) throw new BadDataError(`file ends: need ${len} bytes here`, path, off + got);
    got += n;
  }
  return b;
}

function openSplit(path: string): SplitFile {
  const fd = openSync(path, 'r');
  try {
    const h = readAt(fd, 0, DISK_DUMP_HEADER_SIZE, path);
    const dv = new DataView(h.buffer);
    const sig = Buffer.from(h.subarray(0, 8)).toString('latin1');
    if (sig !== 'KDUMP   ') throw new BadDataError(`signature "${sig}": not a kdump-compressed file`, path, 0);
    const version = dv.getInt32(8, true);
    const blockSize = dv.getInt32(428, true);
    if (blockSize < 512 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0) {
      throw new BadDataError(`block_size ${blockSize} is invalid`, path, 428);
    }
    const sub = readAt(fd, blockSize, KDUMP_SUB_HEADER_SIZE, path);
    const sv = new DataView(sub.buffer);
    if (version < 2 || sv.getInt32(12, true) !== 1)
      throw new BadDataError('not a split dump file (sub-header split = 0)', path, blockSize + 12);
    const maxPfn = version >= 6 ? Number(sv.getBigUint64(96, true)) : dv.getUint32(440, true);
    const startPfn = version >= 6 ? Number(sv.getBigUint64(80, true)) : Number(sv.getBigUint64(16, true));
    const endPfn = version >= 6 ? Number(sv.getBigUint64(88, true)) : Number(sv.getBigUint64(24, true));
    return {
      path,
      fd,
      header: h,
      blockSize,
      subHdrBlocks: dv.getInt32(432, true),
      bitmapBlocks: dv.getUint32(436, true),
      maxPfn,
      status: dv.getUint32(424, true),
      dumpLevel: sv.getInt32(8, true),
      startPfn,
      endPfn,
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

export function reassemble(paths: readonly string[], sink: OutputSink, msgs: Messages): void {
  const files: SplitFile[] = [];
  try {
    for (const p of paths) files.push(openSplit(p));
    files.sort((a, b) => a.startPfn - b.startPfn);
    const f0 = files[0]!;
    for (const f of files) {
      if (
        f.blockSize !== f0.blockSize ||
        f.maxPfn !== f0.maxPfn ||
        f.bitmapBlocks !== f0.bitmapBlocks ||
        f.subHdrBlocks !== f0.subHdrBlocks
      ) {
        throw new BadDataError(`does not belong to the same dump as ${f0.path}`, f.path, 0);
      }
    }
    for (let i = 0; i < files.length; i++) {
      const expect = i === 0 ? 0 : files[i - 1]!.endPfn;
      if (files[i]!.startPfn !== expect) {
        throw new BadDataError(
          `pfn range 0x${files[i]!.startPfn.toString(16)}.. does not follow 0x${expect.toString(16)} (a split file is missing)`,
          files[i]!.path,
          f0.blockSize + 80,
        );
      }
    }
    if (files[files.length - 1]!.endPfn !== f0.maxPfn) {
      throw new BadDataError(
        `the last split file ends at pfn 0x${files[files.length - 1]!.endPfn.toString(16)}, not max_mapnr 0x${f0.maxPfn.toString(16)}`,
        files[files.length - 1]!.path,
        f0.blockSize + 88,
      );
    }
    const bs = f0.blockSize;
    const incomplete = files.some((f) => f.status & DUMP_DH_COMPRESSED_INCOMPLETE);
    const header = f0.header.slice();
    const hv = new DataView(header.buffer);
    if (incomplete) hv.setUint32(424, hv.getUint32(424, true) | DUMP_DH_COMPRESSED_INCOMPLETE, true);
    sink.write(0, header);
    const subArea = readAt(f0.fd, bs, f0.subHdrBlocks * bs, f0.path);
    const sv = new DataView(subArea.buffer);
    sv.setInt32(12, 0, true);
    for (const o of [16, 24, 64, 72, 80, 88]) sv.setBigUint64(o, 0n, true);
    sink.write(bs, subArea);
    const offBitmap = (1 + f0.subHdrBlocks) * bs;
    const bitmapsLen = f0.bitmapBlocks * bs;
    const bitmaps = readAt(f0.fd, offBitmap, bitmapsLen, f0.path);
    sink.write(offBitmap, bitmaps);
    const bitmap2 = Bitmap.from(bitmaps.subarray(bitmapsLen / 2), f0.maxPfn);
    const numDumpable = bitmap2.count();
    const offDesc = offBitmap + bitmapsLen;
    const zeroOffset = offDesc + numDumpable * PAGE_DESC_SIZE;
    let dataPos = zeroOffset;
    if (f0.dumpLevel & 1) {
      sink.write(dataPos, new Uint8Array(bs));
      dataPos += bs;
    }
    let descPos = offDesc;
    let done = 0;
    const t0 = performance.now();
    const CH = 4096;
    for (const f of files) {
      const count = bitmap2.count(f.startPfn, f.endPfn);
      const fileZero = zeroOffset; // same layout in every split file
      for (let k = 0; k < count; k += CH) {
        const n = Math.min(CH, count - k);
        const descs = readAt(f.fd, offDesc + k * PAGE_DESC_SIZE, n * PAGE_DESC_SIZE, f.path);
        const dv = new DataView(descs.buffer);
        let lo = Number.POSITIVE_INFINITY;
        let hi = 0;
        for (let i = 0; i < n; i++) {
          const off = Number(dv.getBigUint64(i * PAGE_DESC_SIZE, true));
          const size = dv.getUint32(i * PAGE_DESC_SIZE + 8, true);
          if (off === 0 && size === 0) continue; // never written (incomplete split file)
          if ((f.dumpLevel & 1) !== 0 && off === fileZero) continue;
          lo = Math.min(lo, off);
          hi = Math.max(hi, off + size);
        }
        if (hi > lo) {
          const data = readAt(f.fd, lo, hi - lo, f.path);
          sink.write(dataPos, data);
          const delta = dataPos - lo;
          for (let i = 0; i < n; i++) {
            const o = i * PAGE_DESC_SIZE;
            const off = Number(dv.getBigUint64(o, true));
            const size = dv.getUint32(o + 8, true);
            if (off === 0 && size === 0) continue;
            if ((f.dumpLevel & 1) !== 0 && off === fileZero) continue;
            dv.setBigUint64(o, BigInt(off + delta), true);
          }
          dataPos += hi - lo;
        }
        sink.write(descPos, descs);
        descPos += descs.length;
        done += n;
        msgs.progress(PROGRESS_COPY, done, numDumpable, t0);
      }
    }
    msgs.progressDone(PROGRESS_COPY, numDumpable, t0, true);
  } finally {
    for (const f of files) closeSync(f.fd);
  }
}
