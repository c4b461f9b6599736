/**
 * A debuginfod client: a file by GNU build-id from the servers in DEBUGINFOD_URLS (`URL/buildid/ID/debuginfo`),
 * kept in the cache directory gdb, drgn and elfutils share, laid out and cleaned as elfutils' libdebuginfod does
 * it (debuginfod-client.c), so that a file one of them fetched is the others' too:
 *
 * - the cache: $DEBUGINFOD_CACHE_PATH, else $HOME/.debuginfod_client_cache when it exists, else
 *   $XDG_CACHE_HOME/debuginfod_client, else $HOME/.cache/debuginfod_client; a file is CACHE/BUILDID/debuginfo
 *   (or executable);
 * - an empty file there is a miss, not asked again for cache_miss_s seconds (a file in the cache, default 600);
 * - at most every cache_clean_interval_s seconds (default 86400; the file's mtime is the last cleaning) files not
 *   accessed for max_unused_age_s (default 604800) are deleted, and the empty build-id directories;
 * - DEBUGINFOD_URLS: space-separated server URLs, asked in parallel, the first to answer with the file wins;
 *   DEBUGINFOD_TIMEOUT (default 90): give up when less than 100 KiB arrived in that many seconds;
 *   DEBUGINFOD_MAXTIME, DEBUGINFOD_MAXSIZE (sent as X-DEBUGINFOD-MAXSIZE; a 406 answer means too large);
 *   DEBUGINFOD_RETRY_LIMIT (default 2): retries after a failure other than "not found";
 *   DEBUGINFOD_HEADERS_FILE: extra request headers, one a line; DEBUGINFOD_PROGRESS, DEBUGINFOD_VERBOSE.
 *
 * Beyond elfutils: a download is written to BUILDID/debuginfo.tscrash-partial (mode 0600) and kept when it breaks
 * off, so that the next attempt resumes it with a Range request when the server allows (206), or starts again
 * (200); the finished file is checked (the caller's check: the build-id) before it is renamed into place, and a
 * wrong one is discarded with the reason. One tscrash downloads a file at a time (a .lock beside the partial file).
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export type DebuginfodKind = 'debuginfo' | 'executable';

export interface DebuginfodConfig {
  /** The servers' `.../buildid` URLs, duplicates dropped. */
  urls: string[];
  cacheDir: string;
  /** Give up on a server when less than 100 KiB arrived in this many seconds; 0: never. */
  timeoutS: number;
  /** Give up on the whole download after this many seconds; 0: never. */
  maxTimeS: number;
  /** Refuse a file larger than this (bytes); 0: no limit. */
  maxSize: number;
  retryLimit: number;
  progress: boolean;
  verbose: boolean;
  headers: [string, string][];
}

/** elfutils' defaults (debuginfod-client.c). */
export const DEFAULTS = {
  timeoutS: 90,
  retryLimit: 2,
  cacheCleanIntervalS: 86400,
  maxUnusedAgeS: 604800,
  cacheMissS: 600,
} as const;

/** The low-speed limit elfutils gives curl: at least this many bytes per DEBUGINFOD_TIMEOUT seconds. */
const LOW_SPEED_BYTES = 100 * 1024;

const PARTIAL = '.tscrash-partial';

function intEnv(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return def;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : def;
}

/** The cache directory elfutils' client uses for this environment. */
export function debuginfodCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env.DEBUGINFOD_CACHE_PATH;
  if (own) return own;
  const home = env.HOME || '/';
  const legacy = join(home, '.debuginfod_client_cache');
  if (existsSync(legacy)) return legacy;
  const xdg = env.XDG_CACHE_HOME || join(home, '.cache');
  return join(xdg, 'debuginfod_client');
}

