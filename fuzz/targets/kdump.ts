/** kdump-compressed files (core/formats/kdump.ts, bitmap.ts): headers, bitmaps, descriptors, page data. */
import { KdumpDump } from '../../core/formats/kdump.js';
import { checkDump, type DumpSeed, expectations, kdumpDeps } from '../lib/dump-check.js';
import { intactSeeds, MemorySource } from '../lib/harness.js';

const open = (b: Uint8Array) => new KdumpDump(new MemorySource('kdump', b));
let seeds: DumpSeed[] | undefined;

export function fuzz(data: Buffer): void {
  seeds ??= intactSeeds('kdump').flatMap((s) => expectations(s, kdumpDeps(s.bytes), open) ?? []);
  checkDump(data, seeds, open);
}
