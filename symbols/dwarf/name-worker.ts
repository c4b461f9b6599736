/**
 * Worker thread: scan a share of a vmlinux's DWARF units for the name index (name-scan.ts), reading only
 * those units' bytes a run at a time, and post the scan's records back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ElfFile } from '../elf.js';
import { scanNames } from './name-scan.js';
import { DwarfReader, type UnitRecord } from './reader.js';

const { path, units } = workerData as { path: string; units: UnitRecord[] };
const elf = ElfFile.open(path);
try {
  const idx = scanNames(new DwarfReader(elf, { units }));
  // The records' buffers are moved, not copied.
  parentPort!.postMessage({ ok: true, idx }, [idx.recs.buffer as ArrayBuffer, idx.specs.buffer as ArrayBuffer]);
} catch (e) {
  const err = e as Error & { file?: string; offset?: number };
  parentPort!.postMessage({ ok: false, message: err.message, file: err.file, offset: err.offset });
} finally {
  elf.close();
}
