/**
 * The package as a user gets it: `npm pack` (prepack builds), then `npm install -g --prefix EMPTY ./tscrash-*.tgz`
 * with no compiler on PATH (node, npm, npx, sh and python3 only: node-gyp stops at `not found: make`, so the
 * native addons zstd-napi and lzo are skipped), then the installed copy on the sysrq sample, against the repo's
 * bin/ and the oracles: --version, info, --dump-dmesg (makedumpfile's), a session's `sys`, a -z dump read with
 * the WebAssembly zstd and written with it, each fallback saying so in one line. Then `npx --package TGZ tscrash`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ORACLE_ENV } from '../../samples/manifest.js';
import { loadSample, type Manifest } from '../lib/samples.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tscrash-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The bundles of scripts/bundle.mjs: the commands, their workers, the package's entry, the shipped plugins. */
const BUNDLE_ENTRIES = [
  'tscrash',
  'tsmakedumpfile',
  'session-worker',
  'triage-worker',
  'name-worker',
  'compress-worker',
  'decode-worker',
  'api',
  'files',
  'irq',
  'lockup',
];
/** The directories whose declarations the public API (dist/plugins/api.d.ts) refers to. */
const TYPE_DIRS = ['commands', 'core', 'helpers', 'plugins', 'program', 'symbols'];
const LZO_NOTE = 'note: the lzo addon is not installed: LZO runs as JavaScript (slower)\n';
const ZSTD_NOTE = 'note: zstd-napi is not installed: zstd runs as WebAssembly (slower)\n';

/** A program's real path on the test's PATH. */
function which(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(d, name);
    if (d && existsSync(p)) return realpathSync(p);
  }
  return undefined;
}

/** A PATH with node, npm, npx, sh and python3 only (no cc, gcc, make). */
function noCompilerPath(): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const tools: [string, string | undefined][] = [
    ['node', process.execPath],
    ['npm', which('npm')],
    ['npx', which('npx')],
    ['sh', '/bin/sh'],
    ['python3', existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined],
  ];
  for (const [name, target] of tools) if (target) symlinkSync(target, join(bin, name));
  return bin;
}

/**
 * The environment of a user's shell: PATH, HOME, the oracles' zone and locale, and the machine's own way to the
 * registry (a proxy, the certificate authorities it is signed by), nothing of npm's.
 */
