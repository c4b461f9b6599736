/**
 * tscrash's on-disk caches (the DWARF name index, the symbol table), in ~/.cache/tscrash/index
 * (TSCRASH_CACHE overrides): a magic naming the content, a format version and a SHA-256 of the stored bytes,
 * then the v8-serialized value (deflated when asked). Anything that does not verify is ignored and rebuilt,
 * never trusted. Written 0600 under a temporary name and renamed when complete; a failure to write
 * (read-only home, full disk) only costs the next start a rebuild.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { deflateSync, inflateSync } from 'node:zlib';

/** The largest stored value accepted, serialized. */
const MAX_PAYLOAD = 1 << 30;

export function cacheDir(override?: string): string {
  return override || process.env.TSCRASH_CACHE || join(homedir(), '.cache', 'tscrash', 'index');
}

export interface CacheKind {
  /** 16 bytes naming the content. */
  magic: string;
  format: number;
  deflate: boolean;
  /** zlib's level when deflating (6 unless told). */
  level?: number;
}

function magicOf(kind: CacheKind): Buffer {
  const m = Buffer.alloc(16);
  m.write(kind.magic, 'latin1');
  return m;
}

/** The stored value, or undefined when the file is missing, of another kind or version, or damaged. */
export function loadCache(path: string, kind: CacheKind): unknown {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  const magic = magicOf(kind);
  const head = magic.length + 4 + 32;
  if (buf.length < head || !buf.subarray(0, magic.length).equals(magic)) return undefined;
  if (buf.readUInt32LE(magic.length) !== kind.format) return undefined;
  const sum = buf.subarray(magic.length + 4, head);
  const packed = buf.subarray(head);
  if (!createHash('sha256').update(packed).digest().equals(sum)) return undefined;
  try {
    return deserialize(kind.deflate ? inflateSync(packed, { maxOutputLength: MAX_PAYLOAD }) : packed);
  } catch {
    return undefined;
  }
}

export function saveCache(path: string, kind: CacheKind, value: unknown): void {
  const raw = serialize(value);
  const payload = kind.deflate ? deflateSync(raw, { level: kind.level ?? 6 }) : raw;
  const ver = Buffer.alloc(4);
  ver.writeUInt32LE(kind.format);
  const sum = createHash('sha256').update(payload).digest();
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      for (const part of [magicOf(kind), ver, sum, payload]) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}
