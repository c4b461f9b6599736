/**
 * The plugin loader: discovery (--plugin, TSCRASH_PLUGINS, the config directory, npm packages in node_modules
 * from the working directory up, TSCRASH_DISABLE_PLUGINS), and plugins in real sessions on the sysrq sample:
 * a TypeScript plugin's command in the text, JSON and worker (interactive) sessions, a plugin that throws at
 * load and one whose command throws (the session goes on), the override rule and help's marks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { WorkerSession } from '../../cli/sessions.js';
import { compileTs, discoverPlugins } from '../../plugins/loader.js';
import { loadSample } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tscrash-plugins-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
// Compiled TypeScript plugins go to a cache of this test's own (the sessions it starts inherit it).
process.env.TSCRASH_PLUGIN_CACHE = join(tmp, 'plugin-cache');

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A plugin whose command counts the tasks of the task list (the session's own `ps` is the truth). */
const COUNT_TS = `import type * as T from 'tscrash';
interface Count { tasks: number; first: string }
export default (tscrash: typeof T): void => {
  tscrash.registerCommand<Count>({
    name: 'ntasks',
    aliases: ['nt'],
    summary: 'count the tasks',
    help: 'NAME\\n  ntasks - count the tasks\\n',
    run(ctx): Count {
      const all = [...tscrash.helpers.forEachTask(ctx.program)];
      return { tasks: all.length, first: all[0]!.member('comm').string() };
    },
    text(r, ctx) {
      ctx.out(\`\${r.tasks} tasks, the first \${r.first}\\n\`);
    },
  });
};
`;

