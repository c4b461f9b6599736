/**
 * kdump-compressed dumps ("KDUMP   ", header versions 1-6, and the older
 * "DISKDUMP"), as makedumpfile and QEMU write them. Layout (native byte order of
 * the dumped machine; x86-64 here):
 *   block 0                 disk_dump_header (464 bytes)
 *   block 1..               kdump_sub_header (sub_hdr_size blocks; notes and VMCOREINFO inside)
 *   then                    1st bitmap (page exists) and 2nd bitmap (page dumped), bitmap_blocks in all
 *   then                    page_desc {offset i64, size u32, flags u32, page_flags u64} per dumped page
 *   then                    page data, each page compressed only when that is smaller
 */
import { Worker } from 'node:worker_threads';
import type { DecodeDone, DecodeJob } from '../compress/decode-worker.js';
import type { Compression } from '../compress/index.js';
import { DecompressError, decompressPage } from '../compress/index.js';
import type { Dump, DumpInfo, DumpNote, PageState } from '../dump.js';
import { checkCpuNotes, parseNotes, vmcoreinfoFromNotes } from '../elf-notes.js';
import { BadDataError, FaultError, type FaultReason } from '../errors.js';
import { PageCache } from '../page-cache.js';
import { checkUtsMachine } from './arch.js';
import { RankedBitmap } from './bitmap.js';
import {
  DUMP_DH_COMPRESSED_INCOMPLETE,
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
} from './kdump-flags.js';
import { type ByteSource, readAt } from './source.js';

export const KDUMP_SIGNATURE = 'KDUMP   ';
export const DISKDUMP_SIGNATURE = 'DISKDUMP';
const HEADER_SIZE = 464;
const SUB_HEADER_SIZE = 104;
const DESC_SIZE = 24;
const MAX_META = 256 << 20; // notes, vmcoreinfo: refuse more
/** x86-64's NR_CPUS limit (CONFIG_NR_CPUS at most 8192). */
const MAX_CPUS = 8192;

/** The flags a page descriptor may carry: the compression of its page. */
const KNOWN_PAGE_FLAGS =
  DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY | DUMP_DH_COMPRESSED_ZSTD;

export function isKdump(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const sig = String.fromCharCode(...head.subarray(0, 8));
  return sig === KDUMP_SIGNATURE || sig === DISKDUMP_SIGNATURE;
}

function compressionOf(flags: number): Compression | undefined {
  if (flags & DUMP_DH_COMPRESSED_ZLIB) return 'zlib';
  if (flags & DUMP_DH_COMPRESSED_LZO) return 'lzo';
  if (flags & DUMP_DH_COMPRESSED_SNAPPY) return 'snappy';
  if (flags & DUMP_DH_COMPRESSED_ZSTD) return 'zstd';
  return undefined;
}

function fixed(buf: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && buf[end] !== 0) end++;
  return new TextDecoder('latin1').decode(buf.subarray(start, end));
}

