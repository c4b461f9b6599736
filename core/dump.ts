/**
 * The interface every dump format implements (libkdumpfile's format_ops):
 * physical memory by page frame, the ELF notes, VMCOREINFO, and the header
 * facts `tscrash info` prints. Formats live one per file in core/formats/ and are
 * probed by content in core/open.ts.
 */

/** What the dump says about one page frame. */
export type PageState =
  | 'dumped' // data present in the file
  | 'zero' // known to be all zeros (shared zero page, p_filesz < p_memsz tail)
  | 'excluded' // existed in the machine but filtered out (-d)
  | 'absent' // not RAM / not in any PT_LOAD / beyond max pfn
  | 'truncated' // should be in the file but the file ends before it
  | 'incomplete'; // dump flagged INCOMPLETE and this page was never written

/** One ELF note as found in the dump (PT_NOTE or the kdump note area). */
export interface DumpNote {
  name: string;
  type: number;
  desc: Uint8Array;
  /** File offset of the descriptor, for error messages. */
  offset: number;
}

/** Header facts for `tscrash info` (format-specific keys are allowed). */
export interface DumpInfo {
  format: string; // 'elf' | 'kdump' | 'diskdump' | 'flattened' ...
  /** For flattened streams, the format of the reassembled image. */
  innerFormat?: string;
  compression?: string[]; // e.g. ['zlib'] or ['none']
  headerVersion?: number;
  dumpLevel?: number;
  nrCpus?: number;
  utsname?: {
    sysname: string;
    nodename: string;
    release: string;
    version: string;
    machine: string;
    domainname: string;
  };
  timestamp?: { sec: bigint; usec: bigint };
  incomplete?: boolean;
  split?: { startPfn: number; endPfn: number };
  [key: string]: unknown;
}

export interface Dump {
  readonly path: string;
  readonly pageSize: number;
  /** One past the highest pfn the dump describes. */
  readonly maxPfn: number;
  readonly notes: readonly DumpNote[];
  /** Raw VMCOREINFO text (KEY=value lines) when the dump carries it. */
  readonly vmcoreinfo: string | undefined;
  readonly info: DumpInfo;
  /**
   * What the reader found wrong while opening (a truncated file, segments that overlap, a count that disagrees
   * with another): one message each, naming the file and offset. A session shows them when it starts.
   */
  readonly warnings: readonly string[];
  /**
   * What reading pages found wrong after open (a page whose bitmap bits or descriptor the cross-checks found
   * damaged: read, but not to be trusted), each once, naming the file offset; appended as found. The command
   * runner prints the ones a command's reads added after its output.
   */
  readonly readWarnings?: readonly string[];

  pageState(pfn: number): PageState;
  /**
   * The page's bytes (pageSize long). The returned array may be shared with a
   * cache: callers must not modify it. Throws FaultError naming the pfn and why
   * (excluded / not in dump / truncated / incomplete / corrupt).
   */
  readPage(pfn: number): Uint8Array;
  /**
   * Decode these pages off the main thread (in libuv's pool) into the page cache, so that a later readPage finds
   * them; resolves with the number of pages decoded. Pages that cannot be decoded that way (not dumped, another
   * codec, damaged) are left for readPage, which says why. Formats without compression do not implement it.
   */
  prefetch?(pfns: Iterable<number>): Promise<number>;
  /** Iterate pfns in increasing order whose state is 'dumped' or 'zero'. */
  presentPfns(): Iterable<number>;
  close(): void;
}
