/**
 * Which slab caches use the most memory: every cache's slabs (as kmem -s counts them) times its slab size,
 * the largest first, with the objects in use, and the total.
 *
 *   tscrash run plugins/examples/slab-top.ts VMLINUX VMCORE [-- N]     (the top N, default 10; 0 for all)
 */
import type * as Tscrash from '../api.js';

export interface CacheUsage {
  name: string;
  slabs: bigint;
  /** Bytes of the cache's slabs. */
  bytes: bigint;
  /** Bytes of its allocated objects. */
  inUse: bigint;
}

/** Every cache's memory, the largest first (then by name). */
export function slabUsage(prog: Tscrash.Program, tscrash: typeof Tscrash): CacheUsage[] {
  const { kmemCaches, cacheCounts } = tscrash.helpers;
  return kmemCaches(prog)
    .map((c) => {
      const n = cacheCounts(prog, c);
      return { name: c.name, slabs: n.slabs, bytes: n.slabs * c.slabBytes, inUse: n.allocated * BigInt(c.objectSize) };
    })
    .sort((a, b) => (a.bytes === b.bytes ? a.name.localeCompare(b.name) : a.bytes < b.bytes ? 1 : -1));
}

const kib = (b: bigint): string => `${(b / 1024n).toString()}k`;

export default async function slabTop(prog: Tscrash.Program, args: string[], tscrash: typeof Tscrash): Promise<void> {
  const n = args[0] === undefined ? 10 : Number(args[0]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a count: ${args[0]}`);
  const all = slabUsage(prog, tscrash);
  const shown = n === 0 ? all : all.slice(0, n);
  console.log(`${'CACHE'.padEnd(24)} ${'SLABS'.padStart(7)} ${'MEMORY'.padStart(10)} ${'IN USE'.padStart(10)}`);
  for (const c of shown)
    console.log(
      `${c.name.padEnd(24)} ${String(c.slabs).padStart(7)} ${kib(c.bytes).padStart(10)} ${kib(c.inUse).padStart(10)}`,
    );
  const total = all.reduce((s, c) => s + c.bytes, 0n);
  const used = all.reduce((s, c) => s + c.inUse, 0n);
  console.log(
    `${`TOTAL (${all.length} caches)`.padEnd(24)} ${''.padStart(7)} ${kib(total).padStart(10)} ${kib(used).padStart(10)}`,
  );
}
