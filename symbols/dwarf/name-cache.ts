/**
 * The name index on disk: ~/.cache/tscrash/index/<build-id>.idx (TSCRASH_CACHE overrides the directory),
 * so a vmlinux's DWARF is scanned once. The file is v8-serialized maps, deflated (zlib: inflating 4 MB takes about as long as loading a zstd addon would), behind a magic, a
 * format version and a SHA-256 of the compressed payload; anything that does not verify (or would expand past
 * MAX_PAYLOAD) is ignored and rebuilt, never trusted.
 * Written 0600 under a temporary name and renamed when complete.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { deflateSync, inflateSync } from 'node:zlib';
import type { NameIndex } from './name-index.js';
import type { UnitRecord } from './reader.js';

export interface CachedIndex {
  index: NameIndex;
  units: UnitRecord[];
}

const MAGIC = Buffer.from('TSCRASH-NAMEIDX\0');
/** Bump when the index's content or layout changes. */
const FORMAT = 6;
/** The largest serialized index accepted (a vmlinux's is about 5 MB). */
const MAX_PAYLOAD = 1 << 30;

export function cacheDir(override?: string): string {
  return override || process.env.TSCRASH_CACHE || join(homedir(), '.cache', 'tscrash', 'index');
}

export function cachePath(dir: string, buildId: string, size: number): string {
  return join(dir, `${buildId}-${size}.idx`);
}

export function loadNameIndex(dir: string, buildId: string, size: number): CachedIndex | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(cachePath(dir, buildId, size));
  } catch {
    return undefined;
  }
  const head = MAGIC.length + 4 + 32;
  if (buf.length < head || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (buf.readUInt32LE(MAGIC.length) !== FORMAT) return undefined;
  const sum = buf.subarray(MAGIC.length + 4, head);
  const packed = buf.subarray(head);
  if (!createHash('sha256').update(packed).digest().equals(sum)) return undefined;
  try {
    const payload = inflateSync(packed, { maxOutputLength: MAX_PAYLOAD });
    const v = deserialize(payload) as Stored;
    if (v.buildId !== buildId || typeof v.types?.names !== 'string' || !(v.units instanceof Float64Array))
      return undefined;
    return { index: lazyIndex(v), units: unitsFrom(v.units) };
  } catch {
    return undefined;
  }
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
  const payload = deflateSync(serialize(stored), { level: 6 });
  const ver = Buffer.alloc(4);
  ver.writeUInt32LE(FORMAT);
  const sum = createHash('sha256').update(payload).digest();
  const final = cachePath(dir, buildId, size);
  const tmp = `${final}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      for (const part of [MAGIC, ver, sum, payload]) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, final);
  } catch {
    rmSync(tmp, { force: true });
  }
}
