/** ELF note areas (core/elf-notes.ts): notes, the CPU count check, NT_PRSTATUS registers, the VMCOREINFO note. */
import { checkCpuNotes, decodePrstatus, NT_PRSTATUS, parseNotes, vmcoreinfoFromNotes } from '../../core/elf-notes.js';
import { refused } from '../lib/harness.js';

export function fuzz(data: Buffer): void {
  const b = new Uint8Array(data.buffer, data.byteOffset, data.length);
  // Both ways the readers call it: throwing (an ELF core's PT_NOTE), and with warnings (kept notes, then a warning).
  refused(() => parseNotes(b, 'notes', 0x1000));
  const warnings: string[] = [];
  const r = refused(() => parseNotes(b, 'notes', 0x1000, warnings));
  if (!r.ok) return;
  const notes = r.value;
  refused(() => checkCpuNotes(notes, 'notes', warnings));
  refused(() => vmcoreinfoFromNotes(notes));
  let cpu = 0;
  for (const n of notes) if (n.type === NT_PRSTATUS) refused(() => decodePrstatus(n.desc, cpu++, 'notes', n.offset));
}
