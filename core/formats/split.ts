/** A dump written as several files by `makedumpfile --split`: each file covers a pfn range. */
import type { Dump, DumpInfo, DumpNote, PageState } from '../dump.js';
import { BadDataError, FaultError } from '../errors.js';
import { KdumpDump } from './kdump.js';

export class SplitDump implements Dump {
  readonly path: string;
  readonly pageSize: number;
  readonly maxPfn: number;
  readonly notes: readonly DumpNote[];
  readonly vmcoreinfo: string | undefined;
  readonly info: DumpInfo;
  readonly warnings: string[];
  private readonly parts: KdumpDump[];

  constructor(parts: Dump[]) {
    for (const p of parts) {
      if (!(p instanceof KdumpDump))
        throw new BadDataError('only kdump-compressed files can form a split dump set', p.path, 0);
    }
    this.parts = (parts as KdumpDump[]).slice().sort((a, b) => a.startPfn - b.startPfn);
    const first = this.parts[0]!;
    for (const p of this.parts) {
      if (p.maxPfn !== first.maxPfn || p.pageSize !== first.pageSize) {
        throw new BadDataError(
          `split file does not belong with ${first.path} (max_mapnr or page size differ)`,
          p.path,
          0,
        );
      }
    }
    this.path = this.parts.map((p) => p.path).join(',');
    this.pageSize = first.pageSize;
    this.maxPfn = first.maxPfn;
    this.notes = first.notes;
    this.vmcoreinfo = first.vmcoreinfo;
    this.warnings = this.parts.flatMap((p) => p.warnings);
    const missing: string[] = [];
    let at = 0;
    for (const p of this.parts) {
      if (p.startPfn > at) missing.push(`0x${at.toString(16)}-0x${p.startPfn.toString(16)}`);
      at = Math.max(at, p.endPfn);
    }
    if (at < this.maxPfn) missing.push(`0x${at.toString(16)}-0x${this.maxPfn.toString(16)}`);
    this.info = {
      ...first.info,
      format: 'kdump-split',
      files: this.parts.length,
      split: undefined,
      missingPfnRanges: missing.length ? missing : undefined,
      pagesDumped: this.parts.reduce((s, p) => s + Number(p.info.pagesDumped ?? 0), 0),
      // Truncated when any file of the set is (each one's warning names it).
      truncated: this.parts.some((p) => p.info.truncated) || undefined,
    };
  }

  get readWarnings(): string[] {
    return this.parts.flatMap((p) => p.readWarnings);
  }

  private part(pfn: number): KdumpDump | undefined {
    return this.parts.find((p) => pfn >= p.startPfn && pfn < p.endPfn);
  }

  pageState(pfn: number): PageState {
    return this.part(pfn)?.pageState(pfn) ?? 'absent';
  }

  readPage(pfn: number): Uint8Array {
    const p = this.part(pfn);
    if (!p) {
      const a = pfn * this.pageSize;
      throw new FaultError(
        `physical address 0x${a.toString(16)} (pfn 0x${pfn.toString(16)}) is in no file of the split dump set`,
        BigInt(a),
        'physical',
        'not-in-dump',
        undefined,
        pfn,
      );
    }
    return p.readPage(pfn);
  }

  *presentPfns(): Iterable<number> {
    for (const p of this.parts) yield* p.presentPfns();
  }

  close(): void {
    for (const p of this.parts) p.close();
  }
}