/** Extra request headers from DEBUGINFOD_HEADERS_FILE: `Name: value` lines; others are ignored, as elfutils does. */
function headersFile(path: string | undefined): [string, string][] {
  if (!path) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const c = line.indexOf(':');
    if (c <= 0 || c === line.trimEnd().length - 1) continue;
    out.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
  }
  return out;
}

/** The client's settings from the environment; undefined when DEBUGINFOD_URLS names no server. */
export function debuginfodConfig(env: NodeJS.ProcessEnv = process.env): DebuginfodConfig | undefined {
  const urls: string[] = [];
  for (const u of (env.DEBUGINFOD_URLS ?? '').split(' ')) {
    if (!u) continue;
    const full = u.length > 1 && u.endsWith('/') ? `${u}buildid` : `${u}/buildid`;
    if (!urls.includes(full)) urls.push(full);
  }
  if (urls.length === 0) return undefined;
  return {
    urls,
    cacheDir: debuginfodCacheDir(env),
    timeoutS: intEnv(env, 'DEBUGINFOD_TIMEOUT', DEFAULTS.timeoutS),
    maxTimeS: intEnv(env, 'DEBUGINFOD_MAXTIME', 0),
    maxSize: intEnv(env, 'DEBUGINFOD_MAXSIZE', 0),
    retryLimit: intEnv(env, 'DEBUGINFOD_RETRY_LIMIT', DEFAULTS.retryLimit),
    progress: env.DEBUGINFOD_PROGRESS !== undefined,
    verbose: env.DEBUGINFOD_VERBOSE !== undefined,
    headers: headersFile(env.DEBUGINFOD_HEADERS_FILE),
  };
}

/** A number kept in a cache file (cache_clean_interval_s ...): written with the default when missing or empty. */
function cacheSetting(path: string, def: number): { value: number; mtimeMs: number } {
  try {
    const st = statSync(path);
    if (st.size > 0) {
      const n = Number.parseInt(readFileSync(path, 'latin1'), 10);
      return { value: Number.isFinite(n) ? n : def, mtimeMs: st.mtimeMs };
    }
  } catch {
    // missing: created below
  }
  writeFileSync(path, String(def), { mode: 0o600 });
  return { value: def, mtimeMs: statSync(path).mtimeMs };
}

/** The files elfutils' cleaning considers: build-id directories and the files in them. */
const CLEANABLE = /.*\/[a-f0-9]+(\/debuginfo|\/executable|\/source.*|)$/;

/**
 * Clean the cache as elfutils does, when cache_clean_interval_s has passed since the last cleaning: files not
 * accessed for max_unused_age_s, then the old empty build-id directories. Our partial downloads (and their locks)
 * go by the same age, by their mtime. Returns how many files were deleted.
 */
export function cleanDebuginfodCache(cacheDir: string, now = Date.now()): number {
  const interval = cacheSetting(join(cacheDir, 'cache_clean_interval_s'), DEFAULTS.cacheCleanIntervalS);
  if (now - interval.mtimeMs < interval.value * 1000) return 0;
  const t = now / 1000;
  utimesSync(join(cacheDir, 'cache_clean_interval_s'), t, t);
  const maxAge = cacheSetting(join(cacheDir, 'max_unused_age_s'), DEFAULTS.maxUnusedAgeS).value * 1000;
  let deleted = 0;
  const walk = (dir: string, depth: number): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      try {
        if (e.isDirectory()) {
          // The directory's age from before its files went (as fts's post-order visit has it).
          const mtime = statSync(p).mtimeMs;
          if (depth < 2) walk(p, depth + 1);
          if (CLEANABLE.test(p) && now - mtime >= maxAge) {
            try {
              rmdirSync(p); // only when empty
            } catch {
              // not empty
            }
          }
        } else if (e.isFile()) {
          const st = statSync(p);
          const partial = e.name.includes(PARTIAL);
          if ((CLEANABLE.test(p) && now - st.atimeMs >= maxAge) || (partial && now - st.mtimeMs >= maxAge)) {
            unlinkSync(p);
            deleted++;
          }
        }
      } catch {
        // raced with another client: theirs to finish
      }
    }
  };
  walk(cacheDir, 0);
  return deleted;
}

