/**
 * Kernel virtual memory for the page filter, from the dump alone: x86-64
 * translation through the kernel page tables (init_top_pgt, 4 or 5 levels,
 * 1 GiB / 2 MiB pages), the kernel text mapping through phys_base.
 * Everything comes from VMCOREINFO (SYMBOL(init_top_pgt), NUMBER(phys_base),
 * NUMBER(pgtable_l5_enabled), NUMBER(sme_mask)).
 */
import type { DumpSource } from '../writer/source.js';
import type { VmcoreinfoTable } from './vmcoreinfo-table.js';

const START_KERNEL_MAP = 0xffffffff80000000n;
/** x86-64's KERNEL_IMAGE_SIZE: 512 MiB, or 1 GiB with KASLR; the module area starts right after it. */
const MODULES_MIN = START_KERNEL_MAP + (512n << 20n);
const KERNEL_IMAGE_MAX = 1n << 30n;
const PRESENT = 1n;
const PSE = 0x80n;
const ADDR_MASK = 0x000ffffffffff000n;

export class KernelMemoryError extends Error {
  override name = 'KernelMemoryError';
}

export class KernelMemory {
  private readonly physBase: bigint;
  private readonly pgdPhys: bigint;
  private readonly levels: number;
  private readonly entryMask: bigint;
  private readonly buf8 = new Uint8Array(8);
  private readonly view8 = new DataView(this.buf8.buffer);
  /** Last translated 4 KiB page: va page -> pa page. */
  private lastVa = -1n;
  private lastPa = 0;
  /** Last large (2 MiB / 1 GiB) mapping: [va, va + size) -> pa. */
  private bigVa = -1n;
  private bigSize = 0n;
  private bigPa = 0n;

  constructor(
    readonly source: DumpSource,
    readonly info: VmcoreinfoTable,
    physBaseOverride?: bigint,
  ) {
    const pb = physBaseOverride ?? source.physBase ?? numberBig(info, 'phys_base');
    const textSeg = source.segments.find((s) => s.vaddr >= START_KERNEL_MAP);
    this.physBase = pb ?? (textSeg ? BigInt(textSeg.paddr) - (textSeg.vaddr - START_KERNEL_MAP) : 0n);
    const top = info.symbol('init_top_pgt') ?? info.symbol('init_level4_pgt');
    if (top === undefined)
      throw new KernelMemoryError('VMCOREINFO has no SYMBOL(init_top_pgt): cannot translate kernel addresses');
    // phys_base is negative (as a signed long) when KASLR put the kernel lower in physical memory
    // than its link-time offset: addresses wrap modulo 2^64
    this.pgdPhys = BigInt.asUintN(64, top - START_KERNEL_MAP + this.physBase);
    this.levels = info.number('pgtable_l5_enabled') === 1 ? 5 : 4;
    const sme = numberBig(info, 'sme_mask') ?? 0n;
    this.entryMask = ADDR_MASK & ~sme;
  }

  get kernelPhysBase(): bigint {
    return this.physBase;
  }

  private readU64(pa: bigint): bigint {
    this.source.readPhys(Number(pa), 8, this.buf8, 0);
    return this.view8.getBigUint64(0, true);
  }

  /** Physical address of a kernel virtual address; throws KernelMemoryError when unmapped. */
  translate(va: bigint): number {
    const vpage = va & ~0xfffn;
    if (vpage === this.lastVa) return this.lastPa + Number(va & 0xfffn);
    let pa: bigint;
    if (this.bigVa >= 0n && va >= this.bigVa && va < this.bigVa + this.bigSize) {
      pa = this.bigPa + (va - this.bigVa);
    } else if (va >= START_KERNEL_MAP && va < MODULES_MIN) {
      // the kernel image: below the lowest start of the module area it is always the image's linear map
      pa = BigInt.asUintN(64, va - START_KERNEL_MAP + this.physBase);
    } else if (va >= START_KERNEL_MAP) {
      // the image (KASLR may put it up to 1 GiB high) or the module area (vmalloc'd): the page tables say
      try {
        pa = this.walk(va);
      } catch (e) {
        if (va >= START_KERNEL_MAP + KERNEL_IMAGE_MAX) throw e;
        pa = BigInt.asUintN(64, va - START_KERNEL_MAP + this.physBase);
      }
    } else {
      pa = this.walk(va);
    }
    this.lastVa = vpage;
    this.lastPa = Number(pa & ~0xfffn);
    return Number(pa);
  }

  /** The page-table walk (4 or 5 levels, 2 MiB and 1 GiB pages remembered). */
  private walk(va: bigint): bigint {
    let table = this.pgdPhys;
    let shift = this.levels === 5 ? 48n : 39n;
    let pa = -1n;
    for (let level = this.levels; level >= 1; level--) {
      const idx = (va >> shift) & 511n;
      const e = this.readU64(table + idx * 8n);
      if ((e & PRESENT) === 0n) {
        throw new KernelMemoryError(
          `kernel address 0x${va.toString(16)} is not mapped (level ${level} entry 0x${e.toString(16)})`,
        );
      }
      if ((level === 3 || level === 2) && (e & PSE) !== 0n) {
        const size = 1n << shift;
        this.bigVa = va & ~(size - 1n);
        this.bigSize = size;
        this.bigPa = e & this.entryMask & ~(size - 1n);
        pa = this.bigPa | (va & (size - 1n));
        break;
      }
      table = e & this.entryMask;
      if (level === 1) pa = table | (va & 0xfffn);
      shift -= 9n;
    }
    return pa;
  }

  /**
   * Read `len` bytes of kernel virtual memory into dst. Addresses are translated a mapping at a time (a 4 KiB
   * page, the rest of a 2 MiB or 1 GiB page, the rest of the image's linear map), and physically contiguous runs
   * are read in one call.
   */
  read(va: bigint, len: number, dst: Uint8Array, dstOff = 0): void {
    let done = 0;
    let runPa = -1;
    let runLen = 0;
    let runDst = 0;
    while (done < len) {
      const cur = va + BigInt(done);
      const inPage = Number(cur & 0xfffn);
      const pa = this.translate(cur);
      let n = Math.min(len - done, 4096 - inPage);
      if (n < len - done) {
        // translate() took the large mapping first, else the image's linear map: both are linear to their end
        if (this.bigVa >= 0n && cur >= this.bigVa && cur < this.bigVa + this.bigSize)
          n = Math.min(len - done, Number(this.bigVa + this.bigSize - cur));
        else if (cur >= START_KERNEL_MAP && cur < MODULES_MIN) n = Math.min(len - done, Number(MODULES_MIN - cur));
      }
      if (runLen > 0 && pa === runPa + runLen) {
        runLen += n;
      } else {
        if (runLen > 0) this.source.readPhys(runPa, runLen, dst, runDst);
        runPa = pa;
        runLen = n;
        runDst = dstOff + done;
      }
      done += n;
    }
    if (runLen > 0) this.source.readPhys(runPa, runLen, dst, runDst);
  }

  readU64Virt(va: bigint): bigint {
    this.read(va, 8, this.buf8, 0);
    return this.view8.getBigUint64(0, true);
  }
}

function numberBig(info: VmcoreinfoTable, name: string): bigint | undefined {
  const v = info.raw(`NUMBER(${name})`);
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return BigInt.asUintN(64, BigInt(v));
}
