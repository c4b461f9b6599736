/**
 * The name index on disk: <cache>/<build-id>-<size>.idx (symbols/cache-file.ts: verified, 0600, renamed into
 * place), so a vmlinux's DWARF is scanned once. The maps are stored as NUL-joined names (bytes, copied from
 * the merged index's tables without making a string of each) and offset arrays, not deflated (about 5 MB
 * for a kernel: deflating took longer than writing and hashing them, and inflating longer than reading them),
 * and each map is built on first use.
 */
import { join } from 'node:path';
import { cacheDir, loadCache, saveCache } from '../cache-file.js';
import type { NameIndex, StoredMap } from './name-index.js';
import type { UnitRecord } from './reader.js';

export interface CachedIndex {
  index: NameIndex;
  units: UnitRecord[];
}

/** Bump when the index's content or layout changes. */
const FORMAT = 7;

export { cacheDir };

export function cachePath(dir: string, buildId: string, size: number): string {
  return join(dir, `${buildId}-${size}.idx`);
}

const KIND = { magic: 'TSCRASH-NAMEIDX', format: FORMAT, deflate: false };

export function loadNameIndex(dir: string, buildId: string, size: number): CachedIndex | undefined {
  const v = loadCache(cachePath(dir, buildId, size), KIND) as Stored | undefined;
  if (!v || v.buildId !== buildId || !(v.types?.names instanceof Uint8Array) || !(v.units instanceof Float64Array))
    return undefined;
  return { index: lazyIndex(v), units: unitsFrom(v.units) };
}

/** On disk: each map as its names joined by NUL and their DIE offsets, the unit table as numbers. */
interface Stored {
  buildId: string;
  types: StoredMap;
  variables: StoredMap;
  functions: StoredMap;
  enumerators: StoredMap;
  units: Float64Array;
}

const UNIT_FIELDS = [
  'offset',
  'dieOffset',
  'end',
  'version',
  'unitType',
  'offsetSize',
  'addrSize',
  'abbrevOffset',
] as const;

function storeMap(m: Map<string, number> | Map<string, [number, number]>): StoredMap {
  const names: string[] = [];
  const offs = new Float64Array(m.size);
  let extra: Float64Array | undefined;
  let i = 0;
  for (const [k, v] of m as Map<string, number | [number, number]>) {
    names.push(k);
    if (Array.isArray(v)) {
      extra ??= new Float64Array(m.size);
      offs[i] = v[0];
      extra[i] = v[1];
    } else offs[i] = v;
    i++;
  }
  const joined = Buffer.from(names.join('\0'), 'latin1');
  return { names: new Uint8Array(joined.buffer, joined.byteOffset, joined.length), offs, extra };
}

/** The stored names, one string each. */
function namesOf(s: StoredMap): string[] {
  if (s.names.length === 0) return s.offs.length === 1 ? [''] : [];
  return Buffer.from(s.names.buffer, s.names.byteOffset, s.names.byteLength).toString('latin1').split('\0');
}

function loadMap(s: StoredMap): Map<string, number> {
  const m = new Map<string, number>();
  const names = namesOf(s);
  for (let i = 0; i < names.length; i++) m.set(names[i]!, s.offs[i]!);
  return m;
}

/** The index with each map built from its stored form the first time it is used. */
function lazyIndex(v: Stored): NameIndex {
  const idx = {} as NameIndex;
  const lazy = <K extends keyof NameIndex>(key: K, build: () => NameIndex[K]): void => {
    Object.defineProperty(idx, key, {
      configurable: true,
      enumerable: true,
      get() {
        const value = build();
        Object.defineProperty(idx, key, { value, enumerable: true });
        return value;
      },
    });
  };
  lazy('types', () => loadMap(v.types));
  lazy('variables', () => loadMap(v.variables));
  lazy('functions', () => loadMap(v.functions));
  lazy('enumerators', () => {
    const m = new Map<string, [number, number]>();
    const names = namesOf(v.enumerators);
    for (let i = 0; i < names.length; i++) m.set(names[i]!, [v.enumerators.offs[i]!, v.enumerators.extra![i]!]);
    return m;
  });
  return idx;
}

function unitsFrom(a: Float64Array): UnitRecord[] {
  const out: UnitRecord[] = [];
  const n = UNIT_FIELDS.length;
  for (let i = 0; i + n <= a.length; i += n) {
    const r = {} as Record<(typeof UNIT_FIELDS)[number], number>;
    UNIT_FIELDS.forEach((f, j) => {
      r[f] = a[i + j]!;
    });
    out.push(r);
  }
  return out;
}

/** Save the index; a failure to write (read-only home, full disk) only costs the next start a rescan. */
export function saveNameIndex(dir: string, buildId: string, size: number, cached: CachedIndex): void {
  const units = new Float64Array(cached.units.length * UNIT_FIELDS.length);
  cached.units.forEach((u, i) => {
    UNIT_FIELDS.forEach((f, j) => {
      units[i * UNIT_FIELDS.length + j] = u[f];
    });
  });
  // A merged index gives its maps' stored form from its tables (the maps themselves are not built for it).
  const maps = cached.index.stored?.() ?? {
    types: storeMap(cached.index.types),
    variables: storeMap(cached.index.variables),
    functions: storeMap(cached.index.functions),
    enumerators: storeMap(cached.index.enumerators),
  };
  const stored: Stored = { buildId, ...maps, units };
  saveCache(cachePath(dir, buildId, size), KIND, stored);
}