export interface DebuginfodProgress {
  /** The server's URL that is sending the file. */
  url: string;
  /** Bytes in the file so far (with what a resumed download already had). */
  received: number;
  /** The file's size when the server says it. */
  total: number | undefined;
  /** Bytes the partial file had when this attempt began (a resumed download; 0 when the server starts over). */
  resumedFrom: number;
  /** When the file's bytes began to come in this attempt (performance.now()). */
  startMs: number;
}

export interface FetchOptions {
  /** Check a downloaded (or cached) file before it is used: a reason it is wrong, or undefined when right. */
  check?: (path: string) => string | undefined;
  onProgress?: (p: DebuginfodProgress) => void;
  /** Verbose lines (DEBUGINFOD_VERBOSE). */
  onVerbose?: (line: string) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export type DebuginfodResult =
  | {
      ok: true;
      path: string;
      /** Taken from the cache, no download. */
      cached: boolean;
      url?: string;
      /** Bytes downloaded in this run, how long it took, and where a resumed download began. */
      bytes?: number;
      ms?: number;
      resumedFrom?: number;
    }
  | {
      ok: false;
      reason: 'not-found' | 'failed' | 'wrong-file' | 'interrupted' | 'busy' | 'too-large';
      message: string;
    };

function isBuildId(id: string): boolean {
  return /^[0-9a-f]{2,128}$/.test(id);
}

function errorText(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code) return `${code}${err.cause?.message ? ` (${err.cause.message})` : ''}`;
  if (err.cause?.message) return err.cause.message;
  return err.message ?? String(e);
}

/** Who holds the lock of a download: a live process's pid, or undefined (none, or stale: removed). */
function takeLock(lock: string): number | undefined {
  for (let i = 0; i < 2; i++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(readFileSync(lock, 'latin1'), 10);
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) return pid;
    try {
      unlinkSync(lock);
    } catch {
      // another client took it over first
    }
  }
  return -1;
}

interface Attempt {
  kind: 'done' | 'not-found' | 'too-large' | 'failed' | 'interrupted' | 'timeout';
  message: string;
  url?: string;
  lastModified?: string;
  /** Where this attempt's bytes began in the file (a resumed download). */
  offset?: number;
}

/**
 * The file of this build-id from the cache or the servers (see the module's comment). Never throws for what
 * the network or the servers do: the result says what happened, in words fit for one line.
 */
