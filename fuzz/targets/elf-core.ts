/** ELF64 cores (core/formats/elf.ts): ELF header, program headers, notes, PT_LOAD data. */
import { ElfDump } from '../../core/formats/elf.js';
import { checkDump, type DumpSeed, elfDeps, expectations } from '../lib/dump-check.js';
import { intactSeeds, MemorySource } from '../lib/harness.js';

const open = (b: Uint8Array) => new ElfDump(new MemorySource('vmcore', b));

// The intact seeds' answers, worked out when the fuzzer loads this module (before it times runs).
const seeds: DumpSeed[] = intactSeeds('elf-core').flatMap((s) => expectations(s, elfDeps(s.bytes), open) ?? []);

export function fuzz(data: Buffer): void {
  checkDump(data, seeds, open);
}
