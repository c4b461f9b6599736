/**
 * Reads of the crashed kernel's memory by physical or kernel virtual address,
 * from the dump alone: VMCOREINFO gives KASLR, phys_base, the page tables and
 * the paging mode; the direct map is found from the page tables. Every read
 * names what it reads, so a failure says what could not be read and why.
 */
import type { Dump } from './dump.js';
import { FaultError, TscrashError } from './errors.js';
import { VmcoreInfo } from './vmcoreinfo.js';
import { scanVmcoreinfo } from './vmcoreinfo-scan.js';
import { START_KERNEL_MAP, type WalkResult, X86Translator } from './x86_64.js';

const MASK64 = (1n << 64n) - 1n;
const td = new TextDecoder('latin1');

/** Optional help from debug info (program/ provides it when a vmlinux is loaded). */
export interface SymbolHost {
  symbolValue(name: string): bigint | undefined;
}

/** What the user says instead of what the dump says (tscrash --kaslr OFFSET). */
export interface MemoryOverrides {
  /** The KASLR offset: the kernel text's displacement from the vmlinux's link address (else VMCOREINFO's). */
  kaslrOffset?: bigint;
}

export class KernelMemory {
  readonly vmcoreinfo: VmcoreInfo;
  /** Where VMCOREINFO came from: the dump's notes, or a scan of its memory. */
  readonly vmcoreinfoSource: 'notes' | 'memory';
  readonly pageSize: number;
  readonly kaslrOffset: bigint;
  readonly physBase: bigint;
  readonly levels: 4 | 5;
  readonly translator: X86Translator;
  /** The direct map's base: page_offset_base when debug info names it, else found from the page tables (lazily). */
  get pageOffsetBase(): bigint | undefined {
    if (!this.directMapKnown) this.findDirectMap();
    return this.directMapBase;
  }
  private directMapBase: bigint | undefined;
  private directMapKnown = false;
  /** Kernel virtual address of the top-level page table (init_top_pgt). */
  readonly pgdVaddr: bigint;
  /** A small TLB: virtual page number → physical page number. */
  private readonly tlb = new Map<bigint, bigint>();

  constructor(
    readonly dump: Dump,
    host?: SymbolHost,
    overrides: MemoryOverrides = {},
  ) {
    const text = dump.vmcoreinfo ?? scanVmcoreinfo(dump);
    if (!text) {
      throw new TscrashError(
        `${dump.path}: the dump carries no VMCOREINFO and none was found in its memory, so kernel virtual addresses cannot be translated`,
      );
    }
    this.vmcoreinfoSource = dump.vmcoreinfo ? 'notes' : 'memory';
    const note = dump.vmcoreinfo ? dump.notes.find((n) => n.name === 'VMCOREINFO') : undefined;
    const vi = new VmcoreInfo(text, dump.path, note?.offset ?? 0);
    this.vmcoreinfo = vi;
    this.pageSize = dump.pageSize;
    this.kaslrOffset = overrides.kaslrOffset ?? vi.kernelOffset;
    const pb = vi.numbers.get('phys_base') ?? (dump.info.physBase as bigint | undefined) ?? 0n;
    this.physBase = pb & MASK64;
    this.levels = vi.numbers.get('pgtable_l5_enabled') === 1n ? 5 : 4;
    const pgd = host?.symbolValue('init_top_pgt') ?? vi.symbols.get('init_top_pgt') ?? vi.symbols.get('swapper_pg_dir');
    if (pgd === undefined) throw new TscrashError(`${dump.path}: VMCOREINFO has no SYMBOL(init_top_pgt)`);
    this.pgdVaddr = pgd;
    const kernelImageSize = vi.numbers.get('KERNEL_IMAGE_SIZE') ?? 1n << 30n;
    this.translator = new X86Translator(
      {
        physBase: this.physBase,
        pgdPhys: (pgd - START_KERNEL_MAP + this.physBase) & MASK64,
        levels: this.levels,
        smeMask: vi.numbers.get('sme_mask') ?? 0n,
        kernelImageSize,
      },
      { readPhysU64: (a, what) => this.readPhysU64(a, what) },
    );
    this.host = host;
  }

