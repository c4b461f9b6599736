/** An ELF file holding the given debug sections (the DWARF targets' inputs are the sections themselves). */
import { buildElf } from '../../test/lib/synth-elf.js';
import { scratchFile } from './shm-file.js';

export function debugElf(sections: [string, Uint8Array][]): string {
  const elf = buildElf({ sections: sections.map(([name, data]) => ({ name, type: 1, data })) });
  return scratchFile('debug.elf', elf.bytes);
}
