/**
 * Where each pfn's struct page lives, from VMCOREINFO: the SPARSEMEM
 * mem_section walk (SYMBOL(mem_section), SIZE(mem_section),
 * OFFSET(mem_section.section_mem_map), NUMBER(SECTION_SIZE_BITS),
 * NUMBER(MAX_PHYSMEM_BITS), extreme or static roots), or FLATMEM
 * (SYMBOL(mem_map)). The facts follow makedumpfile's get_mm_sparsemem().
 */
import type { KernelMemory } from './kvm.js';
import type { VmcoreinfoTable } from './vmcoreinfo-table.js';

/** One run of pfns whose struct pages are contiguous at `memMap` (kernel virtual). */
export interface MemMapRange {
  pfnStart: number;
  pfnEnd: number;
  memMap: bigint;
}

export class MemMapError extends Error {
  override name = 'MemMapError';
}

const SECTION_MARKED_PRESENT = 1n;
const SECTION_MAP_MASK = ~((1n << 5n) - 1n) & 0xffffffffffffffffn;
const KERNEL_SPACE = 0xffff800000000000n;

export function memMapRanges(
  kmem: KernelMemory,
  info: VmcoreinfoTable,
  maxPfn: number,
  pageSize: number,
): MemMapRange[] {
  const memSection = info.symbol('mem_section');
  const sizeMs = info.size('mem_section');
  const offMap = info.offset('mem_section.section_mem_map');
  if (memSection !== undefined && sizeMs !== undefined && offMap !== undefined) {
    return sparse(kmem, info, maxPfn, pageSize, memSection, sizeMs, offMap);
  }
  const memMap = info.symbol('mem_map');
  if (memMap !== undefined) {
    const addr = kmem.readU64Virt(memMap);
    if (addr === 0n) throw new MemMapError('mem_map is NULL');
    return [{ pfnStart: 0, pfnEnd: maxPfn, memMap: addr }];
  }
  throw new MemMapError(
    'VMCOREINFO describes no memory model (need SYMBOL(mem_section) + SIZE(mem_section) + OFFSET(mem_section.section_mem_map), or SYMBOL(mem_map))',
  );
}

function sparse(
  kmem: KernelMemory,
  info: VmcoreinfoTable,
  maxPfn: number,
  pageSize: number,
  memSection: bigint,
  sizeMs: number,
  offMap: number,
): MemMapRange[] {
  const sectionBits = info.number('SECTION_SIZE_BITS');
  const physBits = info.number('MAX_PHYSMEM_BITS');
  if (sectionBits === undefined || physBits === undefined) {
    throw new MemMapError('VMCOREINFO lacks NUMBER(SECTION_SIZE_BITS) or NUMBER(MAX_PHYSMEM_BITS)');
  }
  const pageShift = Math.log2(pageSize);
  const pfnSectionShift = sectionBits - pageShift;
  // a small integer where it can be (2 ** n is a double, and V8's optimized loops over pfns then deoptimize)
  const pagesPerSection = pfnSectionShift < 31 ? 1 << pfnSectionShift : 2 ** pfnSectionShift;
  const numSection = Math.ceil(maxPfn / pagesPerSection);
  const nrMemSections = 2 ** (physBits - sectionBits);
  const perRootExtreme = Math.floor(pageSize / sizeMs);
  const arrayLen = info.length('mem_section');
  const extreme = arrayLen === undefined || arrayLen === Math.ceil(nrMemSections / perRootExtreme);
  const sizePage = info.size('page');
  if (sizePage === undefined) throw new MemMapError('VMCOREINFO lacks SIZE(page)');

  const perRoot = extreme ? perRootExtreme : 1;
  const nrRoots = Math.ceil(numSection / perRoot);
  const tryWalk = (rootsAddr: bigint): bigint[] | undefined => {
    // returns per-section mem_map (or -1n for absent), undefined when invalid
    const out: bigint[] = [];
    let any = false;
    const roots: bigint[] = [];
    if (extreme) {
      const buf = new Uint8Array(nrRoots * 8);
      try {
        kmem.read(rootsAddr, buf.length, buf);
      } catch {
        return undefined;
      }
      const dv = new DataView(buf.buffer);
      for (let i = 0; i < nrRoots; i++) roots.push(dv.getBigUint64(i * 8, true));
    }
    const msBuf = new Uint8Array(sizeMs);
    const msView = new DataView(msBuf.buffer);
    for (let nr = 0; nr < numSection; nr++) {
      let secAddr: bigint;
      if (extreme) {
        const root = roots[Math.floor(nr / perRoot)]!;
        if (root === 0n) {
          out.push(-1n);
          continue;
        }
        secAddr = root + BigInt((nr % perRoot) * sizeMs);
      } else {
        secAddr = rootsAddr + BigInt(nr * sizeMs);
      }
      if (secAddr < KERNEL_SPACE) return undefined;
      try {
        kmem.read(secAddr, sizeMs, msBuf);
      } catch {
        return undefined;
      }
      const coded = msView.getBigUint64(offMap, true);
      if ((coded & SECTION_MARKED_PRESENT) === 0n) {
        out.push(-1n);
        continue;
      }
      const map = BigInt.asUintN(
        64,
        (coded & SECTION_MAP_MASK) + BigInt(nr) * BigInt(pagesPerSection) * BigInt(sizePage),
      );
      if (map < KERNEL_SPACE) return undefined;
      out.push(map);
      any = true;
    }
    return any ? out : undefined;
  };

  // VMCOREINFO gives the root array's address; with -x vmlinux it is the pointer's (makedumpfile tries both)
  let maps = tryWalk(memSection);
  if (!maps && extreme) {
    let ptr: bigint | undefined;
    try {
      ptr = kmem.readU64Virt(memSection);
    } catch {
      ptr = undefined;
    }
    if (ptr !== undefined && ptr >= KERNEL_SPACE) maps = tryWalk(ptr);
  }
  if (!maps) throw new MemMapError('could not validate mem_section (no present section with a kernel mem_map address)');
  const ranges: MemMapRange[] = [];
  for (let nr = 0; nr < maps.length; nr++) {
    const m = maps[nr]!;
    if (m < 0n) continue;
    ranges.push({ pfnStart: nr * pagesPerSection, pfnEnd: Math.min((nr + 1) * pagesPerSection, maxPfn), memMap: m });
  }
  return ranges;
}
