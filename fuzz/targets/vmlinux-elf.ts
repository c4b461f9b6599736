/**
 * vmlinux and module ELF files (symbols/elf.ts, symbols/build-id.ts): headers, section and program headers,
 * section data (compressed sections too), the symbol tables, the build-id, reads by virtual address.
 */
import { elfIdentity } from '../../symbols/build-id.js';
import { ElfFile } from '../../symbols/elf.js';
import { refused } from '../lib/harness.js';
import { scratchFile } from '../lib/shm-file.js';

export function fuzz(data: Buffer): void {
  const path = scratchFile('vmlinux', data);
  refused(() => elfIdentity(path));
  const r = refused(() => ElfFile.open(path));
  if (!r.ok) return;
  const elf = r.value;
  try {
    refused(() => elf.buildId);
    for (const s of elf.sections.slice(0, 128)) {
      if (s.size > 1 << 20) continue;
      refused(() => elf.sectionData(s));
    }
    const syms = refused(() => elf.symbols());
    if (syms.ok) for (const s of syms.value.slice(0, 64)) refused(() => elf.readVirtual(s.value, 16));
    for (const p of elf.programHeaders.slice(0, 16)) refused(() => elf.readVirtual(p.vaddr, 64));
  } finally {
    elf.close();
  }
}
