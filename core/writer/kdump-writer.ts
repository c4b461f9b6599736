/**
 * The kdump-compressed writer (header version 6, "KDUMP   "), laid out as
 * makedumpfile lays it out:
 *   block 0: disk_dump_header (464 bytes on x86-64)
 *   block 1: kdump_sub_header (104 bytes) + the ELF notes copied verbatim
 *   1st bitmap (pages that exist), 2nd bitmap (pages dumped), each padded to blocks
 *   page_desc[num_dumpable] {offset u64, size u32, flags u32, page_flags u64}
 *   data: the shared zero page first (-d bit 1), then each page in pfn order.
 * Pages are read in batches of consecutive dumpable pfns and compressed in
 * the main thread or in worker_threads. Page data is always written before the
 * descriptors that point at it, so an interrupted dump (ENOSPC, read error) is
 * finished with the INCOMPLETE flag and every written descriptor is valid.
 */
import type { ExclusionCounts } from '../filter/exclude.js';
import { DUMP_DH_COMPRESSED_INCOMPLETE } from '../formats/kdump-flags.js';
import { BatchCompressor, type BatchResult, isZeroPage } from './batch.js';
import type { Bitmap } from './bitmap.js';
import type { CompressPool } from './compress-pool.js';
import { type Messages, PROGRESS_COPY } from './messages.js';
import { NoSpaceError, type OutputSink } from './output.js';
import { type Compression, compressionFlag } from './page-compress.js';
import { type DumpSource, InputReadError } from './source.js';

export const DISK_DUMP_HEADER_SIZE = 464;
export const KDUMP_SUB_HEADER_SIZE = 104;
export const PAGE_DESC_SIZE = 24;
const BATCH_PAGES = 256;
const FLUSH_BYTES = 2 << 20;

export interface HeaderFacts {
  /** new_utsname: 6 x 65 bytes. */
  utsname: Uint8Array;
  /** CRASHTIME (seconds), 0 when unknown. */
  crashTime: bigint;
  nrCpus: number;
  physBase: bigint;
}

export interface KdumpWriteParams {
  source: DumpSource;
  sink: OutputSink;
  compression: Compression;
  dumpLevel: number;
  bitmap1: Bitmap;
  bitmap2: Bitmap;
  header: HeaderFacts;
  /** Number of set bits in the whole 2nd bitmap (sizes the descriptor table). */
  numDumpable: number;
  split?: { startPfn: number; endPfn: number };
  /** Worker threads for compression (0 or 1: compress in this thread). */
  threads: number;
  /** A pool started earlier (overlapping worker start-up with the page filter); closed by the caller. */
  pool?: CompressPool;
  messages: Messages;
  counts: ExclusionCounts;
  /** Bytes of page data gathered before a write (-b ORDER: page size << ORDER); default 2 MiB. */
  bufferBytes?: number;
  /** Rewrites a batch of pages before they are compressed (--config's erase commands). */
  filterPages?: (buf: Uint8Array, pfns: ArrayLike<number>, count: number) => void;
  /** Text appended after the page data, recorded in the sub-header (makedumpfile's eraseinfo). */
  eraseInfo?: () => Uint8Array;
}

export interface WriteResult {
  incomplete: boolean;
  /** Why the dump is incomplete. */
  error?: Error;
  pagesWritten: number;
}

export interface KdumpLayout {
  blockSize: number;
  subHdrBlocks: number;
  bitmapLen: number;
  offBitmap1: number;
  offDesc: number;
  offData: number;
}

export function kdumpLayout(pageSize: number, noteSize: number, maxPfn: number, numDumpable: number): KdumpLayout {
  const bs = pageSize;
  const subHdrBlocks = Math.ceil((KDUMP_SUB_HEADER_SIZE + noteSize) / bs);
  const bitmapLen = Math.ceil(Math.ceil(maxPfn / 8) / bs) * bs;
  const offBitmap1 = (1 + subHdrBlocks) * bs;
  const offDesc = offBitmap1 + 2 * bitmapLen;
  return {
    blockSize: bs,
    subHdrBlocks,
    bitmapLen,
    offBitmap1,
    offDesc,
    offData: offDesc + numDumpable * PAGE_DESC_SIZE,
  };
}

