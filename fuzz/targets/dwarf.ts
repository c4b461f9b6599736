/**
 * DWARF debug info (symbols/dwarf/): units, abbreviations, DIEs, strings (.debug_str, .debug_str_offsets,
 * .debug_line_str), the name index `tscrash index` builds (damaged units skipped and named), and the types built
 * from it. Parts: .debug_abbrev, .debug_info, .debug_str, .debug_str_offsets, .debug_line_str.
 */
import { buildNameIndex } from '../../symbols/dwarf/name-index.js';
import { type Die, DwarfReader } from '../../symbols/dwarf/reader.js';
import { DwarfTypes } from '../../symbols/dwarf/types.js';
import { ElfFile } from '../../symbols/elf.js';
import { walkType } from '../lib/ctype.js';
import { debugElf } from '../lib/debug-elf.js';
import { refused, splitParts } from '../lib/harness.js';

const NAMES = ['.debug_abbrev', '.debug_info', '.debug_str', '.debug_str_offsets', '.debug_line_str'];

export function fuzz(data: Buffer): void {
  const parts = splitParts(data, NAMES.length);
  const path = debugElf(NAMES.map((n, i) => [n, parts[i]!]));
  const elf = ElfFile.open(path);
  try {
    const r = refused(() => new DwarfReader(elf));
    if (!r.ok) return;
    const reader = r.value;
    // Every DIE of every unit, depth first, at most 20000.
    let budget = 20_000;
    const walk = (die: Die, depth: number): void => {
      if (--budget <= 0 || depth > 64) return;
      if (!die.children) return;
      const kids = refused(() => {
        const out: Die[] = [];
        for (const c of reader.childrenOf(die)) {
          out.push(c);
          if (out.length > budget) break;
        }
        return out;
      });
      if (kids.ok) for (const k of kids.value) walk(k, depth + 1);
    };
    for (const u of reader.units.slice(0, 64)) {
      const d = refused(() => reader.readDie(u.dieOffset, u));
      if (d.ok && d.value) walk(d.value, 0);
    }
    const idx = refused(() => buildNameIndex(reader));
    if (!idx.ok) return;
    const types = new DwarfTypes(reader);
    types.setLookup((name) => idx.value.types.get(name));
    let n = 0;
    for (const off of idx.value.types.values()) {
      if (++n > 500) break;
      const t = refused(() => types.typeAt(off));
      if (t.ok) refused(() => walkType(t.value));
    }
  } finally {
    elf.close();
  }
}
