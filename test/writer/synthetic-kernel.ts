/**
 * A synthetic x86-64 "kernel" in an ELF core, for page-filter edge cases the
 * real 6.1 samples cannot show (newer page-type encodings, every page class):
 * 4-level page tables (direct map by a 1 GiB page, vmemmap by a 2 MiB page),
 * SPARSEMEM_EXTREME mem_section, struct pages written by the test, and the
 * VMCOREINFO keys of the chosen kernel generation.
 */
import { buildElfCore } from './synthetic.js';

export const PAGE = 4096;
export const NPAGES = 4096; // 16 MiB of RAM
export const KMAP = 0xffffffff80000000n;
const DIRECT = 0xffff888000000000n;
const VMEMMAP = 0xffffea0000000000n;
const PGD = 0x10000;
const PUD_DIRECT = 0x11000;
const PUD_VMEMMAP = 0x12000;
const PMD_VMEMMAP = 0x13000;
const MS_ROOTS = 0x14000;
const MS_SECTION = 0x15000;
const UTS = 0x16000;
const SMALL_VMEMMAP_PA = 0x400000; // struct pages (2 MiB pages)
const BIG_VMEMMAP_PA = 0x2000000;
export const SIZE_PAGE = 64;
/** Kernel image pfns (the kernel text PT_LOAD). */
export const KERNEL_PFNS: [number, number] = [0x800, 0x900];

export type Generation = '6.1' | '6.12';

export const OFF = { flags: 0, lru: 8, compound_head: 8, mapping: 24, private: 40, mapcount: 48, refcount: 52 };
// 6.1: compound_dtor / compound_order live in the first tail page
const COMPOUND_DTOR = 8 + 8;
const COMPOUND_ORDER = 8 + 9;
export const PG = { locked: 0, lru: 4, head: 16, private: 13, swapcache: 10, swapbacked: 19, slab: 9, hwpoison: 23 };
export const HUGETLB_DTOR = 2;

export function typeValue(gen: Generation, kind: 'buddy' | 'offline' | 'slab' | 'hugetlb'): number {
  if (gen === '6.1') return kind === 'buddy' ? -129 : kind === 'offline' ? -257 : 0;
  const pgty = { buddy: 0xf0, offline: 0xf1, hugetlb: 0xf4, slab: 0xf5 }[kind];
  return (pgty << 24) | 0;
}

export function release(gen: Generation): string {
  return `${gen}.0-synthetic`;
}

export function vmcoreinfo(gen: Generation): string {
  const l = [
    `OSRELEASE=${release(gen)}`,
    'PAGESIZE=4096',
    'CRASHTIME=1700000001',
    `SYMBOL(init_top_pgt)=${(KMAP + BigInt(PGD)).toString(16)}`,
    'NUMBER(phys_base)=0',
    'NUMBER(pgtable_l5_enabled)=0',
    `SYMBOL(mem_section)=${(DIRECT + BigInt(MS_ROOTS)).toString(16)}`,
    'LENGTH(mem_section)=2048',
    'SIZE(mem_section)=16',
    'OFFSET(mem_section.section_mem_map)=0',
    'NUMBER(SECTION_SIZE_BITS)=27',
    'NUMBER(MAX_PHYSMEM_BITS)=46',
    `SYMBOL(init_uts_ns)=${(DIRECT + BigInt(UTS)).toString(16)}`,
    'OFFSET(uts_namespace.name)=4',
    `SIZE(page)=${SIZE_PAGE}`,
    `OFFSET(page.flags)=${OFF.flags}`,
    `OFFSET(page._refcount)=${OFF.refcount}`,
    `OFFSET(page.mapping)=${OFF.mapping}`,
    `OFFSET(page.lru)=${OFF.lru}`,
    `OFFSET(page._mapcount)=${OFF.mapcount}`,
    `OFFSET(page.private)=${OFF.private}`,
    `OFFSET(page.compound_head)=${OFF.compound_head}`,
    'LENGTH(zone.free_area)=11',
    `NUMBER(PG_lru)=${PG.lru}`,
    `NUMBER(PG_private)=${PG.private}`,
    `NUMBER(PG_swapcache)=${PG.swapcache}`,
    `NUMBER(PG_swapbacked)=${PG.swapbacked}`,
    `NUMBER(PG_hwpoison)=${PG.hwpoison}`,
    `NUMBER(PG_head_mask)=${1 << PG.head}`,
    `NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=${typeValue(gen, 'buddy')}`,
    `NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=${typeValue(gen, 'offline')}`,
  ];
  if (gen === '6.1') {
    l.push(`NUMBER(PG_slab)=${PG.slab}`);
    l.push(`OFFSET(page.compound_dtor)=${COMPOUND_DTOR}`, `OFFSET(page.compound_order)=${COMPOUND_ORDER}`);
    l.push(`NUMBER(HUGETLB_PAGE_DTOR)=${HUGETLB_DTOR}`);
  } else {
    // 6.12: no PG_slab; slab / hugetlb are page types; the order is in the low byte of folio._flags_1
    l.push(`NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=${typeValue(gen, 'slab')}`);
    l.push(`NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=${typeValue(gen, 'hugetlb')}`);
    l.push(`OFFSET(folio._folio_order)=${SIZE_PAGE + 8}`);
  }
  return `${l.join('\n')}\n`;
}

