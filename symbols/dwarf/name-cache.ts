/**
 * The name index on disk: ~/.cache/tscrash/index/<build-id>.idx (TSCRASH_CACHE overrides the directory),
 * so a vmlinux's DWARF is scanned once. The file is v8-serialized maps behind a magic, a format version
 * and a SHA-256 of the payload; anything that does not verify is ignored and rebuilt, never trusted.
 * Written 0600 under a temporary name and renamed when complete.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { NameIndex } from './name-index.js';
import type { UnitRecord } from './reader.js';

export interface CachedIndex {
  index: NameIndex;
  units: UnitRecord[];
}

const MAGIC = Buffer.from('TSCRASH-NAMEIDX\0');
/** Bump when the index's content or layout changes. */
const FORMAT = 2;

export function cacheDir(override?: string): string {
  return override || process.env.TSCRASH_CACHE || join(homedir(), '.cache', 'tscrash', 'index');
}

function cachePath(dir: string, buildId: string, size: number): string {
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
  const payload = buf.subarray(head);
  if (!createHash('sha256').update(payload).digest().equals(sum)) return undefined;
  try {
    const v = deserialize(payload) as { buildId: string; index: NameIndex; units: UnitRecord[] };
    if (v.buildId !== buildId || !(v.index?.types instanceof Map) || !Array.isArray(v.units)) return undefined;
    return { index: v.index, units: v.units };
  } catch {
    return undefined;
  }
}

/** Save the index; a failure to write (read-only home, full disk) only costs the next start a rescan. */
export function saveNameIndex(dir: string, buildId: string, size: number, cached: CachedIndex): void {
  const payload = serialize({ buildId, index: cached.index, units: cached.units });
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
