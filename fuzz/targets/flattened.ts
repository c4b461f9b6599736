/** Flattened (-F) streams of kdump files (core/formats/flattened.ts through the kdump reader). */
import { FlattenedSource } from '../../core/formats/flattened.js';
import { KdumpDump } from '../../core/formats/kdump.js';
import { checkDump, type DumpSeed, expectations, flatDeps, flatRecords, kdumpDeps } from '../lib/dump-check.js';
import { intactSeeds, MemorySource } from '../lib/harness.js';

const open = (b: Uint8Array) => new KdumpDump(new FlattenedSource(new MemorySource('flattened', b)), 'flattened-kdump');

/** The image a stream writes (for the seed's own layout). */
function image(stream: Uint8Array): Uint8Array {
  const recs = flatRecords(stream);
  const size = Math.max(0, ...recs.map((r) => r.offset + r.size));
  const out = new Uint8Array(size);
  for (const r of recs) out.set(stream.subarray(r.at + 16, r.at + 16 + r.size), r.offset);
  return out;
}

// The intact seeds' answers, worked out when the fuzzer loads this module (before it times runs).
const seeds: DumpSeed[] = intactSeeds('flattened').flatMap(
  (s) => expectations(s, flatDeps(s.bytes, kdumpDeps(image(s.bytes))), open) ?? [],
);

export function fuzz(data: Buffer): void {
  checkDump(data, seeds, open);
}