export interface StructPage {
  flags?: number;
  mapping?: number;
  mapcount?: number;
  private?: number;
  compoundHead?: number; // raw value (tail pages: head address | 1)
  /** bytes of the next struct page to set (compound order/dtor, 6.12 _flags_1) */
}

export class SyntheticKernel {
  readonly mem: Buffer;
  readonly vmemmapPa: number;

  constructor(
    readonly gen: Generation,
    readonly npages = NPAGES,
  ) {
    this.mem = Buffer.alloc(npages * PAGE);
    this.vmemmapPa = npages <= NPAGES ? SMALL_VMEMMAP_PA : BIG_VMEMMAP_PA;
    const VMEMMAP_PA = this.vmemmapPa;
    const m = this.mem;
    const put = (pa: number, v: bigint) => m.writeBigUInt64LE(v, pa);
    const idx = (va: bigint, shift: bigint) => Number((va >> shift) & 511n);
    put(PGD + idx(DIRECT, 39n) * 8, BigInt(PUD_DIRECT) | 0x63n);
    put(PUD_DIRECT + idx(DIRECT, 30n) * 8, 0x0n | 0x80n | 0x63n); // 1 GiB page at pa 0
    put(PGD + idx(VMEMMAP, 39n) * 8, BigInt(PUD_VMEMMAP) | 0x63n);
    put(PUD_VMEMMAP + idx(VMEMMAP, 30n) * 8, BigInt(PMD_VMEMMAP) | 0x63n);
    const pmds = Math.ceil((npages * SIZE_PAGE) / (2 << 20));
    for (let i = 0; i < pmds; i++) {
      put(PMD_VMEMMAP + (idx(VMEMMAP, 21n) + i) * 8, BigInt(VMEMMAP_PA + i * (2 << 20)) | 0x80n | 0x63n);
    }
    put(MS_ROOTS, DIRECT + BigInt(MS_SECTION));
    // present + has mem_map; with SPARSEMEM_VMEMMAP every section's coded map is the vmemmap base
    for (let nr = 0; nr < Math.ceil(npages / 32768); nr++) put(MS_SECTION + nr * 16, VMEMMAP | 0x3n);
    const uts = ['Linux', 'synthhost', release(gen), '#1 SMP', 'x86_64', '(none)'];
    uts.forEach((s, i) => {
      m.write(s, UTS + 4 + i * 65, 'latin1');
    });
    // every page: some data, so zero-page exclusion does not interfere
    for (let pfn = 0x20; pfn < npages; pfn++) {
      if (pfn * PAGE >= VMEMMAP_PA && pfn * PAGE < VMEMMAP_PA + npages * SIZE_PAGE) continue;
      m.writeUInt32LE(0xc0de0000 + pfn, pfn * PAGE + 128);
    }
    // all struct pages: refcount 1, mapcount -1 (not mapped)
    for (let pfn = 0; pfn < npages; pfn++) this.setPage(pfn, {});
  }

  structAt(pfn: number): number {
    return this.vmemmapPa + pfn * SIZE_PAGE;
  }

  setPage(pfn: number, p: StructPage): void {
    const o = this.structAt(pfn);
    const m = this.mem;
    m.fill(0, o, o + SIZE_PAGE);
    m.writeBigUInt64LE(BigInt(p.flags ?? 0), o + OFF.flags);
    m.writeBigUInt64LE(BigInt(p.mapping ?? 0), o + OFF.mapping);
    m.writeInt32LE(p.mapcount ?? -1, o + OFF.mapcount);
    m.writeInt32LE(1, o + OFF.refcount);
    m.writeBigUInt64LE(BigInt(p.private ?? 0), o + OFF.private);
    if (p.compoundHead !== undefined) m.writeBigUInt64LE(BigInt(p.compoundHead), o + OFF.compound_head);
  }