export async function fetchByBuildId(
  cfg: DebuginfodConfig,
  buildId: string,
  kind: DebuginfodKind,
  opts: FetchOptions = {},
): Promise<DebuginfodResult> {
  const id = buildId.toLowerCase();
  const verbose = (s: string): void => {
    if (cfg.verbose) opts.onVerbose?.(s);
  };
  if (!isBuildId(id)) return { ok: false, reason: 'failed', message: `not a build-id: ${JSON.stringify(buildId)}` };
  const now = opts.now ?? Date.now;
  const dir = join(cfg.cacheDir, id);
  const target = join(dir, kind);
  const partial = `${target}${PARTIAL}`;
  const lock = `${partial}.lock`;
  try {
    mkdirSync(cfg.cacheDir, { recursive: true, mode: 0o700 });
    try {
      cleanDebuginfodCache(cfg.cacheDir, now());
    } catch (e) {
      verbose(`cache cleaning of ${cfg.cacheDir} failed: ${(e as Error).message}`);
    }
    // In the cache already: a file, or a recent miss.
    if (existsSync(target)) {
      const st = statSync(target);
      if (st.size > 0) {
        const wrong = opts.check?.(target);
        if (!wrong) return { ok: true, path: target, cached: true };
        verbose(`${target} in the cache is not the file: ${wrong}; deleted`);
        unlinkSync(target);
      } else {
        const miss = cacheSetting(join(cfg.cacheDir, 'cache_miss_s'), DEFAULTS.cacheMissS).value;
        const age = (now() - st.mtimeMs) / 1000;
        if (age <= miss) {
          return {
            ok: false,
            reason: 'not-found',
            message: `${id} was not found ${Math.round(age)} s ago (a miss in ${cfg.cacheDir}, asked again after cache_miss_s = ${miss} s)`,
          };
        }
        unlinkSync(target);
      }
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return { ok: false, reason: 'failed', message: `cache ${cfg.cacheDir}: ${(e as Error).message}` };
  }
  let holder: number | undefined;
  try {
    holder = takeLock(lock);
  } catch (e) {
    return { ok: false, reason: 'failed', message: `cache ${cfg.cacheDir}: ${(e as Error).message}` };
  }
  if (holder !== undefined) {
    return {
      ok: false,
      reason: 'busy',
      message: `another tscrash${holder > 0 ? ` (pid ${holder})` : ''} is downloading ${partial}`,
    };
  }
  const started = performance.now();
  let downloaded = 0;
  try {
    let last: Attempt | undefined;
    for (let attempt = 0; attempt <= cfg.retryLimit; attempt++) {
      if (attempt > 0) verbose(`retrying (${cfg.retryLimit - attempt + 1} left): ${last?.message}`);
      const before = existsSync(partial) ? statSync(partial).size : 0;
      const a = await downloadOnce(cfg, id, kind, partial, before, started, opts, verbose, (n) => (downloaded += n));
      last = a;
      if (a.kind === 'done') {
        const wrong = opts.check?.(partial);
        if (wrong) {
          unlinkSync(partial);
          return {
            ok: false,
            reason: 'wrong-file',
            message: `${a.url}/buildid/${id}/${kind} is not the file asked for: ${wrong}; discarded`,
          };
        }
        const fd = openSync(partial, 'r+');
        try {
          const t = a.lastModified ? Date.parse(a.lastModified) : Number.NaN;
          if (Number.isFinite(t)) futimesSync(fd, t / 1000, t / 1000);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(partial, target);
        return {
          ok: true,
          path: target,
          cached: false,
          url: a.url,
          bytes: downloaded,
          ms: performance.now() - started,
          resumedFrom: a.offset ?? 0,
        };
      }
      if (a.kind === 'not-found') {
        // A miss, remembered for cache_miss_s as elfutils does (an empty file).
        try {
          closeSync(openSync(target, 'wx', 0o600));
        } catch {
          // another client wrote it
        }
        return { ok: false, reason: 'not-found', message: a.message };
      }
      if (a.kind === 'too-large') return { ok: false, reason: 'too-large', message: a.message };
      if (a.kind === 'interrupted') return { ok: false, reason: 'interrupted', message: a.message };
      if (cfg.maxTimeS > 0 && performance.now() - started > cfg.maxTimeS * 1000) break;
    }
    const kept = existsSync(partial) ? statSync(partial).size : 0;
    return {
      ok: false,
      reason: 'failed',
      message: `${last?.message ?? 'no server answered'}${kept > 0 ? ` (${kept} bytes kept in ${partial}, resumed next time)` : ''}`,
    };
  } catch (e) {
    return { ok: false, reason: 'failed', message: `${partial}: ${(e as Error).message}` };
  } finally {
    try {
      if (existsSync(partial) && statSync(partial).size === 0) unlinkSync(partial);
      unlinkSync(lock);
      rmdirSync(dir); // only when empty, as elfutils leaves it
    } catch {
      // not empty, or gone
    }
  }
}

/** `bytes START-END/TOTAL` of a 206 answer. */
function contentRange(v: string | null): { start: number; total: number | undefined } | undefined {
  const m = v ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** One round: every server asked at once, the first with the file (200, or 206 for the resumed range) streams it. */
async function downloadOnce(
  cfg: DebuginfodConfig,
  id: string,
  kind: DebuginfodKind,
  partial: string,
  have: number,
  started: number,
  opts: FetchOptions,
  verbose: (s: string) => void,
  count: (n: number) => void,
): Promise<Attempt> {
  const startMs = performance.now();
  const controllers = cfg.urls.map(() => new AbortController());
  let why: 'timeout' | 'maxtime' | 'interrupted' | undefined;
  const abortAll = (w: typeof why): void => {
    why ??= w;
    for (const c of controllers) c.abort();
  };
  const onAbort = (): void => abortAll('interrupted');
  if (opts.signal?.aborted) return { kind: 'interrupted', message: 'interrupted' };
  opts.signal?.addEventListener('abort', onAbort);
  // The low-speed rule: at least 100 KiB in every DEBUGINFOD_TIMEOUT seconds (waiting for an answer included).
  let received = 0;
  const samples: [number, number][] = [[startMs, 0]];
  const timer = setInterval(() => {
    const t = performance.now();
    samples.push([t, received]);
    if (cfg.maxTimeS > 0 && t - started > cfg.maxTimeS * 1000) abortAll('maxtime');
    if (cfg.timeoutS <= 0) return;
    const window = cfg.timeoutS * 1000;
    while (samples.length > 1 && t - samples[1]![0] >= window) samples.shift();
    const [t0, b0] = samples[0]!;
    if (t - t0 >= window && received - b0 < LOW_SPEED_BYTES) abortAll('timeout');
  }, 250);
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'tscrash' };
  for (const [k, v] of cfg.headers) headers[k.toLowerCase()] = v;
  if (cfg.maxSize > 0) headers['x-debuginfod-maxsize'] = String(cfg.maxSize);
  if (have > 0) headers.range = `bytes=${have}-`;
  const failures: string[] = [];
  let notFound = 0;
  let tooLarge = 0;
  try {
    type Won = { i: number; res: Response };
    const asks = cfg.urls.map(async (base, i): Promise<Won> => {
      const url = `${base}/${id}/${kind}`;
      verbose(`GET ${url}${have > 0 ? ` (from byte ${have})` : ''}`);
      let res: Response;
      try {
        res = url.startsWith('file:')
          ? fileResponse(url)
          : await fetch(url, { headers, signal: controllers[i]!.signal, redirect: 'follow' });
      } catch (e) {
        failures.push(
          `${base.replace(/\/buildid$/, '')}: ${why === 'timeout' ? `no answer in ${cfg.timeoutS} s (DEBUGINFOD_TIMEOUT)` : errorText(e)}`,
        );
        throw e;
      }
      if (res.status === 200 || res.status === 206) return { i, res };
      void res.body?.cancel();
      if (res.status === 404) notFound++;
      if (res.status === 406) tooLarge++;
      // The range asked for is past the file's end: what we have is not a start of it; start over next round.
      if (res.status === 416) ftruncateSync0(partial);
      failures.push(`${base.replace(/\/buildid$/, '')}: HTTP ${res.status}${res.status === 404 ? ' (not found)' : ''}`);
      throw new Error(`HTTP ${res.status}`);
    });
    let won: Won;
    try {
      won = await Promise.any(asks);
    } catch {
      if (why === 'interrupted') return { kind: 'interrupted', message: 'interrupted' };
      if (notFound === cfg.urls.length)
        return { kind: 'not-found', message: `no server has ${kind} ${id} (${failures.join('; ')})` };
      if (tooLarge > 0 && tooLarge + notFound === cfg.urls.length)
        return { kind: 'too-large', message: `${kind} ${id} is larger than DEBUGINFOD_MAXSIZE = ${cfg.maxSize}` };
      return { kind: why === 'timeout' ? 'timeout' : 'failed', message: failures.join('; ') };
    }
    // The first server with the file: the others stop.
    controllers.forEach((c, i) => {
      if (i !== won.i) c.abort();
    });
    const base = cfg.urls[won.i]!.replace(/\/buildid$/, '');
    const res = won.res;
    let offset = 0;
    let total: number | undefined;
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    const xsize = Number(res.headers.get('x-debuginfod-size') ?? Number.NaN);
    if (res.status === 206) {
      const r = contentRange(res.headers.get('content-range'));
      if (!r || r.start !== have) {
        void res.body?.cancel();
        // A range we did not ask for: start again from the beginning next round.
        ftruncateSync0(partial);
        return {
          kind: 'failed',
          message: `${base}: a partial answer for the wrong range (${res.headers.get('content-range')})`,
        };
      }
      offset = have;
      total = r.total ?? (Number.isFinite(length) ? have + length : undefined);
    } else {
      total = Number.isFinite(length) ? length : Number.isFinite(xsize) ? xsize : undefined;
    }
    if (cfg.maxSize > 0 && total !== undefined && total > cfg.maxSize) {
      controllers[won.i]!.abort();
      return {
        kind: 'too-large',
        message: `${base}: ${kind} ${id} is ${total} bytes, more than DEBUGINFOD_MAXSIZE = ${cfg.maxSize}`,
      };
    }
    verbose(`${base}: HTTP ${res.status}, ${total ?? 'unknown'} bytes${offset ? `, resuming at ${offset}` : ''}`);
    const fd = openSync(partial, offset > 0 ? 'r+' : 'w', 0o600);
    try {
      if (offset === 0) ftruncateSync(fd, 0);
      let pos = offset;
      const bodyStart = performance.now();
      const progress = (): void =>
        opts.onProgress?.({ url: base, received: pos, total, resumedFrom: offset, startMs: bodyStart });
      progress();
      try {
        if (res.body) {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            let o = 0;
            while (o < chunk.length) o += writeSync(fd, chunk, o, chunk.length - o, pos + o);
            pos += chunk.length;
            received += chunk.length;
            count(chunk.length);
            progress();
          }
        }
      } catch (e) {
        fsyncSync(fd);
        if (why === 'interrupted') return { kind: 'interrupted', message: `interrupted at ${pos} bytes`, url: base };
        const w =
          why === 'timeout'
            ? `less than 100 KiB in ${cfg.timeoutS} s (DEBUGINFOD_TIMEOUT)`
            : why === 'maxtime'
              ? `not done in ${cfg.maxTimeS} s (DEBUGINFOD_MAXTIME)`
              : errorText(e);
        return {
          kind: why === 'timeout' ? 'timeout' : 'failed',
          message: `${base}: ${w} after ${pos} of ${total ?? '?'} bytes`,
          url: base,
        };
      }
      fsyncSync(fd);
      const size = fstatSync(fd).size;
      if (total !== undefined && size !== total) {
        return { kind: 'failed', message: `${base}: the answer ended at ${size} of ${total} bytes`, url: base };
      }
      return {
        kind: 'done',
        message: 'done',
        url: base,
        lastModified: res.headers.get('last-modified') ?? undefined,
        offset,
      };
    } finally {
      closeSync(fd);
    }
  } finally {
    clearInterval(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const c of controllers) c.abort();
  }
}

/**
 * A file:// server (elfutils allows them: a directory laid out as buildid/ID/debuginfo): the file as a 200
 * answer, or a 404 when it is not there.
 */
function fileResponse(url: string): Response {
  const path = fileURLToPath(url);
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    return new Response(null, { status: 404 });
  }
  const body = Readable.toWeb(createReadStream(path)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: { 'content-length': String(size) } });
}

function ftruncateSync0(path: string): void {
  try {
    const fd = openSync(path, 'r+');
    try {
      ftruncateSync(fd, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    // no partial file
  }
}
