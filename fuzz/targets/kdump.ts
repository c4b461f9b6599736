/** kdump-compressed files (core/formats/kdump.ts, bitmap.ts): headers, bitmaps, descriptors, page data. */
import { KdumpDump } from '../../core/formats/kdump.js';
import { checkDump, type DumpSeed, expectations, kdumpDeps } from '../lib/dump-check.js';
import { intactSeeds, MemorySource } from '../lib/harness.js';

const open = (b: Uint8Array) => new KdumpDump(new MemorySource('kdump', b));

// The intact seeds' answers, worked out when the fuzzer loads this module (before it times runs).
const seeds: DumpSeed[] = intactSeeds('kdump').flatMap((s) => expectations(s, kdumpDeps(s.bytes), open) ?? []);

export function fuzz(data: Buffer): void {
  checkDump(data, seeds, open);
}
