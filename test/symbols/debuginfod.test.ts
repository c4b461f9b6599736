/**
 * The debuginfod client (symbols/debuginfod.ts) against small local servers and synthetic ELF files: elfutils'
 * environment and cache layout, misses remembered for cache_miss_s, cache cleaning, resuming a broken download
 * with a Range request (or starting over when the server ignores it), several servers, size limits, the lock,
 * and the check of what arrived. The real server (elfutils' debuginfod on a sample's -dbg package) is in
 * test/cli/debuginfod.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { progressLine, vmlinuxMismatch } from '../../cli/debuginfod.js';
import {
  cleanDebuginfodCache,
  type DebuginfodConfig,
  debuginfodCacheDir,
  debuginfodConfig,
  fetchByBuildId,
} from '../../symbols/debuginfod.js';
import { closedPort, localServer, sendFile } from '../lib/debuginfod.js';
import { buildElf, SHF, SHT } from '../lib/synth-elf.js';

const root = mkdtempSync(join(tmpdir(), 'tscrash-debuginfod-synth-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshCache = (): string => join(root, `cache-${n++}`);

const ID = '0123456789abcdef0123456789abcdef01234567';
const OTHER = 'fedcba9876543210fedcba9876543210fedcba98';
/** A vmlinux-like ELF executable of this build-id, 400 KB (more than the 100 KiB the low-speed rule counts). */
function elf(buildId: string): Uint8Array {
  return buildElf({
    type: 2,
    buildId,
    sections: [{ name: '.data', type: SHT.PROGBITS, flags: SHF.ALLOC, data: randomBytes(400_000) }],
  }).bytes;
}
const FILE = elf(ID);

function config(urls: string[], cacheDir: string, over: Partial<DebuginfodConfig> = {}): DebuginfodConfig {
  const c = debuginfodConfig({ DEBUGINFOD_URLS: urls.join(' '), DEBUGINFOD_CACHE_PATH: cacheDir });
  assert.ok(c);
  return { ...c, ...over };
}

const check = (p: string): string | undefined => vmlinuxMismatch(p, ID);

