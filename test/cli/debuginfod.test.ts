/**
 * `tscrash VMCORE` with DEBUGINFOD_URLS and no vmlinux at hand, against a real server: elfutils' debuginfod
 * (Debian's package) on 127.0.0.1 indexing the samples' -dbg .debs. The vmlinux comes by the dump's build-id
 * into an empty DEBUGINFOD_CACHE_PATH, laid out so that elfutils' own client (debuginfod-find) finds it there;
 * the session then equals the one given the local vmlinux. A server that is down, stalls or sends the wrong file
 * gives one line and the session goes on from the dump's kallsyms. On a terminal: the progress bar, and Ctrl-C
 * going on without the vmlinux.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { listModules, moduleBuildId } from '../../helpers/modules.js';
import { Program } from '../../program/index.js';
import { elfIdentity } from '../../symbols/build-id.js';
import { closedPort, type Debuginfod, type LocalServer, localServer, startDebuginfod } from '../lib/debuginfod.js';
import { moduleDebugRoot } from '../lib/module-debug.js';
import { loadSample, type Manifest, oracleText, SAMPLE_NAMES, samplesDir } from '../lib/samples.js';
import { run, runOk } from '../lib/session.js';
import { buildElf } from '../lib/synth-elf.js';
import { Tmux } from '../lib/tmux.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tscrash');
const tmp = mkdtempSync(join(tmpdir(), 'tscrash-debuginfod-cli-'));

/** The -dbg package samples/debian.ts downloaded for this sample's kernel. */
function dbgDeb(m: Manifest): string {
  const dir = join(samplesDir(), 'debs');
  const f = existsSync(dir)
    ? readdirSync(dir).find((x) => x.startsWith(`linux-image-${m.release}-dbg_`) && x.endsWith('.deb'))
    : undefined;
  if (!f) throw new Error(`no linux-image-${m.release}-dbg .deb in ${dir} (npm run samples downloads it)`);
  return join(dir, f);
}

let server: Promise<Debuginfod> | undefined;
/** One debuginfod for the file, indexing the -dbg packages of every sample there is. */
function debuginfod(): Promise<Debuginfod> {
  if (!spawnSync('debuginfod', ['--version']).stdout) {
    throw new Error("no debuginfod on PATH: install Debian's debuginfod package (samples/debian.ts does)");
  }
  server ??= (async () => {
    const debs = new Set<string>();
    for (const name of SAMPLE_NAMES) {
      if (!existsSync(join(samplesDir(), name, 'manifest.json'))) continue;
      const m = JSON.parse((await import('node:fs')).readFileSync(join(samplesDir(), name, 'manifest.json'), 'utf8'));
      debs.add(dbgDeb(m as Manifest));
    }
    return startDebuginfod([...debs]);
  })();
  return server;
}
after(async () => {
  if (server) await (await server).close();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A proxy in front of elfutils' debuginfod that holds the file after its first MiB until `release()`: what a
 * session does meanwhile demonstrably happens while the download is on its way.
 */
async function gatedProxy(upstreamUrl: string): Promise<{ proxy: LocalServer; release: () => void }> {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const upstream = new URL(upstreamUrl);
  const proxy = await localServer((req, res) => {
    const { host: _h, ...headers } = req.headers;
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
      (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        let sent = 0;
        let open = false;
        void gate.then(() => {
          open = true;
          u.resume();
        });
        u.on('data', (c: Buffer) => {
          res.write(c);
          sent += c.length;
          if (!open && sent >= 1 << 20) u.pause();
        });
        u.on('end', () => res.end());
      },
    );
    up.on('error', () => res.destroy());
    up.end();
  });
  return { proxy, release };
}

/** A run's debuginfod variables, for a terminal's environment. */
function vars(x: NodeJS.ProcessEnv): Record<string, string> {
  return {
    DEBUGINFOD_URLS: x.DEBUGINFOD_URLS!,
    DEBUGINFOD_CACHE_PATH: x.DEBUGINFOD_CACHE_PATH!,
    TSCRASH_DEBUG_ROOT: x.TSCRASH_DEBUG_ROOT!,
  };
}

let n = 0;
/** The environment of a run: these servers, an empty cache of its own, no local debug tree, no forced bar. */
function env(urls: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DEBUGINFOD_PROGRESS: _p, DEBUGINFOD_VERBOSE: _v, ...rest } = process.env;
  return {
    ...rest,
    DEBUGINFOD_URLS: urls,
    DEBUGINFOD_CACHE_PATH: join(tmp, `cache-${n++}`),
    TSCRASH_DEBUG_ROOT: join(tmp, 'no-debug-root'),
    ...extra,
  };
}