function userEnv(path: string): NodeJS.ProcessEnv {
  const network = Object.fromEntries(
    Object.entries(process.env).filter(([k]) =>
      /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(https?|no|all)_proxy|(HTTPS?|NO|ALL)_PROXY)$/.test(k),
    ),
  );
  return { PATH: path, HOME: process.env.HOME, TMPDIR: tmpdir(), ...network, ...ORACLE_ENV };
}

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = dir): Run {
  const r = spawnSync(cmd, args, { env, cwd, maxBuffer: 1 << 28, timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
const ok = (r: Run, what: string): Buffer => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}`);
  return r.stdout;
};

/** The repo's bin/ with the test's own environment (the addons as built here). */
const repo = (bin: 'tscrash' | 'tsmakedumpfile', args: string[]): Run =>
  run(process.execPath, [join(ROOT, 'bin', bin), ...args], { ...process.env, ...ORACLE_ENV });

function treeSize(p: string): number {
  const st = lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, e) => n + treeSize(join(p, e)), 0);
}

describe('the npm package, installed with no compiler', { timeout: 240_000 }, () => {
  let m: Manifest | undefined;
  let tgz = '';
  let files: string[] = [];
  let path = '';
  const prefix = join(dir, 'prefix');
  const installed = (bin: 'tscrash' | 'tsmakedumpfile', args: string[]): Run =>
    run(join(prefix, 'bin', bin), args, userEnv(path));

  before(() => {
    path = noCompilerPath();
    const found = run('sh', ['-c', 'command -v cc gcc make c++ clang || true'], userEnv(path));
    assert.equal(found.stdout.toString(), '', 'no compiler or make on the install PATH');
    // Packing is the developer's step: the repo's own environment (prepack runs the compiler).
    const p = spawnSync(which('npm')!, ['pack', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    assert.equal(p.status, 0, p.stderr);
    const [info] = JSON.parse(p.stdout) as { filename: string; files: { path: string }[] }[];
    tgz = join(dir, info!.filename);
    files = info!.files.map((f) => f.path);
  });

  test('npm pack: the compiled JavaScript that runs, bin/, README, LICENSE and nothing else', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'bin/tscrash', 'bin/tsmakedumpfile'])
      assert.ok(files.includes(f), `${f} in the package`);
    const allowed = new RegExp(
      `^(package\\.json|README\\.md|LICENSE|bin/ts(crash|makedumpfile)|dist/bundle/[\\w-]+\\.js|dist/(${TYPE_DIRS.join('|')})/[\\w./-]+\\.d\\.ts)$`,
    );
    for (const f of files) assert.match(f, allowed, `${f}: nothing but what runs`);
    // Each declaration file has its source (no stale output of a removed file).
    for (const f of files.filter((x) => x.endsWith('.d.ts')))
      assert.ok(existsSync(join(ROOT, f.slice(5).replace(/\.d\.ts$/, '.ts'))), `${f} has a source`);
    const sources = (d: string): string[] =>
      readdirSync(join(ROOT, d), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
      );
    // The JavaScript: one bundle per entry point and the chunks they share, each chunk imported by some file.
    for (const e of BUNDLE_ENTRIES)
      assert.ok(files.includes(`dist/bundle/${e}.js`), `the ${e} bundle is in the package`);
    const js = files.filter((f) => f.startsWith('dist/bundle/'));
    const text = js.map((f) => readFileSync(join(ROOT, f), 'latin1')).join('\n');
    for (const f of js.filter((x) => /chunk-/.test(x)))
      assert.ok(text.includes(`./${f.slice('dist/bundle/'.length)}`), `${f} is imported`);
    // The public API's declarations: the package's "types", and every module they refer to.
    for (const s of TYPE_DIRS.flatMap(sources))
      assert.ok(files.includes(`dist/${s.replace(/\.ts$/, '.d.ts')}`), `${s}'s declarations are in the package`);
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /GNU GENERAL PUBLIC LICENSE\s+Version 2, June 1991/);
  });

  test('npm install -g from the tarball with no compiler: runtime dependencies only, under 25 MB', (t) => {
    const r = run(
      join(path, 'npm'),
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tgz],
      userEnv(path),
    );
    ok(r, 'npm install');
    const nm = join(prefix, 'lib', 'node_modules', 'tscrash', 'node_modules');
    for (const dep of ['@bokuweb/zstd-wasm', 'snappyjs', 'blessed', '@alexaltea/capstone-js'])
      assert.ok(existsSync(join(nm, dep, 'package.json')), `${dep} installed`);
    // The addons could not build here: npm skipped them (optional), so the fallbacks are what runs below.
    // esbuild (TypeScript plugins) is an optional peer: not installed with tscrash.
    for (const dep of [
      'zstd-napi',
      'lzo',
      'typescript',
      'tsx',
      'esbuild',
      '@biomejs/biome',
      'fast-check',
      '@types/node',
    ])
      assert.ok(!existsSync(join(nm, dep, 'package.json')), `${dep} not installed`);
    const size = treeSize(join(prefix, 'lib', 'node_modules', 'tscrash'));
    const parts = [
      'dist',
      ...readdirSync(nm).flatMap((d) => (d.startsWith('@') ? readdirSync(join(nm, d)).map((x) => `${d}/${x}`) : [d])),
    ]
      .map((d): [string, number] => [d, treeSize(d === 'dist' ? join(nm, '..', 'dist') : join(nm, d))])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6);
    assert.ok(
      size < 25e6,
      `installed size ${size} bytes: ${parts.map(([d, n]) => `${d} ${(n / 1e6).toFixed(1)} MB`).join(', ')}`,
    );
    t.diagnostic(`installed size: ${(size / 1e6).toFixed(1)} MB`);
  });

  test('the installed tscrash: plugins (a shipped one, a TypeScript one typed by the package) and scripts', (t) => {
    const sm = loadSample('sysrq', t);
    if (!sm) return;
    const dump = sm.files['kdump-c-d31']!.path;
    const env = {
      ...userEnv(path),
      XDG_CONFIG_HOME: join(dir, 'xdg'),
      TSCRASH_PLUGIN_CACHE: join(dir, 'plugin-cache'),
    };
    const irq = ok(
      run(join(prefix, 'bin', 'tscrash'), [sm.vmlinux, dump, '--plugin', 'irq', '-c', 'irq -s'], env),
      'irq',
    );
    assert.equal(
      irq.toString(),
      ok(repo('tscrash', [sm.vmlinux, dump, '--plugin', 'irq', '-c', 'irq -s']), 'repo irq').toString(),
    );
    // A TypeScript plugin against the installed package's declarations: it type-checks, and it runs.
    const proj = join(dir, 'plugin-project');
    mkdirSync(join(proj, 'node_modules'), { recursive: true });
    symlinkSync(join(prefix, 'lib', 'node_modules', 'tscrash'), join(proj, 'node_modules', 'tscrash'));
    writeFileSync(
      join(proj, 'count.ts'),
      `import type * as Tscrash from 'tscrash';
export default (tscrash: typeof Tscrash): void => {
  tscrash.registerCommand<{ n: number }>({
    name: 'ntasks',
    summary: 'count the tasks',
    help: 'ntasks\\n',
    run(ctx: Tscrash.CommandContext): { n: number } {
      let n = 0;
      for (const _t of tscrash.helpers.forEachTask(ctx.program)) n++;
      return { n };
    },
    text(r, ctx): void {
      ctx.out(\`\${r.n}\\n\`);
    },
  });
};
`,
    );
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [] },
        files: ['count.ts'],
      }),
    );
    const tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', proj], {
      ...process.env,
    });
    assert.equal(tsc.status, 0, `the plugin type-checks against the package: ${tsc.stdout}${tsc.stderr}`);
    // A script: tscrash run, its arguments after --, its exit code.
    writeFileSync(
      join(proj, 'script.mjs'),
      'export default async (prog, args, t) => { console.log(t.helpers.utsname(prog).release, args.join(" ")); return 3; };\n',
    );
    const sc = run(
      join(prefix, 'bin', 'tscrash'),
      ['run', join(proj, 'script.mjs'), sm.vmlinux, dump, '--', 'a', 'b'],
      env,
    );
    assert.equal(sc.status, 3, sc.stderr);
    assert.equal(sc.stdout.toString(), `${sm.release} a b\n`);
    // Without esbuild (an optional peer), a TypeScript plugin is one line and skipped; the session goes on.
    const argsTs = [sm.vmlinux, dump, '--plugin', join(proj, 'count.ts'), '-c', 'sys'];
    const noEsbuild = run(join(prefix, 'bin', 'tscrash'), argsTs, env);
    assert.equal(noEsbuild.status, 0, noEsbuild.stderr);
    assert.equal(
      noEsbuild.stderr,
      `plugin ${join(proj, 'count.ts')}: TypeScript needs esbuild, which is not installed (npm install -g esbuild), or give it as .js (skipped)\n`,
    );
    assert.match(noEsbuild.stdout.toString(), /PANIC: /);
    // With esbuild installed beside tscrash (npm install -g esbuild), it loads.
    const esbuildVersion = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
    ).devDependencies.esbuild!;
    ok(
      run(
        join(path, 'npm'),
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          `esbuild@${esbuildVersion}`,
        ],
        userEnv(path),
      ),
      'npm install -g esbuild',
    );
    const n = ok(
      run(join(prefix, 'bin', 'tscrash'), [sm.vmlinux, dump, '--plugin', join(proj, 'count.ts'), '-c', 'ntasks'], env),
      'ts plugin',
    );
    assert.match(n.toString(), /^\d+\n$/);
    assert.equal(
      n.toString(),
      ok(repo('tscrash', [sm.vmlinux, dump, '--plugin', join(proj, 'count.ts'), '-c', 'ntasks']), 'repo').toString(),
    );
  });

  test('the installed tscrash: --version, info, --dump-dmesg and sys as the repo’s and makedumpfile’s', (t) => {
    m = loadSample('sysrq', t);
    if (!m) return;
    const lzoDump = m.files['kdump-l-d31']!.path;
    assert.equal(
      ok(installed('tscrash', ['--version']), 'version').toString(),
      repo('tscrash', ['--version']).stdout.toString(),
    );
    const info = installed('tscrash', ['info', lzoDump]);
    assert.equal(ok(info, 'info').toString(), ok(repo('tscrash', ['info', lzoDump]), 'repo info').toString());
    assert.equal(info.stderr, LZO_NOTE, 'one line says the JavaScript LZO is in use');
    const dmesg = ok(installed('tscrash', ['--dump-dmesg', lzoDump]), 'dump-dmesg');
    assert.ok(dmesg.equals(readFileSync(m.files.dmesg!.path)), 'makedumpfile --dump-dmesg’s log');
    const sys = ok(installed('tscrash', [m.vmlinux, lzoDump, '-c', 'sys']), 'sys').toString();
    assert.match(sys, /PANIC: /);
    assert.equal(sys, ok(repo('tscrash', [m.vmlinux, lzoDump, '-c', 'sys']), 'repo sys').toString());
  });

  test('the installed copy reads a -z dump with the WebAssembly zstd, and writes one', (t) => {
    m ??= loadSample('sysrq', t);
    if (!m) return;
    const z = join(dir, 'sysrq-z-d31');
    ok(repo('tsmakedumpfile', ['-z', '-d', '31', m.files.elf!.path, z]), 'repo tsmakedumpfile -z');
    const info = installed('tscrash', ['info', z]);
    assert.equal(ok(info, 'info -z').toString(), ok(repo('tscrash', ['info', z]), 'repo info -z').toString());
    assert.match(info.stdout.toString(), /COMPRESSION: zstd/);
    assert.equal(info.stderr, ZSTD_NOTE, 'one line says the WebAssembly zstd is in use');
    const dmesg = ok(installed('tscrash', ['--dump-dmesg', z]), 'dump-dmesg -z');
    assert.ok(dmesg.equals(readFileSync(m.files.dmesg!.path)), 'makedumpfile --dump-dmesg’s log');
    const sys = ok(installed('tscrash', [m.vmlinux, z, '-c', 'sys']), 'sys -z').toString();
    assert.equal(sys, ok(repo('tscrash', [m.vmlinux, z, '-c', 'sys']), 'repo sys -z').toString());
    // tsmakedumpfile -z compressing with the WebAssembly zstd: the repo's reader gives makedumpfile's log.
    const z2 = join(dir, 'sysrq-z-d31-wasm');
    const w = installed('tsmakedumpfile', ['-z', '-d', '31', m.files.elf!.path, z2]);
    ok(w, 'installed tsmakedumpfile -z');
    assert.ok(w.stderr.includes(ZSTD_NOTE), w.stderr);
    assert.ok(ok(repo('tscrash', ['--dump-dmesg', z2]), 'repo dump-dmesg').equals(readFileSync(m.files.dmesg!.path)));
  });

  test('npx --package TGZ tscrash VMCORE', (t) => {
    m ??= loadSample('sysrq', t);
    if (!m) return;
    const cache = run(join(path, 'npm'), ['config', 'get', 'cache'], userEnv(path)).stdout.toString().trim();
    t.after(() => {
      // npx installs the tarball under the npm cache's _npx/HASH: remove this run's.
      const npx = join(cache, '_npx');
      for (const h of existsSync(npx) ? readdirSync(npx) : []) {
        const pj = join(npx, h, 'package.json');
        if (existsSync(pj) && readFileSync(pj, 'utf8').includes(tgz))
          rmSync(join(npx, h), { recursive: true, force: true });
      }
    });
    const npx = (args: string[]): Run =>
      run(join(path, 'npx'), ['--yes', '--prefer-offline', '--package', tgz, 'tscrash', ...args], userEnv(path));
    const v = ok(npx(['--version']), 'npx tscrash --version').toString();
    assert.equal(v, repo('tscrash', ['--version']).stdout.toString());
    const dump = m.files['kdump-c-d31']!.path;
    const sys = ok(npx([dump, '-c', 'sys']), 'npx tscrash VMCORE').toString();
    assert.match(sys, /PANIC: /);
    assert.equal(sys, ok(repo('tscrash', [dump, '-c', 'sys']), 'repo tscrash VMCORE').toString());
  });
});