  private readonly host: SymbolHost | undefined;

  /**
   * The direct map, found once, when first needed: at the first translation of an address below the kernel image
   * (reads of the kernel image alone, such as --dump-dmesg's of a static log buffer, never need it).
   */
  private findDirectMap(): void {
    this.directMapKnown = true;
    let pob = this.host?.symbolValue('page_offset_base');
    if (pob !== undefined) pob = this.tryReadU64(pob, 'page_offset_base');
    const base = pob ?? this.translator.findDirectMapBase();
    this.directMapBase = base;
    if (base !== undefined) {
      const span = BigInt(this.dump.maxPfn) * BigInt(this.pageSize);
      this.translator.addLinear('direct map', base, base + span, 0n);
      this.tlb.clear();
    }
  }

  /** Physical address of a kernel virtual address (throws FaultError when unmapped). */
  virtToPhys(vaddr: bigint, what = 'address'): bigint {
    const ps = BigInt(this.pageSize);
    const vpn = (vaddr & MASK64) / ps;
    const hit = this.tlb.get(vpn);
    if (hit !== undefined) return hit * ps + (vaddr & (ps - 1n));
    if (!this.directMapKnown && (vaddr & MASK64) < START_KERNEL_MAP) this.findDirectMap();
    const p = this.translator.translate(vaddr, what);
    if (this.tlb.size > 4096) this.tlb.clear();
    this.tlb.set(vpn, p / ps);
    return p;
  }

  walk(vaddr: bigint): WalkResult {
    return this.translator.walk(vaddr);
  }

  /**
   * Read `len` bytes of a user address space whose page tables start at kernel virtual address `pgd` (a task's
   * mm->pgd). Throws FaultError when a page is not mapped or not in the dump (makedumpfile -d 8 and up leave
   * user pages out).
   */
  readUser(pgd: bigint, vaddr: bigint, len: number, what = 'user memory'): Uint8Array {
    const pgdPhys = this.virtToPhys(pgd, `${what}: page table`);
    return this.readMapped(vaddr, len, what, (v) => {
      const w = this.translator.walk(v, what, pgdPhys);
      if (w.paddr === undefined)
        throw new FaultError(
          `${what}: user address 0x${v.toString(16)} is not mapped`,
          v,
          'virtual',
          'not-mapped',
          what,
        );
      return w.paddr;
    });
  }

  /**
   * Called before every page read: a session sets it to throw (an InterruptedError) when the user interrupts the
   * running command, so that any loop over memory stops at its next read.
   */
  interruptCheck: (() => void) | undefined;