export function buildDiskDumpHeader(
  p: { pageSize: number; maxPfn: number; status: number; header: HeaderFacts },
  layout: KdumpLayout,
): Uint8Array {
  const h = new Uint8Array(DISK_DUMP_HEADER_SIZE);
  const dv = new DataView(h.buffer);
  h.set(Buffer.from('KDUMP   ', 'latin1'), 0);
  dv.setInt32(8, 6, true);
  h.set(p.header.utsname.subarray(0, 390), 12);
  dv.setBigInt64(408, p.header.crashTime, true);
  dv.setBigInt64(416, 0n, true);
  dv.setUint32(424, p.status, true);
  dv.setInt32(428, p.pageSize, true);
  dv.setInt32(432, layout.subHdrBlocks, true);
  dv.setUint32(436, (2 * layout.bitmapLen) / layout.blockSize, true);
  dv.setUint32(440, Math.min(p.maxPfn, 0xffffffff), true);
  dv.setInt32(460, p.header.nrCpus, true);
  return h;
}

export function buildSubHeader(
  p: {
    physBase: bigint;
    dumpLevel: number;
    split?: { startPfn: number; endPfn: number };
    noteSize: number;
    vmcoreinfoNoteOffset: number;
    vmcoreinfoNoteSize: number;
    maxPfn: number;
  },
  blockSize: number,
): Uint8Array {
  const k = new Uint8Array(KDUMP_SUB_HEADER_SIZE);
  const dv = new DataView(k.buffer);
  dv.setBigUint64(0, p.physBase, true);
  dv.setInt32(8, p.dumpLevel, true);
  if (p.split) {
    dv.setInt32(12, 1, true);
    dv.setBigUint64(16, BigInt(Math.min(p.split.startPfn, 0xffffffff)), true);
    dv.setBigUint64(24, BigInt(Math.min(p.split.endPfn, 0xffffffff)), true);
    dv.setBigUint64(80, BigInt(p.split.startPfn), true);
    dv.setBigUint64(88, BigInt(p.split.endPfn), true);
  }
  if (p.noteSize > 0) {
    const offNote = blockSize + KDUMP_SUB_HEADER_SIZE;
    if (p.vmcoreinfoNoteSize > 0) {
      dv.setBigUint64(32, BigInt(offNote + p.vmcoreinfoNoteOffset), true);
      dv.setBigUint64(40, BigInt(p.vmcoreinfoNoteSize), true);
    }
    dv.setBigUint64(48, BigInt(offNote), true);
    dv.setBigUint64(56, BigInt(p.noteSize), true);
  }
  dv.setBigUint64(96, BigInt(p.maxPfn), true);
  return k;
}

function padTo(bytes: Uint8Array, len: number): Uint8Array {
  if (bytes.length === len) return bytes;
  const out = new Uint8Array(len);
  out.set(bytes.subarray(0, Math.min(len, bytes.length)));
  return out;
}

