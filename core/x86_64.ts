/**
 * x86-64 kernel address translation from the dump alone: the kernel text map
 * (__START_KERNEL_map + phys_base), the direct map (page_offset_base), and
 * everything else (vmalloc, vmemmap, modules, fixmap) through the kernel's
 * page tables (init_top_pgt), 4- or 5-level, with 1 GiB and 2 MiB pages.
 * Translation is data: sorted ranges, each linear or by page-table walk.
 */
import { FaultError } from './errors.js';

export const START_KERNEL_MAP = 0xffffffff80000000n;
const MASK64 = (1n << 64n) - 1n;
/** Physical address bits of a page-table entry (bits 12..51). */
const PTE_PFN_MASK = 0x000ffffffffff000n;
const PRESENT = 1n;
const PSE = 1n << 7n;

export type TranslationMethod = { kind: 'linear'; offset: bigint } | { kind: 'pgt' };

export interface TranslationRange {
  start: bigint;
  end: bigint;
  name: string;
  method: TranslationMethod;
}

/** One level of a page-table walk, as `vtop` prints it. */
export interface WalkStep {
  level: 'PGD' | 'P4D' | 'PUD' | 'PMD' | 'PTE';
  /** Physical address of the table. */
  table: bigint;
  index: number;
  /** Physical address of the entry. */
  entryAddr: bigint;
  entry: bigint;
}

export interface WalkResult {
  vaddr: bigint;
  steps: WalkStep[];
  /** Physical address, when mapped. */
  paddr?: bigint;
  pageSize?: number;
}

/** Physical memory as the walker needs it: one u64 at a physical address. */
export interface PhysReader {
  readPhysU64(paddr: bigint, what: string): bigint;
}

export interface X86Params {
  physBase: bigint;
  /** Physical address of the top-level page table (init_top_pgt). */
  pgdPhys: bigint;
  levels: 4 | 5;
  smeMask: bigint;
  kernelImageSize: bigint;
}

/** Canonical form of a virtual address (sign-extended from bit 47 or 56). */
export function canonical(vaddr: bigint, levels: 4 | 5): bigint {
  const bits = levels === 5 ? 57n : 48n;
  const v = vaddr & MASK64;
  const top = v >> (bits - 1n);
  return top === 0n || top === (1n << (65n - bits)) - 1n ? v : -1n;
}

export class X86Translator {
  readonly ranges: TranslationRange[] = [];

  constructor(
    readonly params: X86Params,
    private readonly mem: PhysReader,
  ) {
    this.ranges.push({
      start: START_KERNEL_MAP,
      end: START_KERNEL_MAP + params.kernelImageSize,
      name: 'kernel text',
      method: { kind: 'linear', offset: (params.physBase - START_KERNEL_MAP) & MASK64 },
    });
  }

  /** Add a linearly mapped range (the direct map once its base is known). */
  addLinear(name: string, start: bigint, end: bigint, physStart: bigint): void {
    this.ranges.push({ start, end, name, method: { kind: 'linear', offset: (physStart - start) & MASK64 } });
    this.ranges.sort((a, b) => (a.start < b.start ? -1 : 1));
  }

  /** Translate, or throw FaultError('not-mapped'). */
  translate(vaddr: bigint, what = 'address'): bigint {
    const v = vaddr & MASK64;
    for (const r of this.ranges) {
      if (v >= r.start && v < r.end && r.method.kind === 'linear') return (v + r.method.offset) & MASK64;
    }
    const w = this.walk(v, what);
    if (w.paddr === undefined) {
      throw new FaultError(
        `${what}: virtual address 0x${v.toString(16)} is not mapped`,
        v,
        'virtual',
        'not-mapped',
        what,
      );
    }
    return w.paddr;
  }

