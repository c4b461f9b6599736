/**
 * The VMCOREINFO entries a vmlinux can supply (tsmakedumpfile -x, as makedumpfile -x does): struct sizes and
 * member offsets from DWARF, page flag numbers from enum pageflags, symbol addresses from the ELF symtab
 * (moved by the dump's KASLR offset). Constants that exist only as macros (the page-type mapcount values,
 * SECTION_SIZE_BITS) cannot come from here; they stay the dump's.
 */
import { DebugInfo } from '../symbols/dwarf/debug-info.js';
import { sizeOf } from '../symbols/dwarf/types.js';
import { ElfFile } from '../symbols/elf.js';
import { SymbolTable } from '../symbols/symtab.js';
import { offsetOf } from './object.js';

const SIZES = ['page', 'mem_section', 'uts_namespace', 'zone', 'free_area', 'list_head', 'pglist_data', 'folio'];
const OFFSETS: [string, string][] = [
  ['page', 'flags'],
  ['page', '_refcount'],
  ['page', '_count'],
  ['page', 'mapping'],
  ['page', 'lru'],
  ['page', '_mapcount'],
  ['page', 'private'],
  ['page', 'compound_head'],
  ['page', 'compound_order'],
  ['page', 'compound_dtor'],
  ['folio', '_folio_order'],
  ['folio', '_folio_dtor'],
  ['mem_section', 'section_mem_map'],
  ['uts_namespace', 'name'],
  ['zone', 'free_area'],
  ['free_area', 'free_list'],
];
const FLAGS = [
  'PG_lru',
  'PG_private',
  'PG_swapcache',
  'PG_swapbacked',
  'PG_slab',
  'PG_hwpoison',
  'PG_hugetlb',
  'PG_head_mask',
];
const SYMBOLS = [
  'mem_section',
  'mem_map',
  'init_uts_ns',
  'init_top_pgt',
  'init_level4_pgt',
  '_stext',
  '_etext',
  'kallsyms_names',
  'kallsyms_num_syms',
  'kallsyms_offsets',
  'kallsyms_relative_base',
  'kallsyms_token_table',
  'kallsyms_token_index',
];

export interface VmlinuxInfo {
  /** VMCOREINFO lines, KEY=value. */
  text: string;
  buildId?: string;
}

/** VMCOREINFO text for a vmlinux; `kaslrOffset` moves the symbols as the dump's kernel was moved. */
export async function vmcoreinfoFromVmlinux(path: string, kaslrOffset = 0n): Promise<VmlinuxInfo> {
  const debug = await DebugInfo.open(path);
  const lines: string[] = [];
  for (const t of SIZES) {
    const ty = debug.findType(`struct ${t}`);
    if (ty) lines.push(`SIZE(${t})=${sizeOf(ty)}`);
  }
  for (const [t, m] of OFFSETS) {
    const ty = debug.findType(`struct ${t}`);
    if (!ty) continue;
    try {
      lines.push(`OFFSET(${t}.${m})=${offsetOf(ty, m).offset}`);
    } catch {
      // The member does not exist in this kernel: the filter detects features by presence.
    }
  }
  for (const f of FLAGS) {
    if (f === 'PG_head_mask') {
      const head = debug.findEnumerator('PG_head');
      if (head) lines.push(`NUMBER(PG_head_mask)=${1n << head.value}`);
      continue;
    }
    const e = debug.findEnumerator(f);
    if (e) lines.push(`NUMBER(${f})=${e.value}`);
  }
  const elf = ElfFile.open(path);
  try {
    const st = SymbolTable.fromElf(elf, kaslrOffset);
    for (const s of SYMBOLS) {
      const e = st.lookup(s);
      if (e) lines.push(`SYMBOL(${s})=${e.address.toString(16)}`);
    }
    return { text: `${lines.join('\n')}\n`, buildId: elf.buildId };
  } finally {
    elf.close();
    debug.close();
  }
}