/** Run bin/tscrash without blocking this process (the local servers of a test answer from its event loop). */
function tscrash(
  args: string[],
  e: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(BIN, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('latin1').on('data', (s: string) => (stdout += s));
    c.stderr.setEncoding('latin1').on('data', (s: string) => (stderr += s));
    c.on('error', reject);
    c.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - t0 }));
  });
}

function debuginfodLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('debuginfod: '));
}

describe('the vmlinux from debuginfod', () => {
  for (const name of SAMPLE_NAMES) {
    test(`${name}: found by the dump's build-id on elfutils' debuginfod, the session equals the local vmlinux's`, async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const srv = await debuginfod();
      const dump = m.files['kdump-c-d31']!.path;
      const e = env(srv.url);
      const cmds = ['-c', 'whatis struct task_struct', '-c', 'sym jiffies'];
      const r = await tscrash([dump, ...cmds], e);
      assert.equal(r.status, 0, r.stderr);
      const local = await tscrash([m.vmlinux, dump, ...cmds], env(''));
      assert.equal(r.stdout, local.stdout);
      assert.ok(r.stdout.startsWith(oracleText(m, 'crash-whatis-task_struct')));
      const cached = join(e.DEBUGINFOD_CACHE_PATH!, m.buildId, 'debuginfo');
      const lines = debuginfodLines(r.stderr);
      assert.equal(lines.length, 2, r.stderr);
      assert.match(
        lines[0]!,
        new RegExp(`^debuginfod: fetching the vmlinux of ${m.buildId} from ${srv.url} \\(\\d+\\.\\d MiB\\)$`),
      );
      assert.match(
        lines[1]!,
        new RegExp(`^debuginfod: got the vmlinux \\(\\d+\\.\\d MiB in \\d+\\.\\d s\\): ${cached}$`),
      );
      // The file: the vmlinux of that build-id, 0600, nothing else left beside it.
      assert.equal(statSync(cached).size, statSync(m.vmlinux).size);
      assert.equal(statSync(cached).mode & 0o777, 0o600);
      assert.equal(elfIdentity(cached)?.buildId, m.buildId);
      assert.deepEqual(readdirSync(join(e.DEBUGINFOD_CACHE_PATH!, m.buildId)), ['debuginfo']);
      // elfutils' own client finds it in the cache, with no server to ask.
      const down = `http://127.0.0.1:${await closedPort()}`;
      const find = spawnSync('debuginfod-find', ['debuginfo', m.buildId], {
        encoding: 'utf8',
        env: { ...e, DEBUGINFOD_URLS: down },
      });
      assert.equal(find.stdout.trim(), cached, find.stderr);
      // The next session takes it from the cache: no download, the server may be down.
      const again = await tscrash([dump, ...cmds], { ...e, DEBUGINFOD_URLS: down });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout, local.stdout);
      assert.deepEqual(debuginfodLines(again.stderr), []);
      // tscrash run (drgn's script mode) takes it the same way: the script's Program has the cached vmlinux.
      const script = join(tmp, `vmlinux-${name}.ts`);
      writeFileSync(
        script,
        "export default (prog) => { process.stdout.write(prog.vmlinux + ' ' + prog.type('struct task_struct').size + '\\n'); };\n",
      );
      const ran = await tscrash(['run', script, dump], { ...e, DEBUGINFOD_URLS: down });
      assert.equal(ran.status, 0, ran.stderr);
      assert.equal(ran.stdout, `${cached} ${/^SIZE: (\d+)$/m.exec(local.stdout)![1]}\n`);
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    });
  }

  test("mod -s without a local file: the module's object by its build-id from debuginfod, as the local one", async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const root = moduleDebugRoot(m, t);
    if (!root) return;
    const srv = await debuginfod();
    const nvme = join(root, 'lib', 'modules', m.release, 'kernel', 'drivers', 'nvme', 'host', 'nvme.ko');
    const cmds = ['struct nvme_dev', 'sym nvme_probe', 'whatis nvme_irq'];
    const local = await Program.load({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
    const prog = await Program.load({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
    const keys = ['DEBUGINFOD_URLS', 'DEBUGINFOD_CACHE_PATH', 'TSCRASH_DEBUG_ROOT'] as const;
    const saved = keys.map((k) => process.env[k]);
    const e = env(srv.url);
    try {
      for (const k of keys) process.env[k] = e[k];
      await runOk(local, `mod -s nvme ${nvme}`);
      const got = await runOk(prog, 'mod -s nvme');
      const id = elfIdentity(nvme)!.buildId!;
      const cached = join(e.DEBUGINFOD_CACHE_PATH!, id, 'debuginfo');
      assert.match(got, new RegExp(`^.*nvme .* ${cached.replace(/[.]/g, '\\.')} \n$`, 'm'));
      assert.equal(statSync(cached).mode & 0o777, 0o600);
      for (const c of cmds) assert.equal(await runOk(prog, c), await runOk(local, c), c);
      // A module the server does not have (the build-id of none): the reason joins mod's message.
      process.env.DEBUGINFOD_URLS = `http://127.0.0.1:${await closedPort()}`;
      assert.match(
        await run(prog, 'mod -s nvme_core'),
        /cannot find an object file with debug info for module nvme_core \(.*; debuginfod: http:\/\/127\.0\.0\.1:\d+: connection refused\)/,
      );
    } finally {
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      });
      local.close();
      prog.close();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
  });

  test('mod -s: Ctrl-C during the download ends the command with (interrupted), the partial file kept, the session going on', async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const prog = await Program.load({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
    // A server that sends the first 300 kB of a large file, then nothing (it never ends by itself).
    const slow = await localServer((_req, res) => {
      res.writeHead(200, { 'content-length': 200 * 1024 * 1024 });
      res.write(Buffer.alloc(300_000));
    });
    const keys = ['DEBUGINFOD_URLS', 'DEBUGINFOD_CACHE_PATH', 'TSCRASH_DEBUG_ROOT'] as const;
    const saved = keys.map((k) => process.env[k]);
    const e = env(slow.url);
    try {
      for (const k of keys) process.env[k] = e[k];
      const info = listModules(prog).find((x) => x.name === 'nvme')!;
      const id = moduleBuildId(prog, info)!;
      const part = join(e.DEBUGINFOD_CACHE_PATH!, id, 'debuginfo.tscrash-partial');
      registerBuiltins();
      let stop = false;
      let out = '';
      const t0 = performance.now();
      const done = runLine(prog, 'mod -s nvme', (s) => (out += s), { interrupted: () => stop });
      // Ctrl-C once the download is under way (its first bytes are in the partial file).
      while (!(existsSync(part) && statSync(part).size === 300_000)) {
        assert.ok(performance.now() - t0 < 30_000, 'the download never started');
        await new Promise((r) => setTimeout(r, 20));
      }
      stop = true;
      const r = await done;
      assert.deepEqual(r, { ok: false, interrupted: true });
      assert.equal(out, '(interrupted)\n');
      // What came is kept for the next attempt to resume; no lock, no file under the real name.
      assert.deepEqual(readdirSync(join(e.DEBUGINFOD_CACHE_PATH!, id)), ['debuginfo.tscrash-partial']);
      assert.equal(statSync(part).size, 300_000);
      // The session goes on: the next command runs, and mod -s asks again (resuming from byte 300000).
      assert.equal(await runOk(prog, 'sym jiffies'), await runOk(prog, 'sym jiffies'));
      stop = false;
      const again = runLine(prog, 'mod -s nvme', () => undefined, { interrupted: () => stop });
      while (slow.requests.length < 2) await new Promise((r) => setTimeout(r, 20));
      assert.equal(slow.requests[1]!.headers.range, 'bytes=300000-');
      stop = true;
      assert.deepEqual(await again, { ok: false, interrupted: true });
    } finally {
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      });
      prog.close();
      await slow.close();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
  });

  test('a server that is down, stalls, or sends the wrong file: one line, and the session goes on with kallsyms', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const other = '00112233445566778899aabbccddeeff00112233';
    const wrong = buildElf({ type: 2, buildId: other }).bytes;
    const stalls = await localServer(() => {
      // accepts, never answers
    });
    const liar = await localServer((_req, res) => {
      res.writeHead(200, { 'content-length': wrong.length });
      res.end(wrong);
    });
    const down = `http://127.0.0.1:${await closedPort()}`;
    try {
      const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
        [
          'down',
          env(down),
          /^debuginfod: no vmlinux: http:\/\/127\.0\.0\.1:\d+: connection refused; going on without it$/,
        ],
        [
          'stalls',
          env(stalls.url, { DEBUGINFOD_TIMEOUT: '1', DEBUGINFOD_RETRY_LIMIT: '0' }),
          /^debuginfod: no vmlinux: http:\/\/127\.0\.0\.1:\d+: no answer in 1 s \(DEBUGINFOD_TIMEOUT\); going on without it$/,
        ],
        [
          'wrong file',
          env(liar.url),
          new RegExp(
            `^debuginfod: no vmlinux: http://127\\.0\\.0\\.1:\\d+/buildid/${m.buildId}/debuginfo is not the file asked for: its build-id is ${other}, the dump's kernel has ${m.buildId}; discarded; going on without it$`,
          ),
        ],
      ];
      for (const [what, e, message] of cases) {
        const r = await tscrash([dump, '-c', 'sym jiffies'], e);
        assert.equal(r.status, 0, `${what}: ${r.stderr}`);
        const lines = debuginfodLines(r.stderr);
        assert.ok(
          lines.some((l) => message.test(l)),
          `${what}: ${r.stderr}`,
        );
        assert.equal(lines.filter((l) => l.includes('going on without it')).length, 1, `${what}: ${r.stderr}`);
        // No vmlinux: the symbol from the dump's kallsyms, as crash prints it.
        assert.equal(r.stdout, oracleText(m, 'crash-sym-jiffies'), what);
        assert.ok(r.ms < 20_000, `${what}: ${r.ms} ms`);
        // Nothing wrong is left in the cache.
        const dir = join(e.DEBUGINFOD_CACHE_PATH!, m.buildId);
        assert.ok(!existsSync(join(dir, 'debuginfo')) || statSync(join(dir, 'debuginfo')).size === 0, what);
      }
    } finally {
      await stalls.close();
      await liar.close();
    }
  });

  test('a script on a terminal waits for it: the progress bar with size and rate; Ctrl-C goes on without it', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const srv = await debuginfod();
    const dump = m.files['kdump-c-d31']!.path;
    const e = env(srv.url);
    const cmd = `'${BIN}' '${dump}' -c 'whatis struct task_struct | tail -1'; echo SESSION-ENDED; sleep 60`;
    const term = new Tmux(cmd, 160, 40, vars(e));
    try {
      const s = await term.waitFor(/^SESSION-ENDED$/m, 120_000);
      assert.match(
        s,
        new RegExp(
          `^debuginfod: vmlinux from ${srv.url} \\[#{24}\\] 100%  (\\d+\\.\\d)/\\1 MiB  \\d+\\.\\d MiB/s\\s*$`,
          'm',
        ),
      );
      assert.match(s, /^debuginfod: got the vmlinux/m);
      assert.match(s, /^SIZE: \d+$/m);
    } finally {
      term.kill();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
    // A server that sends a little, then nothing: the bar stays at 0 %; Ctrl-C runs the script without it.
    const slow = await localServer((_req, res) => {
      res.writeHead(200, { 'content-length': 500 * 1024 * 1024 });
      res.write(Buffer.alloc(300_000));
    });
    const e2 = env(slow.url);
    const term2 = new Tmux(cmd, 160, 40, vars(e2));
    try {
      await term2.waitFor(/\[\.{24}\]\s+0%\s+0\.3\/500\.0 MiB/);
      term2.keys('C-c');
      const s = await term2.waitFor(/^SESSION-ENDED$/m, 30_000);
      assert.match(
        s,
        /^debuginfod: interrupted: going on without the vmlinux \(the partial download is kept and resumes next time\)$/m,
      );
      // Without the vmlinux: the dump's own BTF (the samples' kernels carry it).
      assert.match(s, /^SIZE: \d+$/m);
      const part = join(e2.DEBUGINFOD_CACHE_PATH!, m.buildId, 'debuginfo.tscrash-partial');
      assert.equal(statSync(part).size, 300_000);
    } finally {
      term2.kill();
      await slow.close();
    }
  });

  test('a session at a terminal starts at once on BTF and moves to DWARF between commands when the download ends', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const srv = await debuginfod();
    const dump = m.files['kdump-c-d31']!.path;
    const { proxy, release } = await gatedProxy(srv.url);
    const e = env(proxy.url);
    const out = mkdtempSync(join(tmp, 'switch-'));
    const file = (n: string): string => join(out, n);
    const term = new Tmux(`'${BIN}' --line -s '${dump}'; echo SESSION-ENDED; sleep 60`, 200, 50, vars(e));
    const local = await Program.load({ vmcore: dump, vmlinux: m.vmlinux });
    try {
      // The prompt at once, on the dump's BTF, while the file is held.
      await term.waitFor(/^tscrash>\s*$/m, 60_000);
      const s0 = await term.waitFor(/^debuginfod: fetching the vmlinux of/m, 120_000);
      assert.match(s0, /^types: BTF from the dump \(\d+ types\); symbols: kallsyms/m);
      assert.match(
        s0,
        new RegExp(
          `^debuginfod: fetching the vmlinux of ${m.buildId} from ${proxy.url} \\(\\d+\\.\\d MiB\\); the session is on the dump's BTF until it is\\s*here$`,
          'm',
        ),
      );
      const cached = join(e.DEBUGINFOD_CACHE_PATH!, m.buildId, 'debuginfo');
      const before = ['bt', 'bt -l', 'whatis saved_command_line', 'whatis struct task_struct', 'sym jiffies'];
      const after = ['bt', 'bt -l', 'whatis saved_command_line', 'sys', 'whatis struct task_struct', 'sym jiffies'];
      for (const [i, c] of before.entries()) {
        term.type(`${c} > ${file(`before-${i}`)}`);
        term.keys('Enter');
      }
      // The shell's answer, not the line typed (which a queued line's echo can put anywhere).
      term.type('!echo BEFORE-$((40+2))');
      term.keys('Enter');
      await term.waitFor(/BEFORE-42$/m);
      assert.ok(!existsSync(cached), 'the vmlinux came before the gate opened');
      release();
      await term.waitFor(new RegExp(`^debuginfod: vmlinux ready, types now from DWARF \\(${cached}\\)$`, 'm'), 300_000);
      for (const [i, c] of after.entries()) {
        term.type(`${c} > ${file(`after-${i}`)}`);
        term.keys('Enter');
      }
      term.type('!echo AFTER-$((40+2))');
      term.keys('Enter');
      await term.waitFor(/AFTER-42$/m, 60_000);
      const got = (n: string): string => readFileSync(file(n), 'latin1');
      // Before: from BTF and kallsyms: bt as the vmlinux session prints it but without lines; no type for a
      // global BTF does not describe; whatis and sym as crash prints them.
      const bt = await runOk(local, 'bt');
      assert.equal(got('before-0'), bt);
      assert.equal(got('before-1'), bt);
      assert.equal(got('before-2'), 'saved_command_line: symbol without debug info (type unknown)\n');
      assert.equal(got('before-3'), oracleText(m, 'crash-whatis-task_struct'));
      assert.equal(got('before-4'), oracleText(m, 'crash-sym-jiffies'));
      // After: the vmlinux's DWARF and symbols, as the session given the local vmlinux prints them.
      assert.equal(got('after-0'), bt);
      assert.equal(got('after-1'), await runOk(local, 'bt -l'));
      assert.match(got('after-1'), /^ {4}\S+\/kernel\/panic\.c: \d+$/m);
      assert.equal(got('after-2'), await runOk(local, 'whatis saved_command_line'));
      assert.notEqual(got('after-2'), got('before-2'));
      assert.match(got('after-3'), new RegExp(`^ +KERNEL: ${cached}$`, 'm'));
      assert.equal(got('after-4'), oracleText(m, 'crash-whatis-task_struct'));
      assert.equal(got('after-5'), oracleText(m, 'crash-sym-jiffies'));
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
      local.close();
      await proxy.close();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
  });

  test('the TUI: the download in the status bar while the session runs on BTF, then the line in the output', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const srv = await debuginfod();
    const dump = m.files['kdump-c-d31']!.path;
    const { proxy, release } = await gatedProxy(srv.url);
    const e = env(proxy.url);
    const term = new Tmux(`'${BIN}' '${dump}'; echo SESSION-ENDED; sleep 60`, 200, 40, vars(e));
    try {
      // The bar (10 columns here) with its percentage, size and rate, in the status bar (the last line).
      const bar = /vmlinux \[[#.]{10}\]\s+\d+%\s+\d+\.\d\/\d+\.\d MiB\s+\d+\.\d MiB\/s/;
      await term.waitFor((sc) => bar.test(sc.trimEnd().split('\n').pop() ?? ''), 120_000);
      const cached = join(e.DEBUGINFOD_CACHE_PATH!, m.buildId, 'debuginfo');
      assert.ok(!existsSync(cached));
      release();
      await term.waitFor(new RegExp(`debuginfod: vmlinux ready, types now from DWARF \\(${cached}\\)`), 300_000);
      // The bar is gone from the status bar once the file is here.
      await term.waitFor((sc) => !bar.test(sc));
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
      await proxy.close();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
  });

  test('a session at a terminal whose download fails or is wrong stays on BTF, with one line saying why', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const other = '00112233445566778899aabbccddeeff00112233';
    const wrong = buildElf({ type: 2, buildId: other }).bytes;
    const liar = await localServer((_req, res) => {
      res.writeHead(200, { 'content-length': wrong.length });
      res.end(wrong);
    });
    const e = env(liar.url);
    const term = new Tmux(`'${BIN}' --line -s '${dump}'; echo SESSION-ENDED; sleep 60`, 240, 40, vars(e));
    try {
      const s = await term.waitFor(/^debuginfod: no vmlinux: .*$/m, 60_000);
      assert.match(
        s.replace(/\n(?!debuginfod|tscrash|types)/g, ''),
        new RegExp(
          `^debuginfod: no vmlinux: http://127\\.0\\.0\\.1:\\d+/buildid/${m.buildId}/debuginfo is not the file asked for: its build-id is ${other}, the dump's kernel has ${m.buildId}; discarded; the session stays on the dump's BTF$`,
          'm',
        ),
      );
      term.keys('whatis struct task_struct', 'Enter');
      await term.waitFor(/^SIZE: \d+$/m);
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
      await liar.close();
      rmSync(e.DEBUGINFOD_CACHE_PATH!, { recursive: true, force: true });
    }
  });
});
