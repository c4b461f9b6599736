/**
 * What the writer needs from its input: physical memory by page frame, read in
 * contiguous runs (streaming, never the whole dump in memory), the memory map
 * (which pfns exist), the raw ELF note area and the VMCOREINFO text.
 */

/** A range of physical memory present in the input (an ELF PT_LOAD, or a run of pages). */
export interface MemorySegment {
  /** Physical start address. */
  paddr: number;
  /** Bytes of memory described (p_memsz). */
  memsz: number;
  /** Bytes backed by data in the file (p_filesz); the rest reads as zeros. */
  filesz: number;
  /** File offset of the data (ELF inputs), -1 otherwise. */
  offset: number;
  /** Virtual address (ELF p_vaddr), 0n when unknown. */
  vaddr: bigint;
}

/** A read of the input failed or found the file shorter than its headers say. */
export class InputReadError extends Error {
  override name = 'InputReadError';
  constructor(
    message: string,
    readonly pfn: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface DumpSource {
  readonly path: string;
  readonly pageSize: number;
  /** One past the highest pfn (makedumpfile's max_mapnr). */
  readonly maxPfn: number;
  readonly segments: readonly MemorySegment[];
  /** The raw note area (PT_NOTE contents) copied into kdump sub-headers, or empty. */
  readonly noteBytes: Uint8Array;
  /** Offset of the VMCOREINFO descriptor inside noteBytes and its size (0 when absent). */
  readonly vmcoreinfoNoteOffset: number;
  readonly vmcoreinfoNoteSize: number;
  readonly vmcoreinfo: string | undefined;
  /** Number of NT_PRSTATUS notes (makedumpfile's nr_cpus). */
  readonly nrCpus: number;
  /** ELF e_machine of the dumped machine (62 = x86-64). */
  readonly elfMachine: number;
  /** The input's ELF header (64 bytes) when the input is ELF; the template for -E output. */
  readonly elfHeader?: Uint8Array;
  /** The input's own dump level when it is a filtered dump (re-filtering keeps its exclusions). */
  readonly inputDumpLevel?: number;
  /** phys_base when the input header gives one (kdump input), else undefined. */
  readonly physBase?: bigint;
  /** Raw utsname block (6 x 65 bytes) when the input header carries it (kdump input). */
  readonly utsname?: Uint8Array;
  /** Where the input file ends when it is cut short (its data runs past the end), for the error that says so. */
  readonly truncatedAt?: number;

  /**
   * Read `count` consecutive pages starting at `pfn` into `dst` at `dstOff`.
   * Pages past p_filesz read as zeros. Throws InputReadError naming the first
   * pfn that could not be read (I/O error or truncated file).
   */
  readPages(pfn: number, count: number, dst: Uint8Array, dstOff: number): void;
  /**
   * Read the pages `pfns[0..count)` (increasing) into consecutive page slots of
   * dst. Optional: sources that can read spans with small gaps in one call
   * (fewer system calls when dumpable pages are scattered) implement it.
   */
  readPageList?(pfns: Float64Array, count: number, dst: Uint8Array, dstOff: number): void;
  /** Read bytes of physical memory (any alignment, within one present range). */
  readPhys(paddr: number, len: number, dst: Uint8Array, dstOff?: number): void;
  /** True when the pfn exists in the machine (inside some segment). */
  hasPfn(pfn: number): boolean;
  /** For inputs that are themselves filtered dumps: false when the input lacks the page's data. */
  hasData?(pfn: number): boolean;
  close(): void;
}