/** A thread for Dump.prefetch (core/compress/decode-worker.ts); from TypeScript sources (tests), through tsx. */
function decodeWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    const url = new URL('../compress/decode-worker.ts', self);
    return new Worker(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`,
      { eval: true },
    );
  }
  // Compiled: dist/core/formats/ -> dist/core/compress/; bundled: every file in dist/bundle/.
  const bundled = !/\/core\/formats\/[^/]+$/.test(new URL(self).pathname);
  return new Worker(new URL(bundled ? './decode-worker.js' : '../compress/decode-worker.js', self));
}

/** Bytes of page data read at once when pages are read in file order. */
const READ_AHEAD = 256 << 10;

export class KdumpDump implements Dump {
  readonly path: string;
  readonly pageSize: number;
  readonly maxPfn: number;
  readonly notes: DumpNote[] = [];
  readonly vmcoreinfo: string | undefined;
  readonly info: DumpInfo;
  readonly warnings: string[] = [];
  readonly headerVersion: number;
  readonly status: number;
  readonly physBase: bigint | undefined;
  readonly startPfn: number;
  readonly endPfn: number;
  readonly present: RankedBitmap;
  readonly dumped: RankedBitmap;
  private readonly descStart: number;
  private startRankMemo: number | undefined;
  private readonly cache: PageCache;
  /** The last block of descriptors read, to serve sequential scans. */
  private descChunk: { first: number; data: DataView } | undefined;

  constructor(
    private readonly src: ByteSource,
    format = 'kdump',
  ) {
    this.path = src.name;
    this.warnings.push(...(src.warnings ?? []));
    const file = src.name;
    const h = readAt(src, 0, HEADER_SIZE);
    if (h.length < HEADER_SIZE)
      throw new BadDataError(
        `file ends inside the disk_dump_header (${h.length} of ${HEADER_SIZE} bytes)`,
        file,
        h.length,
      );
    if (!isKdump(h)) throw new BadDataError('no KDUMP or DISKDUMP signature', file, 0);
    const dv = new DataView(h.buffer, h.byteOffset, HEADER_SIZE);
    const signature = fixed(h, 0, 8);
    this.headerVersion = dv.getInt32(8, true);
    const uts = [0, 1, 2, 3, 4, 5].map((i) => fixed(h, 12 + i * 65, 65));
    const tvSec = dv.getBigInt64(408, true);
    const tvUsec = dv.getBigInt64(416, true);
    this.status = dv.getUint32(424, true);
    const blockSize = dv.getUint32(428, true);
    const subHdrSize = dv.getUint32(432, true);
    const bitmapBlocks = dv.getUint32(436, true);
    let maxMapnr = dv.getUint32(440, true);
    const nrCpus = dv.getUint32(460, true);
    checkUtsMachine(uts[4]!, file, 12 + 4 * 65);
    const compressionBits = [
      DUMP_DH_COMPRESSED_ZLIB,
      DUMP_DH_COMPRESSED_LZO,
      DUMP_DH_COMPRESSED_SNAPPY,
      DUMP_DH_COMPRESSED_ZSTD,
    ].filter((b) => this.status & b);
    if (compressionBits.length > 1) {
      throw new BadDataError(
        `status 0x${this.status.toString(16)} names ${compressionBits.length} compression methods (${compressionBits.map((b) => compressionOf(b)).join(', ')}); a dump has one`,
        file,
        424,
      );
    }
    if (blockSize < 512 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
      throw new BadDataError(`block_size ${blockSize} is not a power of two between 512 and 1 MiB`, file, 428);
    }
    if (this.headerVersion < 0 || this.headerVersion > 64) {
      throw new BadDataError(`header_version ${this.headerVersion} is not one this reader knows (1 to 6)`, file, 8);
    }
    this.pageSize = blockSize;
    // Sub-header.
    let dumpLevel: number | undefined;
    let split = false;
    let startPfn = 0;
    let endPfn = 0;
    const v = signature === DISKDUMP_SIGNATURE ? 0 : this.headerVersion;
    if (v >= 1 && subHdrSize > 0) {
      const s = readAt(src, blockSize, SUB_HEADER_SIZE);
      if (s.length < Math.min(SUB_HEADER_SIZE, subHdrSize * blockSize)) {
        throw new BadDataError('file ends inside the kdump_sub_header', file, blockSize + s.length);
      }
      const sv = new DataView(s.buffer, s.byteOffset, s.byteLength);
      const u64 = (o: number): number => {
        if (o + 8 > s.length) return 0;
        const x = sv.getBigUint64(o, true);
        if (x > BigInt(Number.MAX_SAFE_INTEGER))
          throw new BadDataError(`sub-header field 0x${x.toString(16)} too large`, file, blockSize + o);
        return Number(x);
      };
      this.physBase = sv.getBigUint64(0, true);
      dumpLevel = sv.getInt32(8, true);
      if (v >= 2) {
        split = sv.getInt32(12, true) !== 0;
        startPfn = u64(16);
        endPfn = u64(24);
      }
      if (v >= 4) {
        const off = u64(48);
        const size = u64(56);
        if (size > 0) {
          const notes = this.readMeta(off, size, 'note area');
          this.notes.push(...parseNotes(notes, file, off, this.warnings));
        }
      }
      if (v >= 6) {
        startPfn = u64(80) || startPfn;
        endPfn = u64(88) || endPfn;
        const m64 = u64(96);
        if (m64) maxMapnr = m64;
      }
      if (v >= 3) {
        const off = u64(32);
        const size = u64(40);
        const fromNotes = vmcoreinfoFromNotes(this.notes);
        this.vmcoreinfo =
          fromNotes ??
          (size > 0
            ? new TextDecoder('latin1').decode(this.readMeta(off, size, 'vmcoreinfo')).replace(/\0+$/, '')
            : undefined);
      }
    }
    if (!split || endPfn === 0) {
      startPfn = 0;
      endPfn = maxMapnr;
    }
    if (startPfn > endPfn || endPfn > maxMapnr) {
      throw new BadDataError(
        `split range [0x${startPfn.toString(16)}, 0x${endPfn.toString(16)}) outside max_mapnr 0x${maxMapnr.toString(16)}`,
        file,
        blockSize + 16,
      );
    }
    this.startPfn = startPfn;
    this.endPfn = endPfn;
    this.maxPfn = maxMapnr;
    // Bitmaps.
    const bitmapOff = (1 + subHdrSize) * blockSize;
    const bitmapLen = bitmapBlocks * blockSize;
    const half = bitmapLen / 2;
    const needBytes = Math.ceil(maxMapnr / 8);
    if (half < needBytes) {
      throw new BadDataError(
        `bitmaps of ${half} bytes each cannot cover max_mapnr 0x${maxMapnr.toString(16)} (need ${needBytes})`,
        file,
        436,
      );
    }
    // A file cut inside its bitmaps opens (its headers, notes and VMCOREINFO are there): no page's data is, and
    // each read says so; the bytes of the bitmaps that are missing read as zeros (RankedBitmap's short reads).
    const bitmapsCut = bitmapOff + bitmapLen > src.size ? src.size : undefined;
    // Bitmaps far larger than max_mapnr needs (makedumpfile rounds each up to whole blocks) are a damaged
    // bitmap_blocks, not a cut file: refused.
    if (bitmapsCut !== undefined && half > Math.ceil(needBytes / blockSize) * blockSize * 2 + blockSize) {
      throw new BadDataError(
        `bitmaps (${bitmapLen} bytes at 0x${bitmapOff.toString(16)}) run past the end of the file (0x${src.size.toString(16)}), and are larger than max_mapnr 0x${maxMapnr.toString(16)} needs: bitmap_blocks is damaged`,
        file,
        436,
      );
    }
    this.bitmapOff = bitmapOff;
    this.dumpedAt = bitmapOff + half;
    // Only the part of each bitmap that max_mapnr uses, read a chunk at a time when asked (bitmap.ts).
    this.present = new RankedBitmap(src, bitmapOff, needBytes);
    this.dumped = new RankedBitmap(src, bitmapOff + half, needBytes);
    this.descStart = bitmapOff + bitmapLen;
    this.cache = new PageCache(this.pageSize);
    const compression = new Set<string>();
    if (this.status & DUMP_DH_COMPRESSED_ZLIB) compression.add('zlib');
    if (this.status & DUMP_DH_COMPRESSED_LZO) compression.add('lzo');
    if (this.status & DUMP_DH_COMPRESSED_SNAPPY) compression.add('snappy');
    if (this.status & DUMP_DH_COMPRESSED_ZSTD) compression.add('zstd');
    const dumpedCount = this.dumped.rank(endPfn) - this.startRank;
    let truncatedAt: number | undefined;
    if (bitmapsCut !== undefined) {
      this.bitmapsCut = bitmapsCut;
      truncatedAt = bitmapsCut;
      this.warnings.unshift(
        `${file}: may be truncated or incomplete\n` +
          `         the bitmaps (0x${bitmapLen.toString(16)} bytes at file offset 0x${bitmapOff.toString(16)}) end at 0x${(bitmapOff + bitmapLen).toString(16)}; the file ends at 0x${src.size.toString(16)} (${src.size} bytes)\n` +
          '         (no page descriptor and no page data is in the file: each read of a page says so)',
      );
    } else truncatedAt = this.checkDescriptors(dumpedCount);
    const prstatus = checkCpuNotes(this.notes, file, v >= 4 ? this.warnings : []);
    let cpus = nrCpus;
    if (v >= 4 && nrCpus !== prstatus && prstatus > 0) {
      this.warnings.push(
        `${file}: offset 0x1cc: the disk_dump_header's nr_cpus ${nrCpus} disagrees with its ${prstatus} NT_PRSTATUS notes: ${prstatus} CPUs are taken`,
      );
      cpus = prstatus;
    } else if (nrCpus > MAX_CPUS) {
      this.warnings.push(
        `${file}: offset 0x1cc: the disk_dump_header's nr_cpus ${nrCpus} is more than x86-64's NR_CPUS limit (${MAX_CPUS}): not used`,
      );
      cpus = prstatus;
    }
    this.info = {
      format,
      signature,
      compression: compression.size ? [...compression] : ['none'],
      headerVersion: this.headerVersion,
      blockSize,
      dumpLevel,
      nrCpus: cpus,
      utsname: {
        sysname: uts[0]!,
        nodename: uts[1]!,
        release: uts[2]!,
        version: uts[3]!,
        machine: uts[4]!,
        domainname: uts[5]!,
      },
      timestamp: { sec: tvSec, usec: tvUsec },
      incomplete: (this.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0,
      split: split ? { startPfn, endPfn } : undefined,
      physBase: this.physBase,
      maxMapnr,
      pagesDumped: dumpedCount,
      truncated: truncatedAt !== undefined || undefined,
      truncatedAt,
    };
    // The pages present read the whole 1st bitmap: counted when first asked for (tscrash info), not at open.
    let present: number | undefined;
    const presentCount = (): number => {
      if (present === undefined) {
        present = this.present.countBelow(maxMapnr);
        // Every dumped page is present: a 1st bitmap with fewer pages than the 2nd has is damaged.
        if (present < this.dumped.total && this.bitmapsCut === undefined)
          this.readWarning(
            'present-count',
            `${file}: offset 0x${bitmapOff.toString(16)}: the 1st bitmap has ${present} pages present, fewer than the ${this.dumped.total} the 2nd bitmap says are dumped: the 1st bitmap is damaged (the pages' states it gives, excluded or not in the dump, are not to be trusted)`,
          );
      }
      return present;
    };
    Object.defineProperties(this.info, {
      pagesPresent: { enumerable: true, get: presentCount },
      pagesExcluded: { enumerable: true, get: () => Math.max(0, presentCount() - this.dumped.total) },
    });
  }

  /**
   * Check the page descriptors against the bitmap and the file. makedumpfile (and QEMU) write the table, then
   * the shared zero page's data, then the pages' data in pfn order: so the first dumped page's data starts at
   * most a page after the table, and the last page's data ends the file. A bitmap whose population count
   * disagrees with the table (a flipped bit puts every later page on its neighbour's descriptor) is a warning
   * naming both; a file that ends before the last page's data, or inside the table, is truncated: crash's
   * warning, and the offset returned. Two descriptors are read, not the table.
   */
  private checkDescriptors(count: number): number | undefined {
    const file = this.src.name;
    const size = this.src.size;
    if (count === 0) return undefined;
    const tableEnd = this.descStart + count * DESC_SIZE;
    this.dataStart = tableEnd;
    const first = this.descriptorAt(0);
    if (first && !(first.offset === 0 && first.size === 0)) {
      if (first.offset < tableEnd || first.offset > tableEnd + this.pageSize) {
        const implied = Math.floor((first.offset - this.descStart) / DESC_SIZE);
        this.warnings.push(
          `${file}: offset 0x${this.descStart.toString(16)}: the 2nd bitmap says ${count} pages are dumped, but the first page's data starts at file offset 0x${first.offset.toString(16)}, after ${implied >= 0 ? `${implied} descriptors` : 'no descriptor'}: the bitmap or the descriptors are damaged, and pages may be read from the wrong descriptors`,
        );
        this.untrusted = true;
        this.dataStart = Math.min(tableEnd, Math.max(this.descStart, first.offset));
      }
    }
    // The table's last descriptor must be one, and the 24 bytes after it (the start of the page data) must not.
    if (!this.untrusted && tableEnd <= size) {
      // Never-written descriptors read as zeros: in an INCOMPLETE dump, and in a flattened stream cut short.
      const incomplete = (this.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0 || this.src.truncatedAt !== undefined;
      const last = this.descriptorAt(count - 1);
      const after = tableEnd + DESC_SIZE <= size ? this.descriptorAt(count) : undefined;
      const lastOk = last && (this.plausible(last) || (incomplete && last.offset === 0 && last.size === 0));
      if (!lastOk || (after && this.plausible(after))) {
        this.warnings.push(
          `${file}: offset 0x${(tableEnd - (lastOk ? 0 : DESC_SIZE)).toString(16)}: the 2nd bitmap says ${count} pages are dumped, but ${lastOk ? `a page descriptor follows the ${count}th` : `the ${count}th descriptor is not one`}: the bitmap or the descriptors are damaged, and pages may be read from the wrong descriptors`,
        );
        this.untrusted = true;
      }
    }
    let cut: number | undefined;
    let what = '';
    if (tableEnd > size) {
      cut = size;
      const inFile = Math.max(0, Math.floor((size - this.descStart) / DESC_SIZE));
      what = `the page descriptor table ends at file offset 0x${tableEnd.toString(16)}: ${inFile} of its ${count} descriptors are in the file`;
    } else {
      const end = this.lastDataEnd(count, tableEnd);
      if (end > size) {
        cut = size;
        what = `the last page's data ends at file offset 0x${end.toString(16)}`;
      }
    }
    const flat = this.src.truncatedAt;
    if (flat !== undefined) {
      cut ??= size;
      what = `the flattened stream ends at offset 0x${flat.toString(16)} without its end marker${what ? `, and ${what}` : ''}`;
    }
    if (cut === undefined) return undefined;
    this.warnings.unshift(
      `${file}: may be truncated or incomplete\n` +
        `         ${what}; the file ends at 0x${size.toString(16)} (${size} bytes)\n` +
        '         (pages stored past the end cannot be read: each read of one says so)',
    );
    return cut;
  }

  /**
   * The end of the last page's data: pages are written in pfn order, so it is the last descriptor's unless that
   * one is the shared zero page (whose data comes first): then the table is read backwards, a block at a time,
   * to the last page with data of its own.
   */
  private lastDataEnd(count: number, tableEnd: number): number {
    const CHUNK = 2048;
    let end = 0;
    for (let hi = count; hi > 0; hi -= CHUNK) {
      const lo = Math.max(0, hi - CHUNK);
      const raw = readAt(this.src, this.descStart + lo * DESC_SIZE, (hi - lo) * DESC_SIZE);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      for (let o = 0; o + DESC_SIZE <= raw.length; o += DESC_SIZE) {
        const off = Number(dv.getBigInt64(o, true));
        end = Math.max(end, off + dv.getUint32(o + 8, true));
      }
      if (end > tableEnd + this.pageSize) break;
    }
    return end;
  }

  /** Where page data may start (the end of the descriptor table), for checking descriptors. */
  private dataStart = 0;
  /** Set when the bitmap and the descriptor table disagree. */
  untrusted = false;
  /** File offsets of the 1st and the 2nd bitmap. */
  private readonly bitmapOff: number;
  private readonly dumpedAt: number;
  /** Where the file ends when it ends inside its bitmaps. */
  private bitmapsCut: number | undefined;
  /**
   * What reading pages found wrong after open, once each: a page whose bitmap bits disagree, a page read while the
   * 2nd bitmap and the descriptor table disagree (its data may be another page's). Each names the file offset.
   */
  readonly readWarnings: string[] = [];
  private readonly warned = new Set<string>();
  private static readonly MAX_READ_WARNINGS = 64;

  /**
   * In a file cut inside its bitmaps: whether the pfn is lost with the cut (dumped by what the 2nd bitmap has, or its
   * bit past the end); a pfn whose bit is in the file and clear is as the bitmaps say.
   */
  private cutBefore(pfn: number): boolean {
    if (this.bitmapsCut === undefined) return false;
    return this.dumpedAt + (pfn >> 3) >= this.bitmapsCut || this.dumped.test(pfn);
  }

  private readWarning(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    const n = this.readWarnings.length;
    if (n < KdumpDump.MAX_READ_WARNINGS) this.readWarnings.push(message);
    else if (n === KdumpDump.MAX_READ_WARNINGS)
      this.readWarnings.push(`${this.path}: more pages read from damaged bitmaps or descriptors: not each named`);
  }

  /**
   * The cross-checks of one dumped page as it is read: its 1st bitmap bit (a dumped page is present), and the
   * open's bitmap/descriptor check (when it failed, every page's descriptor may be its neighbour's).
   */
  private checkPage(pfn: number): void {
    if (!this.present.test(pfn)) {
      const at = this.bitmapOff + (pfn >> 3);
      this.readWarning(
        `present:${pfn}`,
        `${this.path}: offset 0x${at.toString(16)}: the 1st bitmap says pfn 0x${pfn.toString(16)} is not in memory, but the 2nd bitmap says it is dumped: a bitmap is damaged there (the page is read; its state is not to be trusted)`,
      );
    }
    if (this.untrusted) {
      const at = this.descStart + (this.dumped.rank(pfn) - this.startRank) * DESC_SIZE;
      this.readWarning(
        `desc:${pfn}`,
        `${this.path}: offset 0x${at.toString(16)}: pfn 0x${pfn.toString(16)} is read from this page descriptor, but the 2nd bitmap and the descriptor table disagree (the warning at open): its data may be another page's`,
      );
    }
  }

  /** Whether 24 bytes read as a page descriptor could be one: its data after the table, a page at most, known flags. */
  private plausible(d: { offset: number; size: number; flags: number }): boolean {
    return (
      d.offset >= this.descStart &&
      d.size > 0 &&
      d.size <= this.pageSize &&
      (d.flags & ~KNOWN_PAGE_FLAGS) === 0 &&
      // Past the end of the file is let through (a cut file), not past any file there is.
      d.offset < 2 ** 48
    );
  }

  /** The idx-th descriptor of this file, or undefined past the end of the file. */
  private descriptorAt(idx: number): { offset: number; size: number; flags: number } | undefined {
    const raw = readAt(this.src, this.descStart + idx * DESC_SIZE, DESC_SIZE);
    if (raw.length < DESC_SIZE) return undefined;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const off = dv.getBigInt64(0, true);
    return {
      offset: off < 0n || off > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(off),
      size: dv.getUint32(8, true),
      flags: dv.getUint32(12, true),
    };
  }

  /** Dumped pages below this file's first pfn (a split file's descriptors start there). */
  private get startRank(): number {
    this.startRankMemo ??= this.dumped.rank(this.startPfn);
    return this.startRankMemo;
  }

  private readMeta(off: number, size: number, what: string): Uint8Array {
    if (size > MAX_META) throw new BadDataError(`${what} of ${size} bytes is too large`, this.src.name, off);
    const b = readAt(this.src, off, size);
    if (b.length < size)
      throw new BadDataError(
        `${what} (${size} bytes at 0x${off.toString(16)}) runs past the end of the file`,
        this.src.name,
        off,
      );
    return b;
  }

  private fault(pfn: number, reason: FaultReason, why: string): FaultError {
    const a = pfn * this.pageSize;
    return new FaultError(
      `physical address 0x${a.toString(16)} (pfn 0x${pfn.toString(16)}): ${why} in ${this.path}`,
      BigInt(a),
      'physical',
      reason,
      undefined,
      pfn,
    );
  }

  pageState(pfn: number): PageState {
    if (pfn < 0 || pfn >= this.maxPfn) return 'absent';
    if (this.cutBefore(pfn)) return 'truncated';
    if (!this.dumped.test(pfn)) return this.present.test(pfn) ? 'excluded' : 'absent';
    if (pfn < this.startPfn || pfn >= this.endPfn) return 'absent';
    if (this.descAt(pfn) < 0) return 'truncated';
    if (this.dOffset === 0 && this.dSize === 0) return this.src.truncatedAt !== undefined ? 'truncated' : 'incomplete';
    if (this.dOffset + this.dSize > this.src.size) return 'truncated';
    return 'dumped';
  }

  /** The page_desc of a dumped pfn, or undefined when the descriptor lies past the end of the file. */
  descriptor(pfn: number): { offset: number; size: number; flags: number; pageFlags: bigint } | undefined {
    const o = this.descAt(pfn);
    if (o < 0) return undefined;
    const c = this.descChunk!.data;
    return { offset: this.dOffset, size: this.dSize, flags: this.dFlags, pageFlags: c.getBigUint64(o + 16, true) };
  }

  /** What descAt() found: the descriptor's offset (-1 when out of range), size and flags. */
  private dOffset = 0;
  private dSize = 0;
  private dFlags = 0;

  /**
   * Read the page_desc of a dumped pfn into dOffset/dSize/dFlags (numbers: no bigint, no object, as every page
   * read asks); returns its place in the descriptor chunk, or -1 when it lies past the end of the file.
   */
  private descAt(pfn: number): number {
    const idx = this.dumped.rank(pfn) - this.startRank;
    const CHUNK = 2048;
    const first = idx - (idx % CHUNK);
    let c = this.descChunk;
    if (!c || c.first !== first) {
      const raw = readAt(this.src, this.descStart + first * DESC_SIZE, CHUNK * DESC_SIZE);
      c = { first, data: new DataView(raw.buffer, raw.byteOffset, raw.byteLength) };
      this.descChunk = c;
    }
    const o = (idx - first) * DESC_SIZE;
    if (o + DESC_SIZE > c.data.byteLength) return -1;
    const lo = c.data.getUint32(o, true);
    const hi = c.data.getInt32(o + 4, true);
    // an offset past 2^53 (or negative) is not one a file has: -1, which the callers' range checks refuse
    this.dOffset = hi < 0 || hi >= 0x200000 ? -1 : hi * 4294967296 + lo;
    this.dSize = c.data.getUint32(o + 8, true);
    this.dFlags = c.data.getUint32(o + 12, true);
    return o;
  }

  /** Read-ahead of page data for scans in file order (pages are stored in pfn order). */
  private ra = new Uint8Array(0);
  private raPos = 0;
  private raLen = 0;
  /** Where the last page data read ended: a read that starts there is part of a sequential scan. */
  private lastEnd = -1;

  /**
   * `size` bytes of page data at `offset`: a view into the read-ahead window (valid until the next call) when a
   * scan in file order reaches it, else a buffer of its own (`owned`).
   */
  private pageData(offset: number, size: number): { data: Uint8Array; owned: boolean } {
    const end = offset + size;
    if (offset >= this.raPos && end <= this.raPos + this.raLen) {
      this.lastEnd = end;
      return { data: this.ra.subarray(offset - this.raPos, end - this.raPos), owned: false };
    }
    // the next bytes after the last read, or after the window (a read elsewhere between, such as the shared zero
    // page of -d 1, does not end a scan)
    const sequential = offset === this.lastEnd || (this.raLen > 0 && offset === this.raPos + this.raLen);
    this.lastEnd = end;
    if (sequential && size <= READ_AHEAD) {
      if (this.ra.length === 0) this.ra = new Uint8Array(READ_AHEAD);
      this.raPos = offset;
      this.raLen = this.src.read(this.ra, 0, Math.min(READ_AHEAD, this.src.size - offset), offset);
      if (this.raLen >= size) return { data: this.ra.subarray(0, size), owned: false };
      this.raLen = 0;
    }
    // the same bytes as the last read elsewhere (the shared zero page that every zero page of -d 1 points at)
    if (offset === this.memoPos && this.memo.length === size) return { data: this.memo, owned: false };
    const data = readAt(this.src, offset, size);
    if (data.length === size) {
      // a copy: the page handed out may be anyone's
      this.memoPos = offset;
      this.memo = data.slice();
    }
    return { data, owned: true };
  }

  private memo: Uint8Array = new Uint8Array(0);
  private memoPos = -1;

  prefetch(pfns: Iterable<number>): Promise<number> {
    // No more than half the cache: what is decoded ahead must still be there when it is read.
    const max = this.cache.capacity >> 1;
    const want: number[] = [];
    const offsets: number[] = [];
    const sizes0: number[] = [];
    const kinds: Compression[] = [];
    let bytes = 0;
    for (const pfn of pfns) {
      if (want.length >= max) break;
      if (pfn < this.startPfn || pfn >= this.endPfn || !this.dumped.test(pfn) || this.cache.peek(pfn)) continue;
      const d = this.descriptor(pfn);
      // The checks readPage makes (a page decoded ahead is served from the cache without them).
      if (
        !d ||
        d.offset < this.dataStart ||
        d.size === 0 ||
        d.size > this.pageSize ||
        d.offset + d.size > this.src.size
      )
        continue;
      const kind = compressionOf(d.flags);
      if (!kind) continue; // stored as is: nothing to decode
      want.push(pfn);
      offsets.push(d.offset);
      sizes0.push(d.size);
      kinds.push(kind);
      bytes += d.size;
    }
    // Too few to pay for a thread's start.
    if (want.length < 64) return Promise.resolve(0);
    // The pages' data, read a run at a time: the pages of a walk are mostly stored back to back.
    const data = new Uint8Array(bytes);
    const sizes = Int32Array.from(sizes0);
    try {
      let at = 0;
      for (let i = 0; i < want.length; ) {
        let j = i + 1;
        let end = offsets[i]! + sizes0[i]!;
        while (j < want.length && offsets[j] === end && end - offsets[i]! < 1 << 20) end += sizes0[j++]!;
        const raw = readAt(this.src, offsets[i]!, end - offsets[i]!);
        if (raw.length !== end - offsets[i]!) return Promise.resolve(0); // readPage names what is missing
        data.set(raw, at);
        at += raw.length;
        i = j;
      }
    } catch {
      return Promise.resolve(0); // readPage reports it
    }
    return new Promise((resolve) => {
      let w: Worker;
      try {
        w = decodeWorker();
      } catch {
        resolve(0);
        return;
      }
      w.unref();
      const end = (n: number): void => {
        void w.terminate();
        resolve(n);
      };
      w.once('error', () => end(0));
      w.once('message', (m: DecodeDone) => {
        let n = 0;
        for (let i = 0; i < want.length; i++) {
          const pfn = want[i]!;
          if (!m.ok[i] || this.cache.peek(pfn)) continue;
          this.cache.set(pfn, m.pages.subarray(i * this.pageSize, (i + 1) * this.pageSize));
          n++;
        }
        end(n);
      });
      w.postMessage({ data, sizes, kinds, pageSize: this.pageSize } satisfies DecodeJob, [data.buffer, sizes.buffer]);
    });
  }

  readPage(pfn: number): Uint8Array {
    const hit = this.cache.get(pfn);
    if (hit) return hit;
    if (pfn < 0 || pfn >= this.maxPfn)
      throw this.fault(pfn, 'not-in-dump', `beyond max_mapnr 0x${this.maxPfn.toString(16)}`);
    if (this.cutBefore(pfn))
      throw this.fault(
        pfn,
        'truncated',
        `the file ends at offset 0x${this.bitmapsCut!.toString(16)}, inside its bitmaps: no page data is in the file`,
      );
    if (!this.dumped.test(pfn)) {
      if (this.present.test(pfn)) {
        const lvl = this.info.dumpLevel;
        throw this.fault(
          pfn,
          'excluded',
          `page excluded by makedumpfile${lvl !== undefined ? ` -d ${lvl}` : ''} filtering`,
        );
      }
      throw this.fault(pfn, 'not-in-dump', 'not in the dump (a hole in physical memory)');
    }
    if (pfn < this.startPfn || pfn >= this.endPfn) {
      throw this.fault(
        pfn,
        'not-in-dump',
        `in another file of this split dump (this one has pfns 0x${this.startPfn.toString(16)}-0x${this.endPfn.toString(16)})`,
      );
    }
    this.checkPage(pfn);
    const d = this.descAt(pfn) < 0 ? undefined : { offset: this.dOffset, size: this.dSize, flags: this.dFlags };
    const incomplete = (this.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0;
    if (!d)
      throw this.fault(
        pfn,
        incomplete ? 'incomplete' : 'truncated',
        'page descriptor lies past the end of the truncated file',
      );
    if (d.offset === 0 && d.size === 0 && incomplete)
      throw this.fault(pfn, 'incomplete', 'page never written (the dump is flagged INCOMPLETE)');
    if (d.offset === 0 && d.size === 0 && this.src.truncatedAt !== undefined)
      throw this.fault(
        pfn,
        'truncated',
        `page descriptor never written: the flattened stream ends at offset 0x${this.src.truncatedAt.toString(16)} without its end marker`,
      );
    if (d.offset < this.dataStart || d.size === 0 || d.size > this.pageSize) {
      throw new BadDataError(
        `page descriptor of pfn 0x${pfn.toString(16)} is corrupt (offset ${d.offset}, size ${d.size})`,
        this.path,
        this.descStart + (this.dumped.rank(pfn) - this.startRank) * DESC_SIZE,
      );
    }
    if (d.offset + d.size > this.src.size) {
      throw this.fault(
        pfn,
        incomplete ? 'incomplete' : 'truncated',
        `page data (0x${d.size.toString(16)} bytes at file offset 0x${d.offset.toString(16)}) lies past the end of the truncated file`,
      );
    }
    const { data: raw, owned } = this.pageData(d.offset, d.size);
    let page: Uint8Array;
    const kind = compressionOf(d.flags);
    if (kind) {
      try {
        page = decompressPage(kind, raw, this.pageSize);
      } catch (e) {
        if (e instanceof DecompressError) {
          throw new FaultError(
            `physical address 0x${(pfn * this.pageSize).toString(16)} (pfn 0x${pfn.toString(16)}): ${e.message} (page data at file offset 0x${d.offset.toString(16)} in ${this.path})`,
            BigInt(pfn * this.pageSize),
            'physical',
            'corrupt',
            undefined,
            pfn,
            { cause: e },
          );
        }
        throw e;
      }
    } else {
      if (d.size !== this.pageSize) {
        throw new BadDataError(
          `uncompressed page of pfn 0x${pfn.toString(16)} has size ${d.size}, expected ${this.pageSize}`,
          this.path,
          d.offset,
        );
      }
      page = owned ? raw : raw.slice();
    }
    this.cache.set(pfn, page);
    return page;
  }

  *presentPfns(): Iterable<number> {
    for (const p of this.dumped.ones(this.endPfn)) if (p >= this.startPfn) yield p;
  }

  close(): void {
    this.src.close();
  }
}
