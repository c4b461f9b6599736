/**
 * Split sets (core/formats/split.ts): the input is the first file of a two-file set made by seeds.ts, the second
 * file is the intact one beside it; pages of either file must read as from the intact set unless bytes they depend
 * on (for the second file's pages: the first file's headers, which route pfns to files) changed.
 */
import type { Dump } from '../../core/dump.js';
import { KdumpDump } from '../../core/formats/kdump.js';
import { SplitDump } from '../../core/formats/split.js';
import { checkDump, type DumpSeed, expectations, kdumpDeps, kdumpLayout, type Range } from '../lib/dump-check.js';
import { intactSeeds, MemorySource } from '../lib/harness.js';

// The intact set's second file and the seeds' answers, worked out when the fuzzer loads this module.
const second = intactSeeds('split-second')[0]?.bytes ?? new Uint8Array(0);
const open = (b: Uint8Array): Dump =>
  new SplitDump([new KdumpDump(new MemorySource('split-1', b)), new KdumpDump(new MemorySource('split-2', second))]);
const seeds: DumpSeed[] = intactSeeds('split').flatMap((s) => {
  const L = kdumpLayout(s.bytes);
  const first = kdumpDeps(s.bytes);
  const routing: Range[] = [[0, L.descStart]];
  const deps = new Map<number, Range[]>();
  for (const [pfn, r] of first) deps.set(pfn, pfn >= L.startPfn && pfn < L.endPfn ? r : routing);
  return expectations(s, deps, open) ?? [];
});

export function fuzz(data: Buffer): void {
  checkDump(data, seeds, open);
}