  /** Read `len` bytes of physical memory (may cross pages). */
  readPhys(paddr: bigint | number, len: number, what = 'memory'): Uint8Array {
    this.interruptCheck?.();
    const ps = this.pageSize;
    const start = typeof paddr === 'bigint' ? Number(paddr) : paddr;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = start + done;
      const pfn = Math.floor(a / ps);
      const off = a - pfn * ps;
      const n = Math.min(len - done, ps - off);
      let page: Uint8Array;
      try {
        page = this.dump.readPage(pfn);
      } catch (e) {
        if (e instanceof FaultError) {
          throw new FaultError(`${what}: ${e.message}`, BigInt(a), 'physical', e.reason, what, pfn, { cause: e });
        }
        throw e;
      }
      out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /**
   * Start decoding the pages of kernel virtual ranges off the main thread (see Dump.prefetch), for a walk that
   * will read them all; resolves when they are in the page cache. Unmapped parts are skipped. At most `maxPages`.
   */
  prefetchVirt(ranges: Iterable<{ start: bigint; size: number }>, maxPages = 4096): Promise<number> {
    const prefetch = this.dump.prefetch?.bind(this.dump);
    if (!prefetch) return Promise.resolve(0);
    const ps = BigInt(this.pageSize);
    const pfns: number[] = [];
    outer: for (const r of ranges) {
      for (let v = r.start - (r.start % ps); v < r.start + BigInt(r.size); v += ps) {
        if (pfns.length >= maxPages) break outer;
        let p: bigint;
        try {
          p = this.virtToPhys(v, 'prefetch');
        } catch (e) {
          if (e instanceof FaultError) continue;
          throw e;
        }
        pfns.push(Number(p / ps));
      }
    }
    return prefetch(pfns);
  }

  /** Read `len` bytes at a kernel virtual address (may cross pages). */
  readVirt(vaddr: bigint, len: number, what = 'memory'): Uint8Array {
    return this.readMapped(vaddr, len, what, (v) => this.virtToPhys(v, what));
  }

  /** Read `len` virtual bytes a page at a time, each page's physical address from `toPhys`. */
  private readMapped(vaddr: bigint, len: number, what: string, toPhys: (v: bigint) => bigint): Uint8Array {
    const ps = this.pageSize;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const v = (vaddr + BigInt(done)) & MASK64;
      const off = Number(v % BigInt(ps));
      const n = Math.min(len - done, ps - off);
      this.interruptCheck?.();
      const p = toPhys(v);
      const pfn = Number(p / BigInt(ps));
      let page: Uint8Array;
      try {
        page = this.dump.readPage(pfn);
      } catch (e) {
        if (e instanceof FaultError) {
          throw new FaultError(
            `${what}: virtual address 0x${v.toString(16)} (physical 0x${p.toString(16)}): ${e.message.replace(/^physical address \S+ /, '')}`,
            v,
            'virtual',
            e.reason,
            what,
            pfn,
            { cause: e },
          );
        }
        throw e;
      }
      out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  private view(b: Uint8Array): DataView {
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  readPhysU64(paddr: bigint, what = 'u64'): bigint {
    return this.view(this.readPhys(paddr, 8, what)).getBigUint64(0, true);
  }
  readU8(vaddr: bigint, what = 'u8'): number {
    return this.readVirt(vaddr, 1, what)[0]!;
  }
  readU16(vaddr: bigint, what = 'u16'): number {
    return this.view(this.readVirt(vaddr, 2, what)).getUint16(0, true);
  }
  readU32(vaddr: bigint, what = 'u32'): number {
    return this.view(this.readVirt(vaddr, 4, what)).getUint32(0, true);
  }
  readU64(vaddr: bigint, what = 'u64'): bigint {
    return this.view(this.readVirt(vaddr, 8, what)).getBigUint64(0, true);
  }
  tryReadU64(vaddr: bigint, what = 'u64'): bigint | undefined {
    try {
      return this.readU64(vaddr, what);
    } catch (e) {
      if (e instanceof FaultError) return undefined;
      throw e;
    }
  }
  tryReadVirt(vaddr: bigint, len: number, what = 'memory'): Uint8Array | undefined {
    try {
      return this.readVirt(vaddr, len, what);
    } catch (e) {
      if (e instanceof FaultError) return undefined;
      throw e;
    }
  }

  /** A NUL-terminated string of at most `max` bytes. */
  readCString(vaddr: bigint, max = 4096, what = 'string'): string {
    const ps = this.pageSize;
    const parts: Uint8Array[] = [];
    let total = 0;
    let v = vaddr;
    while (total < max) {
      const n = Math.min(max - total, ps - Number(v % BigInt(ps)));
      const chunk = this.readVirt(v, n, what);
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        parts.push(chunk.subarray(0, nul));
        break;
      }
      parts.push(chunk);
      total += n;
      v += BigInt(n);
    }
    const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return td.decode(all);
  }
}
