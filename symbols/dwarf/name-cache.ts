/**
 * The name index on disk: <cache>/<build-id>-<size>.idx (symbols/cache-file.ts: verified, 0600, renamed into
 * place), so a vmlinux's DWARF is scanned once. The maps are stored as NUL-joined names and offset arrays,
 * deflated (inflating 4 MB takes about as long as loading a zstd addon would), and each map is built on first
 * use.
 */
import { join } from 'node:path';
import { cacheDir, loadCache, saveCache } from '../cache-file.js';
import type { NameIndex } from './name-index.js';
import type { UnitRecord } from './reader.js';

export interface CachedIndex {
  index: NameIndex;
  units: UnitRecord[];
}

/** Bump when the index's content or layout changes. */
const FORMAT = 6;

export { cacheDir };

export function cachePath(dir: string, buildId: string, size: number): string {
  return join(dir, `${buildId}-${size}.idx`);
}

const KIND = { magic: 'TSCRASH-NAMEIDX', format: FORMAT, deflate: true };

export function loadNameIndex(dir: string, buildId: string, size: number): CachedIndex | undefined {
  const v = loadCache(cachePath(dir, buildId, size), KIND) as Stored | undefined;
  if (!v || v.buildId !== buildId || typeof v.types?.names !== 'string' || !(v.units instanceof Float64Array))
    return undefined;
  return { index: lazyIndex(v), units: unitsFrom(v.units) };
}

/** On disk: each map as its names joined by NUL and their DIE offsets, the unit table as numbers. */
interface StoredMap {
  names: string;
  offs: Float64Array;
  extra?: Float64Array;
}
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
  return { names: names.join('\0'), offs, extra };
}

function loadMap(s: StoredMap): Map<string, number> {
  const m = new Map<string, number>();
  if (!s.names) return m;
  const names = s.names.split('\0');
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
    const names = v.enumerators.names ? v.enumerators.names.split('\0') : [];
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
  const stored: Stored = {
    buildId,
    types: storeMap(cached.index.types),
    variables: storeMap(cached.index.variables),
    functions: storeMap(cached.index.functions),
    enumerators: storeMap(cached.index.enumerators),
    units,
  };
  saveCache(cachePath(dir, buildId, size), KIND, stored);
}