export async function writeKdump(p: KdumpWriteParams): Promise<WriteResult> {
  const src = p.source;
  const ps = src.pageSize;
  const maxPfn = src.maxPfn;
  const layout = kdumpLayout(ps, src.noteBytes.length, maxPfn, p.numDumpable);
  const status = compressionFlag(p.compression);
  const hdr = buildDiskDumpHeader({ pageSize: ps, maxPfn, status, header: p.header }, layout);
  const sub = buildSubHeader(
    {
      physBase: p.header.physBase,
      dumpLevel: p.dumpLevel,
      split: p.split,
      noteSize: src.noteBytes.length,
      vmcoreinfoNoteOffset: src.vmcoreinfoNoteOffset,
      vmcoreinfoNoteSize: src.vmcoreinfoNoteSize,
      maxPfn,
    },
    ps,
  );
  const sink = p.sink;
  sink.write(0, hdr);
  sink.write(ps, sub);
  if (src.noteBytes.length) sink.write(ps + KDUMP_SUB_HEADER_SIZE, src.noteBytes);
  sink.write(layout.offBitmap1, padTo(p.bitmap1.bytes, layout.bitmapLen));
  sink.write(layout.offBitmap1 + layout.bitmapLen, padTo(p.bitmap2.bytes, layout.bitmapLen));

  const excludeZero = (p.dumpLevel & 1) !== 0;
  let dataPos = layout.offData;
  let zeroOffset = 0;
  if (excludeZero) {
    zeroOffset = dataPos;
    sink.write(dataPos, new Uint8Array(ps));
    dataPos += ps;
  }
  const startPfn = p.split?.startPfn ?? 0;
  const endPfn = Math.min(p.split?.endPfn ?? maxPfn, maxPfn);
  const total = p.bitmap2.count(startPfn, endPfn);

  // buffered output: data first, then the descriptors that point at it
  const flushBytes = Math.max(ps, p.bufferBytes ?? FLUSH_BYTES);
  const descBuf = new Uint8Array(Math.max(1, Math.floor(flushBytes / 4 / PAGE_DESC_SIZE)) * PAGE_DESC_SIZE);
  const descView = new DataView(descBuf.buffer);
  let descLen = 0;
  let descPos = layout.offDesc;
  // page data is assembled in one flush buffer (compressed straight into it in this thread)
  const dataBuf = new Uint8Array(flushBytes + BATCH_PAGES * ps);
  let dataLen = 0;
  let dataFlushPos = dataPos;
  let pagesWritten = 0;
  let pagesPending = 0;
  const flush = () => {
    if (dataLen) {
      try {
        sink.write(dataFlushPos, dataBuf.subarray(0, dataLen));
      } catch (e) {
        if (e instanceof NoSpaceError && !sink.flattened) {
          // keep the descriptors whose data made it (none of this chunk: unknown how much landed)
          descLen = 0;
        }
        throw e;
      }
      dataFlushPos += dataLen;
      dataLen = 0;
    }
    if (descLen) {
      sink.write(descPos, descBuf.subarray(0, descLen));
      descPos += descLen;
      descLen = 0;
    }
    pagesWritten += pagesPending;
    pagesPending = 0;
  };
  const putDesc = (offset: number, size: number, flags: number) => {
    if (descLen + PAGE_DESC_SIZE > descBuf.length) flush(); // bounded memory even for all-zero memory
    descView.setBigUint64(descLen, BigInt(offset), true);
    descView.setUint32(descLen + 8, size, true);
    descView.setUint32(descLen + 12, flags, true);
    descView.setBigUint64(descLen + 16, 0n, true);
    descLen += PAGE_DESC_SIZE;
    pagesPending++;
  };
  /** Account a batch whose data already sits in dataBuf at dataLen (`inPlace`) or in r.data. */
  const consume = (r: BatchResult, count: number, inPlace: boolean) => {
    // data first: a flush triggered by a full descriptor buffer then writes it before the descriptors
    if (!inPlace && r.dataLen) dataBuf.set(r.data.subarray(0, r.dataLen), dataLen);
    dataLen += r.dataLen;
    let off = 0;
    for (let i = 0; i < count; i++) {
      const sz = r.sizes[i]!;
      if (sz === 0) {
        putDesc(zeroOffset, ps, 0);
        p.counts.zero++;
      } else {
        putDesc(dataPos + off, sz, r.flags[i]!);
        off += sz;
      }
    }
    dataPos += off;
    if (dataLen >= flushBytes) flush();
  };

  // batch reader over the dumpable pfns of [startPfn, endPfn)
  let nextPfn = p.bitmap2.nextSet(startPfn);
  const pfnList = new Float64Array(BATCH_PAGES); // pfns of a machine over 8 TiB pass 2 ** 31
  const readBatch = (buf: Uint8Array): number => {
    let n = 0;
    const b2 = p.bitmap2;
    while (n < BATCH_PAGES && nextPfn >= 0 && nextPfn < endPfn) {
      pfnList[n++] = nextPfn;
      const after = nextPfn + 1;
      nextPfn = after < endPfn ? b2.nextSet(after) : -1;
    }
    if (n === 0) return 0;
    if (src.readPageList) {
      src.readPageList(pfnList, n, buf, 0);
    } else {
      for (let i = 0; i < n; ) {
        let run = 1;
        while (i + run < n && pfnList[i + run] === pfnList[i]! + run) run++;
        src.readPages(pfnList[i]!, run, buf, i * ps);
        i += run;
      }
    }
    // erased before the zero-page test and compression, as makedumpfile's filter_data_buffer()
    p.filterPages?.(buf, pfnList, n);
    return n;
  };

  const start = performance.now();
  let done = 0;
  const msgs = p.messages;
  let incompleteError: Error | undefined;
  const threads = p.pool ? p.pool.size : p.threads > 1 ? p.threads : 0;
  try {
    if (!threads && p.compression === 'none') {
      // uncompressed: the pages are read straight into the flush buffer, zero pages squeezed out in place
      const sizes = new Int32Array(BATCH_PAGES);
      const flags = new Int32Array(BATCH_PAGES);
      const r: BatchResult = { sizes, flags, data: dataBuf, dataLen: 0 };
      for (;;) {
        const region = dataBuf.subarray(dataLen, dataLen + BATCH_PAGES * ps);
        const n = readBatch(region);
        if (n === 0) break;
        let w = 0;
        for (let i = 0; i < n; i++) {
          const off = i * ps;
          if (excludeZero && isZeroPage(region, off, ps)) {
            sizes[i] = 0;
            continue;
          }
          if (w !== off) region.copyWithin(w, off, off + ps);
          sizes[i] = ps;
          w += ps;
        }
        r.dataLen = w;
        consume(r, n, true);
        done += n;
        msgs.progress(PROGRESS_COPY, done, total, start);
      }
    } else if (!threads) {
      const bc = new BatchCompressor(p.compression, ps);
      const buf = new Uint8Array(BATCH_PAGES * ps);
      for (;;) {
        const n = readBatch(buf);
        if (n === 0) break;
        consume(bc.run(buf, n, excludeZero, dataBuf, dataLen), n, true);
        done += n;
        msgs.progress(PROGRESS_COPY, done, total, start);
      }
    } else {
      const pool = p.pool ?? new (await import('./compress-pool.js')).CompressPool(threads, p.compression, ps);
      try {
        const inflight: { promise: Promise<{ result: BatchResult; pages: Uint8Array }>; count: number }[] = [];
        const free: Uint8Array[] = [];
        const depth = threads * 3;
        let readErr: Error | undefined;
        for (;;) {
          while (!readErr && inflight.length < depth) {
            const buf = free.pop() ?? new Uint8Array(BATCH_PAGES * ps);
            let n: number;
            try {
              n = readBatch(buf);
            } catch (e) {
              readErr = e as Error;
              break;
            }
            if (n === 0) break;
            const promise = pool.submit(buf, n, excludeZero);
            promise.catch(() => {});
            inflight.push({ promise, count: n });
          }
          const head = inflight.shift();
          if (!head) break;
          const { result, pages } = await head.promise;
          free.push(pages);
          consume(result, head.count, false);
          done += head.count;
          msgs.progress(PROGRESS_COPY, done, total, start);
        }
        if (readErr) throw readErr;
      } finally {
        if (!p.pool) await pool.close();
      }
    }
    flush();
    // makedumpfile's write_kdump_eraseinfo(): what was erased, as text after the pages, found by the sub-header
    const ei = p.eraseInfo?.();
    if (ei?.length) {
      sink.write(dataFlushPos, ei);
      const sv = new DataView(sub.buffer, sub.byteOffset, sub.byteLength);
      sv.setBigUint64(64, BigInt(dataFlushPos), true);
      sv.setBigUint64(72, BigInt(ei.length), true);
      dataFlushPos += ei.length;
      sink.write(ps, sub);
    }
  } catch (e) {
    if (e instanceof InputReadError) {
      incompleteError = e;
      try {
        flush();
      } catch (e2) {
        if (!(e2 instanceof NoSpaceError)) throw e2;
      }
    } else if (e instanceof NoSpaceError) {
      incompleteError = e;
    } else {
      throw e;
    }
  }
  msgs.progressDone(PROGRESS_COPY, total, start, true);
  msgs.stepTime(PROGRESS_COPY, start);
  if (incompleteError) {
    if (!sink.flattened) {
      const h2 = buildDiskDumpHeader(
        { pageSize: ps, maxPfn, status: status | DUMP_DH_COMPRESSED_INCOMPLETE, header: p.header },
        layout,
      );
      try {
        sink.write(0, h2);
      } catch {
        // the header block exists already; if even this fails the file is left as is
      }
    }
    return { incomplete: true, error: incompleteError, pagesWritten };
  }
  return { incomplete: false, pagesWritten };
}