describe('discovery', () => {
  test('--plugin, TSCRASH_PLUGINS, the config directory and npm packages, in that order; disabled ones marked', () => {
    const cwd = join(tmp, 'proj', 'sub');
    mkdirSync(cwd, { recursive: true });
    const a = write(join(tmp, 'a.mjs'), 'export default () => {};\n');
    const b = write(join(tmp, 'b.ts'), 'export default () => {};\n');
    const cfg = join(tmp, 'xdg');
    write(join(cfg, 'tscrash', 'plugins', 'c.js'), 'export default () => {};\n');
    write(join(cfg, 'tscrash', 'plugins', 'types.d.ts'), 'export {};\n');
    write(join(cfg, 'tscrash', 'plugins', 'notes.txt'), 'not a module\n');
    // npm: a tscrash-plugin-* package (its main), a package declaring tscrash.plugin, a scoped one, an unrelated one.
    const nm = join(tmp, 'proj', 'node_modules');
    write(join(nm, 'tscrash-plugin-net', 'package.json'), '{"name":"tscrash-plugin-net","main":"lib/net.js"}');
    write(join(nm, 'tscrash-plugin-net', 'lib', 'net.js'), 'export default () => {};\n');
    write(join(nm, 'zfs-tools', 'package.json'), '{"name":"zfs-tools","tscrash":{"plugin":"crash.mjs"}}');
    write(join(nm, '@team', 'tscrash-plugin-drv', 'package.json'), '{"name":"@team/tscrash-plugin-drv"}');
    write(join(nm, 'left-pad', 'package.json'), '{"name":"left-pad","main":"index.js"}');
    const env = { XDG_CONFIG_HOME: cfg, TSCRASH_PLUGINS: `${b}:${a}` };
    const found = discoverPlugins([a], env, cwd);
    assert.deepEqual(
      found.map((p) => [p.name, p.source, p.file, p.disabled ?? false]),
      [
        ['a', 'flag', a, false],
        ['b', 'env', b, false], // a again through TSCRASH_PLUGINS: loaded once
        ['c', 'config', join(cfg, 'tscrash', 'plugins', 'c.js'), false],
        ['@team/tscrash-plugin-drv', 'npm', join(nm, '@team', 'tscrash-plugin-drv', 'index.js'), false],
        ['tscrash-plugin-net', 'npm', join(nm, 'tscrash-plugin-net', 'lib', 'net.js'), false],
        ['zfs-tools', 'npm', join(nm, 'zfs-tools', 'crash.mjs'), false],
      ],
    );
    const off = discoverPlugins([a], { ...env, TSCRASH_DISABLE_PLUGINS: 'c,tscrash-plugin-net' }, cwd);
    assert.deepEqual(
      off.filter((p) => p.disabled).map((p) => p.name),
      ['c', 'tscrash-plugin-net'],
    );
    assert.ok(discoverPlugins([a], { ...env, TSCRASH_DISABLE_PLUGINS: '*' }, cwd).every((p) => p.disabled));
    // The default config directory is ~/.config/tscrash/plugins.
    const home = join(tmp, 'home');
    write(join(home, '.config', 'tscrash', 'plugins', 'd.mjs'), 'export default () => {};\n');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('${new URL('../../plugins/loader.ts', import.meta.url).href}').then((l) => console.log(JSON.stringify(l.discoverPlugins([], { HOME: process.env.HOME }, '/'))))`,
      ],
      { env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '' }, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { file: string }[]).map((p) => p.file),
      [join(home, '.config', 'tscrash', 'plugins', 'd.mjs')],
    );
  });
});

describe('TypeScript plugins', () => {
  test('compiled with their relative imports, kept 0600 in the cache, compiled again when a source changes', async () => {
    const dir = join(tmp, 'tsc');
    write(join(dir, 'lib.ts'), 'export const word: string = "one";\n');
    const main = write(
      join(dir, 'main.ts'),
      'import type * as T from "tscrash";\nimport { word } from "./lib.ts";\nexport default (t: typeof T): string => word;\n',
    );
    const first = await compileTs(main);
    assert.equal(statSync(first).mode & 0o777, 0o600);
    assert.equal(statSync(`${first}.json`).mode & 0o777, 0o600);
    assert.equal(statSync(join(tmp, 'plugin-cache')).mode & 0o777, 0o700);
    const before = statSync(first).mtimeMs;
    assert.equal(await compileTs(main), first);
    assert.equal(statSync(first).mtimeMs, before, 'unchanged sources: not compiled again');
    write(join(dir, 'lib.ts'), 'export const word: string = "two, longer";\n');
    await compileTs(main);
    assert.match(readFileSync(first, 'utf8'), /two, longer/);
    assert.doesNotMatch(readFileSync(first, 'utf8'), /"one"/);
    // A type error is not esbuild's business (it strips types); a syntax error is one line with its place.
    const bad = write(join(dir, 'bad.ts'), 'export default (: => 1;\n');
    await assert.rejects(compileTs(bad), /^Error: TypeScript: .* at .*bad\.ts:1:\d+$/);
  });
});

describe('plugins in sessions on the sysrq sample', () => {
  test('a TypeScript plugin adds a command: text, JSON, help, plugins; found by flag, env, config and npm', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const plugin = write(join(tmp, 's1', 'count.ts'), COUNT_TS);
    const run = (args: string[], env: Record<string, string> = {}, cwd = tmp) =>
      spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, ...args], {
        encoding: 'latin1',
        cwd,
        env: { ...process.env, XDG_CONFIG_HOME: join(tmp, 'none'), ...env },
      });
    const truth = spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '-c', 'ps'], { encoding: 'latin1' });
    // ps lists the task list plus the other CPUs' idle tasks (swapper/N, N > 0), which forEachTask leaves out.
    const psLines = truth.stdout.split('\n').filter((l) => /^[ >]+\d+ /.test(l));
    const want = psLines.length - psLines.filter((l) => /swapper\/[1-9]/.test(l)).length;
    const r = run(['--plugin', plugin, '-c', 'ntasks', '-c', 'nt', '-c', 'help', '-c', 'help ntasks', '-c', 'plugins']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout.split('\n');
    assert.equal(out[0], `${want} tasks, the first swapper/0`);
    assert.equal(out[1], out[0]); // the alias
    assert.ok(out.includes('ntasks     count the tasks  [plugin count]'), r.stdout);
    assert.match(r.stdout, new RegExp(`\\n\\[plugin count\\] ${plugin}\\n`));
    assert.match(r.stdout, new RegExp(`\\ncount +--plugin +${plugin}\\n +commands: ntasks\\n`));
    // --json: the command's typed result.
    const j = run(['--json', '--plugin', plugin, '-c', 'ntasks', '-c', 'plugins']);
    const docs = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(docs[0], { command: 'ntasks', ok: true, result: { tasks: want, first: 'swapper/0' } });
    assert.deepEqual(docs[1].result.plugins, [
      { name: 'count', file: plugin, source: 'flag', commands: ['ntasks'], status: 'loaded' },
    ]);
    // The other ways to find it.
    assert.equal(run(['-c', 'ntasks'], { TSCRASH_PLUGINS: plugin }).stdout, `${out[0]}\n`);
    const cfg = join(tmp, 'cfg');
    write(join(cfg, 'tscrash', 'plugins', 'count.ts'), COUNT_TS);
    assert.equal(run(['-c', 'ntasks'], { XDG_CONFIG_HOME: cfg }).stdout, `${out[0]}\n`);
    const proj = join(tmp, 'npmproj');
    write(
      join(proj, 'node_modules', 'tscrash-plugin-count', 'package.json'),
      '{"name":"tscrash-plugin-count","main":"count.ts"}',
    );
    write(join(proj, 'node_modules', 'tscrash-plugin-count', 'count.ts'), COUNT_TS);
    mkdirSync(join(proj, 'work'), { recursive: true });
    const n = run(['-c', 'ntasks', '-c', 'plugins'], {}, join(proj, 'work'));
    assert.match(
      n.stdout,
      new RegExp(
        `^${out[0]}\\ntscrash-plugin-count +npm package +${proj}/node_modules/tscrash-plugin-count/count.ts\\n`,
      ),
    );
    // Disabled: the command is not there, plugins says why.
    const d = run(['-c', 'ntasks', '-c', 'plugins'], { TSCRASH_PLUGINS: plugin, TSCRASH_DISABLE_PLUGINS: '*' });
    assert.match(d.stdout, /^ntasks: command not found/);
    assert.match(d.stdout, /disabled \(TSCRASH_DISABLE_PLUGINS\)/);
  });

  test('a plugin that throws at load is one line and skipped; a command that throws is its error only', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const bad = write(
      join(tmp, 's2', 'bad.mjs'),
      `export default (tscrash) => {
  tscrash.registerCommand({ name: 'half', summary: 'registered before the throw', help: '', run() {} });
  throw new Error('cannot find my driver\\nsecond line');
};\n`,
    );
    const notfn = write(join(tmp, 's2', 'notfn.js'), 'export default 42;\n');
    const syntax = write(join(tmp, 's2', 'syntax.ts'), 'export default (: => {\n');
    const boom = write(
      join(tmp, 's2', 'boom.mjs'),
      `export default (tscrash) => tscrash.registerCommand({ name: 'boom', summary: 'fails', help: '',
  run(ctx) { ctx.out('partial\\n'); ctx.program.memory.readU64(0n); } });\n`,
    );
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        m.vmlinux,
        vmcore,
        ...[bad, notfn, syntax, boom, join(tmp, 'missing.js')].flatMap((f) => ['--plugin', f]),
        '-c',
        'half',
        '-c',
        'boom',
        '-c',
        'sys',
        '-c',
        'plugins',
      ],
      { encoding: 'latin1', env: { ...process.env, XDG_CONFIG_HOME: join(tmp, 'none') } },
    );
    const err = r.stderr.trim().split('\n');
    assert.equal(err.length, 4, r.stderr);
    assert.equal(err[0], `plugin ${bad}: cannot find my driver (skipped)`);
    assert.match(err[1]!, new RegExp(`^plugin ${notfn}: its default export is not a function`));
    assert.match(err[2]!, new RegExp(`^plugin ${syntax}: .+ \\(skipped\\)$`));
    assert.equal(err[3], `plugin ${join(tmp, 'missing.js')}: no such file (skipped)`);
    assert.equal(r.status, 1); // boom failed; the session went on
    assert.match(r.stdout, /^half: command not found/); // what the failed plugin registered is taken back
    assert.match(r.stdout, /\npartial\nboom: .*0x0.*\n/);
    assert.match(r.stdout, /\n +PANIC: "Kernel panic - not syncing: sysrq triggered crash"\n/);
    assert.match(r.stdout, /\nbad +--plugin .*\n +failed: cannot find my driver\n/);
  });

  test('a plugin replaces a built-in only with override: true, and help says so', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const steal = write(
      join(tmp, 's3', 'steal.mjs'),
      `export default (t) => t.registerCommand({ name: 'sys', summary: 'mine', help: '', run(ctx) { ctx.out('mine\\n'); } });\n`,
    );
    const alias = write(
      join(tmp, 's3', 'alias.mjs'),
      `export default (t) => t.registerCommand({ name: 'pp', aliases: ['p'], summary: 'mine', help: '', run() {} });\n`,
    );
    const over = write(
      join(tmp, 's3', 'over.mjs'),
      `export default (t) => t.registerCommand({ name: 'sys', override: true, summary: 'sys, shorter', help: '',
  async run(ctx, args) { const r = await (await t.command('log')).run(ctx, ['-m']); ctx.out('replaced\\n'); } });\n`,
    );
    const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'none') };
    const r = spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '--plugin', steal, '--plugin', alias, '-c', 'sys'], {
      encoding: 'latin1',
      env,
    });
    assert.deepEqual(r.stderr.trim().split('\n'), [
      `plugin ${steal}: sys is already a built-in command (override: true replaces it) (skipped)`,
      `plugin ${alias}: alias p is already a built-in command (skipped)`,
    ]);
    assert.match(r.stdout, /^ +KERNEL: /);
    const o = spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '--plugin', over, '-c', 'sys', '-c', 'help'], {
      encoding: 'latin1',
      env,
    });
    assert.equal(o.stderr, '');
    assert.match(o.stdout, /^replaced\n/);
    assert.match(o.stdout, /\nsys +sys, shorter {2}\[plugin over, replaces the built-in\]\n/);
  });

  test('an interactive session loads the plugins in its worker thread', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const plugin = write(join(tmp, 's4', 'count.ts'), COUNT_TS);
    const bad = write(join(tmp, 's4', 'bad.mjs'), 'export default () => { throw new Error("no"); };\n');
    const s = await WorkerSession.open({
      vmcore: m.files['kdump-c-d31']!.path,
      vmlinux: m.vmlinux,
      force: false,
      json: false,
      backgroundIndex: false,
      plugins: discoverPlugins([plugin, bad], { XDG_CONFIG_HOME: join(tmp, 'none') }, tmp),
    });
    try {
      assert.deepEqual(
        s.info.warnings.filter((w) => w.startsWith('plugin')),
        [`plugin ${bad}: no (skipped)`],
      );
      let out = '';
      assert.equal((await s.run('ntasks', (x) => (out += x))).ok, true);
      assert.match(out, /^\d+ tasks, the first swapper\/0\n$/);
      const j = await s.query('ntasks');
      assert.equal(j.ok, true);
      assert.equal((j.result as { first: string }).first, 'swapper/0');
    } finally {
      await s.close();
    }
  });
});