  /** A compound page: head + tails; `hugetlb` marks it as a hugetlbfs page. */
  setCompound(pfn: number, order: number, head: StructPage, hugetlb: boolean): void {
    const gen = this.gen;
    const headFlags = (head.flags ?? 0) | (1 << PG.head);
    this.setPage(pfn, {
      ...head,
      flags: headFlags,
      mapcount: hugetlb && gen === '6.12' ? typeValue(gen, 'hugetlb') : head.mapcount,
    });
    const headVa = VMEMMAP + BigInt(pfn * SIZE_PAGE);
    for (let i = 1; i < 1 << order; i++) this.setPage(pfn + i, { compoundHead: Number(headVa & 0xffffffffffffn) + 1 });
    // the raw 64-bit compound_head of tails must be the head address | 1
    for (let i = 1; i < 1 << order; i++)
      this.mem.writeBigUInt64LE(headVa | 1n, this.structAt(pfn + i) + OFF.compound_head);
    const t1 = this.structAt(pfn + 1);
    if (gen === '6.1') {
      this.mem[t1 + COMPOUND_ORDER] = order;
      this.mem[t1 + COMPOUND_DTOR] = hugetlb ? HUGETLB_DTOR : 1;
    } else {
      this.mem[t1 + OFF.flags] = order; // folio._flags_1 low byte
    }
  }

  readonly extraInfo: string[] = [];

  /**
   * Kallsyms tables (as the kernel lays them out, with one-character tokens)
   * for `syms` (name -> kernel virtual address), exported through VMCOREINFO.
   */
  addKallsyms(syms: Record<string, bigint>): void {
    const m = this.mem;
    const at = 0x17000;
    const entries = Object.entries(syms).sort((a, b) => (a[1] < b[1] ? -1 : 1));
    const base = entries[0]![1];
    m.writeUInt32LE(entries.length, at);
    m.writeBigUInt64LE(base, at + 8);
    entries.forEach(([, addr], i) => {
      m.writeInt32LE(-Number(addr - base + 1n), at + 0x10 + i * 4);
    });
    let p = at + 0x400;
    for (const [name] of entries) {
      const s = `T${name}`;
      m[p++] = s.length;
      for (const ch of s) m[p++] = ch.charCodeAt(0);
    }
    const tokTable = 0x19000;
    const tokIndex = 0x19200;
    for (let i = 0; i < 256; i++) {
      m[tokTable + i * 2] = i;
      m[tokTable + i * 2 + 1] = 0;
      m.writeUInt16LE(i * 2, tokIndex + i * 2);
    }
    const va = (pa: number) => (KMAP + BigInt(pa)).toString(16);
    this.extraInfo.push(
      `SYMBOL(kallsyms_num_syms)=${va(at)}\n`,
      `SYMBOL(kallsyms_relative_base)=${va(at + 8)}\n`,
      `SYMBOL(kallsyms_offsets)=${va(at + 0x10)}\n`,
      `SYMBOL(kallsyms_names)=${va(at + 0x400)}\n`,
      `SYMBOL(kallsyms_token_table)=${va(tokTable)}\n`,
      `SYMBOL(kallsyms_token_index)=${va(tokIndex)}\n`,
    );
  }

  zeroPage(pfn: number): void {
    this.mem.fill(0, pfn * PAGE, (pfn + 1) * PAGE);
  }

  write(path: string): void {
    const m = this.mem;
    buildElfCore(
      path,
      [
        // kernel text mapping first (as kexec-tools lists it), then RAM
        {
          paddr: KERNEL_PFNS[0] * PAGE,
          pages: KERNEL_PFNS[1] - KERNEL_PFNS[0],
          fill: (pfn, page) => page.set(m.subarray(pfn * PAGE, (pfn + 1) * PAGE)),
          vaddr: KMAP + BigInt(KERNEL_PFNS[0] * PAGE),
        },
        { paddr: 0, pages: this.npages, fill: (pfn, page) => page.set(m.subarray(pfn * PAGE, (pfn + 1) * PAGE)) },
      ],
      vmcoreinfo(this.gen) + this.extraInfo.join(''),
    );
  }
}
