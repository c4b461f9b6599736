/**
 * Worker thread: scan a share of a vmlinux's DWARF units for the name index (name-index.ts), reading only
 * those units' bytes, and post the partial index back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ElfFile } from '../elf.js';
import { buildNameIndex } from './name-index.js';
import { DwarfReader, type UnitRecord } from './reader.js';

const { path, units } = workerData as { path: string; units: UnitRecord[] };
const elf = ElfFile.open(path);
try {
  const idx = buildNameIndex(new DwarfReader(elf, { units }), { deferSpecifications: true });
  parentPort!.postMessage({ ok: true, idx });
} catch (e) {
  const err = e as Error & { file?: string; offset?: number };
  parentPort!.postMessage({ ok: false, message: err.message, file: err.file, offset: err.offset });
} finally {
  elf.close();
}