  /**
   * Walk the page tables for vaddr, recording every step: the kernel's, or (for a user address space) those
   * whose top level is at physical `pgdPhys`.
   */
  walk(vaddr: bigint, what = 'page table walk', pgdPhys = this.params.pgdPhys): WalkResult {
    const v = vaddr & MASK64;
    const res: WalkResult = { vaddr: v, steps: [] };
    if (canonical(v, this.params.levels) < 0n) return res;
    const levels: [WalkStep['level'], bigint][] =
      this.params.levels === 5
        ? [
            ['PGD', 48n],
            ['P4D', 39n],
            ['PUD', 30n],
            ['PMD', 21n],
            ['PTE', 12n],
          ]
        : [
            ['PGD', 39n],
            ['PUD', 30n],
            ['PMD', 21n],
            ['PTE', 12n],
          ];
    let table = pgdPhys;
    const mask = PTE_PFN_MASK & ~this.params.smeMask;
    for (const [level, shift] of levels) {
      const index = Number((v >> shift) & 0x1ffn);
      const entryAddr = table + BigInt(index * 8);
      const entry = this.mem.readPhysU64(entryAddr, `${what}: ${level} entry`);
      res.steps.push({ level, table, index, entryAddr, entry });
      if ((entry & PRESENT) === 0n) return res;
      const base = entry & mask;
      if (level === 'PTE' || ((level === 'PUD' || level === 'PMD') && (entry & PSE) !== 0n)) {
        const size = 1n << shift;
        res.paddr = (base & ~(size - 1n)) | (v & (size - 1n));
        res.pageSize = Number(size);
        return res;
      }
      table = base;
    }
    return res;
  }

  /**
   * Find the direct map: the lowest kernel-half address whose mapping starts at
   * physical 0 with a large page, as the kernel maps all RAM there from pfn 0.
   * Scans the top-level entries of the kernel half in order (the direct map
   * comes first in the KASLR layout) and descends to the first mapped leaf.
   */
  findDirectMapBase(): bigint | undefined {
    const levels = this.params.levels;
    const topShift = levels === 5 ? 48n : 39n;
    const mask = PTE_PFN_MASK & ~this.params.smeMask;
    for (let i = 256; i < 512; i++) {
      // Sign-extend from the top bit the table indexes (bit 47, or 56 with 5 levels).
      const base = (BigInt(i) << topShift) | (MASK64 ^ ((1n << (topShift + 9n)) - 1n));
      const e = this.probe(this.params.pgdPhys + BigInt(i * 8));
      if (e === undefined || (e & PRESENT) === 0n) continue;
      const leaf = this.firstLeaf(e & mask, topShift - 9n, base, mask);
      if (!leaf) continue;
      // The direct map starts at physical 0, and its base is aligned to 1 GiB (a PUD).
      if (leaf.paddr === 0n && (leaf.vaddr & ((1n << 30n) - 1n)) === 0n) return leaf.vaddr;
    }
    return undefined;
  }

  /**
   * One page-table entry for the probe, or undefined when its page cannot be read (a truncated or damaged
   * dump): the probe goes on with the other entries, and reads through the missing table fail when made.
   */
  private probe(paddr: bigint): bigint | undefined {
    try {
      return this.mem.readPhysU64(paddr, 'direct map probe');
    } catch (e) {
      if (e instanceof FaultError) return undefined;
      throw e;
    }
  }

  private firstLeaf(
    table: bigint,
    shift: bigint,
    base: bigint,
    mask: bigint,
  ): { vaddr: bigint; paddr: bigint; size: bigint } | undefined {
    for (let i = 0; i < 512; i++) {
      const e = this.probe(table + BigInt(i * 8));
      if (e === undefined || (e & PRESENT) === 0n) continue;
      const vaddr = base + (BigInt(i) << shift);
      if (shift === 12n || ((shift === 21n || shift === 30n) && (e & PSE) !== 0n)) {
        return { vaddr, paddr: e & mask & ~((1n << shift) - 1n), size: 1n << shift };
      }
      const leaf = this.firstLeaf(e & mask, shift - 9n, vaddr, mask);
      if (leaf) return leaf;
    }
    return undefined;
  }
}