describe('debuginfod client', () => {
  test("the environment as elfutils reads it: URLs (slashes, duplicates), cache directory's order", () => {
    assert.equal(debuginfodConfig({}), undefined);
    assert.equal(debuginfodConfig({ DEBUGINFOD_URLS: '  ' }), undefined);
    const c = debuginfodConfig({
      DEBUGINFOD_URLS: 'http://a:1/ http://b:2  http://a:1 https://c/x',
      DEBUGINFOD_CACHE_PATH: '/cache',
      DEBUGINFOD_TIMEOUT: '7',
      DEBUGINFOD_PROGRESS: '1',
    });
    assert.deepEqual(c?.urls, ['http://a:1/buildid', 'http://b:2/buildid', 'https://c/x/buildid']);
    assert.equal(c?.cacheDir, '/cache');
    assert.equal(c?.timeoutS, 7);
    assert.equal(c?.retryLimit, 2);
    assert.equal(c?.progress, true);
    const home = join(root, 'home');
    mkdirSync(home, { recursive: true });
    assert.equal(debuginfodCacheDir({ HOME: home }), join(home, '.cache', 'debuginfod_client'));
    assert.equal(debuginfodCacheDir({ HOME: home, XDG_CACHE_HOME: '/xdg' }), '/xdg/debuginfod_client');
    // An old-style cache in $HOME wins over the XDG one, as in elfutils.
    mkdirSync(join(home, '.debuginfod_client_cache'));
    assert.equal(debuginfodCacheDir({ HOME: home, XDG_CACHE_HOME: '/xdg' }), join(home, '.debuginfod_client_cache'));
    assert.equal(debuginfodCacheDir({ HOME: home, DEBUGINFOD_CACHE_PATH: '/own' }), '/own');
    const hf = join(root, 'headers');
    writeFileSync(hf, 'Authorization: Bearer x\nnot a header\n\nX-Extra: 1:2\n');
    assert.deepEqual(debuginfodConfig({ DEBUGINFOD_URLS: 'http://a', DEBUGINFOD_HEADERS_FILE: hf })?.headers, [
      ['Authorization', 'Bearer x'],
      ['X-Extra', '1:2'],
    ]);
  });

  test('a file is fetched to CACHE/BUILDID/debuginfo (0600), checked, then taken from the cache', async () => {
    const s = await localServer((req, res) => sendFile(req, res, FILE));
    try {
      const cache = freshCache();
      const seen: number[] = [];
      const r = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', {
        check,
        onProgress: (p) => seen.push(p.received),
      });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.path, join(cache, ID, 'debuginfo'));
      assert.equal(r.cached, false);
      assert.equal(r.bytes, FILE.length);
      assert.deepEqual(new Uint8Array(readFileSync(r.path)), FILE);
      assert.equal(statSync(r.path).mode & 0o777, 0o600);
      // The server's Last-Modified is the file's mtime, as elfutils sets it.
      assert.equal(statSync(r.path).mtimeMs, 1_700_000_000_000);
      assert.equal(seen.at(-1), FILE.length);
      assert.equal(s.requests[0]?.path, `/buildid/${ID}/debuginfo`);
      assert.deepEqual(
        existsSync(join(cache, ID, 'debuginfo.tscrash-partial')) ||
          existsSync(join(cache, ID, 'debuginfo.tscrash-partial.lock')),
        false,
      );
      const again = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(again.ok && again.cached);
      assert.equal(s.requests.length, 1);
    } finally {
      await s.close();
    }
  });

  test('a wrong file (another build-id, not ELF) is discarded with the reason; a wrong cached file is replaced', async () => {
    const wrong = elf(OTHER);
    let body: Uint8Array = wrong;
    const s = await localServer((req, res) => sendFile(req, res, body));
    try {
      const cache = freshCache();
      const r = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.equal(r.ok, false);
      assert.ok(!r.ok);
      assert.equal(r.reason, 'wrong-file');
      assert.match(
        r.message,
        new RegExp(`is not the file asked for: its build-id is ${OTHER}, the dump's kernel has ${ID}; discarded`),
      );
      assert.equal(existsSync(join(cache, ID)), false);
      body = new TextEncoder().encode('<html>a proxy error page</html>');
      const html = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(!html.ok);
      assert.match(html.message, /not an ELF file; discarded/);
      // A cached file of the wrong build-id is not used: it is fetched again.
      mkdirSync(join(cache, ID), { recursive: true });
      writeFileSync(join(cache, ID, 'debuginfo'), wrong);
      body = FILE;
      const fixed = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(fixed.ok && !fixed.cached);
      assert.deepEqual(new Uint8Array(readFileSync(fixed.path)), FILE);
    } finally {
      await s.close();
    }
  });

  test('a miss is an empty file, not asked again for cache_miss_s; after that it is asked again', async () => {
    const s = await localServer((_req, res) => {
      res.writeHead(404);
      res.end('not found');
    });
    try {
      const cache = freshCache();
      const r = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(!r.ok);
      assert.equal(r.reason, 'not-found');
      assert.match(r.message, /HTTP 404 \(not found\)/);
      assert.equal(statSync(join(cache, ID, 'debuginfo')).size, 0);
      const cachedMiss = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(!cachedMiss.ok);
      assert.match(cachedMiss.message, /a miss in .*cache_miss_s = 600 s/);
      assert.equal(s.requests.length, 1);
      // An old miss: asked again.
      const old = Date.now() / 1000 - 601;
      utimesSync(join(cache, ID, 'debuginfo'), old, old);
      await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.equal(s.requests.length, 2);
      // cache_miss_s as the cache's file says.
      writeFileSync(join(cache, 'cache_miss_s'), '0');
      utimesSync(join(cache, ID, 'debuginfo'), Date.now() / 1000 - 2, Date.now() / 1000 - 2);
      await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.equal(s.requests.length, 3);
    } finally {
      await s.close();
    }
  });

  test('a download that breaks off resumes with a Range request (206); a server that ignores it starts over', async () => {
    for (const ranges of [true, false]) {
      let first = true;
      const s = await localServer((req, res) => {
        if (first) {
          first = false;
          // Half the file, then the connection drops.
          res.writeHead(200, { 'content-length': FILE.length });
          res.write(FILE.subarray(0, 200_000), () => res.socket?.destroy());
          return;
        }
        sendFile(req, res, FILE, ranges);
      });
      try {
        const cache = freshCache();
        const r = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
        assert.ok(r.ok, JSON.stringify(r));
        assert.deepEqual(new Uint8Array(readFileSync(r.path)), FILE);
        assert.equal(s.requests.length, 2);
        assert.equal(s.requests[1]?.headers.range, 'bytes=200000-');
        assert.equal(r.resumedFrom, ranges ? 200_000 : 0);
        assert.equal(r.bytes, ranges ? FILE.length : FILE.length + 200_000);
      } finally {
        await s.close();
      }
    }
  });

  test('what a failed run left is resumed by the next run; an interrupted download keeps its part', async () => {
    const cache = freshCache();
    const down = await closedPort();
    let stall = true;
    const s = await localServer((req, res) => {
      if (stall) {
        res.writeHead(200, { 'content-length': FILE.length });
        res.write(FILE.subarray(0, 150_000)); // and nothing more
        return;
      }
      sendFile(req, res, FILE);
    });
    try {
      const ac = new AbortController();
      const p = fetchByBuildId(config([s.url], cache), ID, 'debuginfo', {
        check,
        signal: ac.signal,
        onProgress: (x) => {
          if (x.received >= 150_000) ac.abort();
        },
      });
      const r = await p;
      assert.ok(!r.ok);
      assert.equal(r.reason, 'interrupted');
      const part = join(cache, ID, 'debuginfo.tscrash-partial');
      assert.equal(statSync(part).size, 150_000);
      assert.equal(statSync(part).mode & 0o777, 0o600);
      assert.equal(existsSync(`${part}.lock`), false);
      // A server that is down: the part stays.
      const none = await fetchByBuildId(
        config([`http://127.0.0.1:${down}`], cache, { retryLimit: 0 }),
        ID,
        'debuginfo',
        {
          check,
        },
      );
      assert.ok(!none.ok);
      assert.match(none.message, /connection refused \(150000 bytes kept in .*, resumed next time\)/);
      stall = false;
      const done = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(done.ok);
      assert.equal(done.resumedFrom, 150_000);
      assert.equal(s.requests.at(-1)?.headers.range, 'bytes=150000-');
      assert.deepEqual(new Uint8Array(readFileSync(done.path)), FILE);
      assert.equal(existsSync(part), false);
    } finally {
      await s.close();
    }
  });

  test('a file:// server (a directory in the buildid/ID/debuginfo layout), as elfutils allows', async () => {
    const dir = join(root, 'file-server');
    mkdirSync(join(dir, 'buildid', ID), { recursive: true });
    writeFileSync(join(dir, 'buildid', ID, 'debuginfo'), FILE);
    const cache = freshCache();
    const r = await fetchByBuildId(config([`file://${dir}`], cache), ID, 'debuginfo', { check });
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(new Uint8Array(readFileSync(r.path)), FILE);
    const none = await fetchByBuildId(config([`file://${dir}`], cache), OTHER, 'debuginfo', { check });
    assert.ok(!none.ok);
    assert.equal(none.reason, 'not-found');
  });

  test('a part the server will not continue (416: it is already the whole file, or more) is fetched again', async () => {
    const s = await localServer((req, res) => {
      if (req.headers.range) {
        res.writeHead(416, { 'content-range': `bytes */${FILE.length}` });
        res.end();
        return;
      }
      sendFile(req, res, FILE);
    });
    try {
      const cache = freshCache();
      mkdirSync(join(cache, ID), { recursive: true });
      writeFileSync(join(cache, ID, 'debuginfo.tscrash-partial'), FILE);
      const r = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(
        s.requests.map((x) => x.headers.range),
        [`bytes=${FILE.length}-`, undefined],
      );
      assert.deepEqual(new Uint8Array(readFileSync(r.path)), FILE);
    } finally {
      await s.close();
    }
  });

  test('DEBUGINFOD_TIMEOUT: a server that never answers, or stalls mid-file, is given up with the reason', async () => {
    const silent = await localServer(() => {
      // accepts, never answers
    });
    const stalls = await localServer((_req, res) => {
      res.writeHead(200, { 'content-length': FILE.length });
      res.write(FILE.subarray(0, 1000));
    });
    try {
      const t0 = performance.now();
      const r = await fetchByBuildId(
        config([silent.url], freshCache(), { timeoutS: 1, retryLimit: 1 }),
        ID,
        'debuginfo',
        {
          check,
        },
      );
      const secs = (performance.now() - t0) / 1000;
      assert.ok(!r.ok);
      assert.match(r.message, /no answer in 1 s \(DEBUGINFOD_TIMEOUT\)/);
      assert.equal(silent.requests.length, 2); // the retry
      assert.ok(secs >= 2 && secs < 6, `${secs} s`);
      const m = await fetchByBuildId(
        config([stalls.url], freshCache(), { timeoutS: 1, retryLimit: 0 }),
        ID,
        'debuginfo',
        {
          check,
        },
      );
      assert.ok(!m.ok);
      assert.match(
        m.message,
        /less than 100 KiB in 1 s \(DEBUGINFOD_TIMEOUT\) after 1000 of 400\d+ bytes \(1000 bytes kept/,
      );
    } finally {
      await silent.close();
      await stalls.close();
    }
  });

  test('several servers: asked at once, the one with the file wins; DEBUGINFOD_MAXSIZE refuses a larger file', async () => {
    const missing = await localServer((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const has = await localServer((req, res) => sendFile(req, res, FILE));
    const down = await closedPort();
    try {
      const cache = freshCache();
      const r = await fetchByBuildId(
        config([`http://127.0.0.1:${down}`, missing.url, has.url], cache),
        ID,
        'debuginfo',
        { check },
      );
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.url, has.url);
      const big = await fetchByBuildId(config([has.url], freshCache(), { maxSize: 1000 }), ID, 'debuginfo', { check });
      assert.ok(!big.ok);
      assert.equal(big.reason, 'too-large');
      assert.equal(has.requests.at(-1)?.headers['x-debuginfod-maxsize'], '1000');
    } finally {
      await missing.close();
      await has.close();
    }
  });

  test('one download at a time: a live holder of the lock is named; a stale lock is taken over', async () => {
    const s = await localServer((req, res) => sendFile(req, res, FILE));
    const sleeper = spawn('sleep', ['30']);
    try {
      const cache = freshCache();
      mkdirSync(join(cache, ID), { recursive: true });
      const lock = join(cache, ID, 'debuginfo.tscrash-partial.lock');
      writeFileSync(lock, String(sleeper.pid));
      const busy = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(!busy.ok);
      assert.match(busy.message, new RegExp(`another tscrash \\(pid ${sleeper.pid}\\) is downloading`));
      sleeper.kill();
      await new Promise((r) => sleeper.once('exit', r));
      const ok = await fetchByBuildId(config([s.url], cache), ID, 'debuginfo', { check });
      assert.ok(ok.ok, JSON.stringify(ok));
      assert.equal(existsSync(lock), false);
    } finally {
      sleeper.kill();
      await s.close();
    }
  });

  test('cleaning as elfutils: every cache_clean_interval_s, files unused for max_unused_age_s go', () => {
    const cache = freshCache();
    mkdirSync(join(cache, ID), { recursive: true });
    mkdirSync(join(cache, OTHER), { recursive: true });
    writeFileSync(join(cache, ID, 'debuginfo'), 'old');
    writeFileSync(join(cache, OTHER, 'debuginfo'), 'recent');
    writeFileSync(join(cache, OTHER, 'debuginfo.tscrash-partial'), 'old part');
    writeFileSync(join(cache, 'unrelated'), 'kept');
    const now = Date.now();
    const day = 86400;
    const ago = (s: number): number => now / 1000 - s;
    // First call: the interval file is made (now), nothing cleaned.
    assert.equal(cleanDebuginfodCache(cache, now), 0);
    assert.equal(readFileSync(join(cache, 'cache_clean_interval_s'), 'latin1'), '86400');
    utimesSync(join(cache, 'cache_clean_interval_s'), ago(day + 1), ago(day + 1));
    utimesSync(join(cache, ID, 'debuginfo'), ago(8 * day), ago(8 * day));
    utimesSync(join(cache, OTHER, 'debuginfo.tscrash-partial'), ago(8 * day), ago(8 * day));
    utimesSync(join(cache, 'unrelated'), ago(8 * day), ago(8 * day));
    utimesSync(join(cache, ID), ago(8 * day), ago(8 * day));
    assert.equal(cleanDebuginfodCache(cache, now), 2);
    assert.equal(readFileSync(join(cache, 'max_unused_age_s'), 'latin1'), '604800');
    assert.equal(existsSync(join(cache, ID)), false); // the old directory, emptied, goes too
    assert.equal(readFileSync(join(cache, OTHER, 'debuginfo'), 'latin1'), 'recent');
    assert.equal(existsSync(join(cache, 'unrelated')), true);
    // Not again before the interval.
    writeFileSync(join(cache, OTHER, 'debuginfo.tscrash-partial'), 'x');
    utimesSync(join(cache, OTHER, 'debuginfo.tscrash-partial'), ago(8 * day), ago(8 * day));
    assert.equal(cleanDebuginfodCache(cache, now), 0);
  });

  test('the progress bar: fraction, sizes, rate, time left', () => {
    const MiB = 1024 * 1024;
    const line = progressLine(
      { url: 'u', received: 300 * MiB, total: 600 * MiB, resumedFrom: 100 * MiB, startMs: 0 },
      10_000,
      10,
    );
    assert.equal(line, '[#####.....]  50%  300.0/600.0 MiB  20.0 MiB/s  15 s left');
    assert.equal(
      progressLine({ url: 'u', received: 5 * MiB, total: undefined, resumedFrom: 0, startMs: 0 }, 1000),
      '5.0 MiB  5.0 MiB/s',
    );
  });
});
