/** DWARF line programs (symbols/line.ts), v2 to v5. Parts: .debug_line, .debug_line_str, .debug_str. */
import { ElfFile } from '../../symbols/elf.js';
import { decodeProgram } from '../../symbols/line.js';
import { debugElf } from '../lib/debug-elf.js';
import { refused, splitParts } from '../lib/harness.js';

export function fuzz(data: Buffer): void {
  const [line, lineStr, str] = splitParts(data, 3);
  const path = debugElf([
    ['.debug_line', line!],
    ['.debug_line_str', lineStr!],
    ['.debug_str', str!],
  ]);
  const elf = ElfFile.open(path);
  try {
    const sec = elf.section('.debug_line');
    if (!sec) return;
    const bytes = elf.sectionData(sec);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Each program in turn, as the unit headers' DW_AT_stmt_list would name them.
    for (let off = 0, k = 0; off + 4 <= bytes.length && k < 64; k++) {
      const p = refused(() => decodeProgram(bytes, off, elf, 0, '/build', 8));
      if (p.ok) for (let i = 0; i < Math.min(p.value.rowCount, 64); i++) refused(() => p.value.address(i));
      const len = dv.getUint32(off, true);
      if (len === 0 || len >= 0xfffffff0) break;
      off += 4 + len;
    }
  } finally {
    elf.close();
  }
}
