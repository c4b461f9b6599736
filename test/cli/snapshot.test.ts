/**
 * bin/tscrash and bin/tsmakedumpfile from the V8 start-up snapshot (bin/launch.sh, bin/snapshot-build.sh,
 * cli/snapshot.ts): made in the background by the first run, into the user's cache (mode 0600), used when it is
 * newer than the node binary and the bundle, and giving the same bytes as the bundle for every kind of command:
 * the log, info, a session, a plugin, a TypeScript script, the writer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSample } from '../lib/samples.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const TSCRASH = join(ROOT, 'bin', 'tscrash');
const MDF = join(ROOT, 'bin', 'tsmakedumpfile');
const dir = mkdtempSync(join(tmpdir(), 'tscrash-snapshot-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const cache = join(dir, 'cache');
const snap = join(cache, 'tscrash', 'snapshot');
const env = { ...process.env, XDG_CACHE_HOME: cache, TSCRASH_LAUNCH_TRACE: '1', TZ: 'UTC', LC_ALL: 'C' };
const bundleEnv = { ...env, TSCRASH_SNAPSHOT: '0' };

function run(bin: string, args: string[], e: NodeJS.ProcessEnv): { stdout: Buffer; stderr: string; status: number } {
  const r = spawnSync(bin, args, { env: e, maxBuffer: 1 << 28, timeout: 300_000 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status ?? -1 };
}

async function made(): Promise<void> {
  if (!existsSync(join(snap, 'key'))) run(TSCRASH, ['--version'], env);
  for (let i = 0; i < 1200 && !existsSync(join(snap, 'key')); i++) await sleep(100);
  assert.ok(existsSync(join(snap, 'key')), 'the snapshot was made within 120 s');
}

describe('the start-up snapshot', () => {
  test('made by the first run, mode 0600; then used; the bundle when it is older than the bundle', async () => {
    const first = run(TSCRASH, ['--version'], env);
    assert.equal(first.stdout.toString(), 'tscrash 0.1.0\n');
    assert.match(first.stderr, /^tscrash: from the bundle /);
    await made();
    assert.equal(statSync(join(snap, 'tscrash.blob')).mode & 0o777, 0o600);
    assert.equal(statSync(snap).mode & 0o777, 0o700);
    const key = readFileSync(join(snap, 'key'), 'utf8');
    assert.ok(key.includes(join(ROOT, 'dist', 'bundle').replace(/\/$/, '')), key);
    const second = run(TSCRASH, ['--version'], env);
    assert.equal(second.stdout.toString(), 'tscrash 0.1.0\n');
    assert.match(second.stderr, /^tscrash: from the start-up snapshot /);
    // A blob older than the bundle (a rebuild, an upgrade) is not used; a new one is made.
    const old = new Date(Date.now() - 86400_000);
    utimesSync(join(snap, 'tscrash.blob'), old, old);
    assert.match(run(TSCRASH, ['--version'], env).stderr, /^tscrash: from the bundle /);
    for (let i = 0; i < 1200 && statSync(join(snap, 'tscrash.blob')).mtimeMs < Date.now() - 3600_000; i++)
      await sleep(100);
    assert.match(run(TSCRASH, ['--version'], env).stderr, /^tscrash: from the start-up snapshot /);
    // A key of another node or place is not used either.
    writeFileSync(join(snap, 'key'), '/elsewhere/node /elsewhere/bundle host\n');
    assert.match(run(TSCRASH, ['--version'], env).stderr, /^tscrash: from the bundle /);
    await sleep(200);
    for (let i = 0; i < 1200 && readFileSync(join(snap, 'key'), 'utf8').startsWith('/elsewhere'); i++) await sleep(100);
    assert.match(run(TSCRASH, ['--version'], env).stderr, /^tscrash: from the start-up snapshot /);
    // node bin/tscrash (a polyglot: the shell's line is a string and a comment for node) runs the bundle.
    const viaNode = spawnSync(process.execPath, [TSCRASH, '--version'], { env, encoding: 'utf8' });
    assert.equal(viaNode.stdout, 'tscrash 0.1.0\n');
  });

  test('sysrq: the same bytes from the snapshot as from the bundle, for every kind of command', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    await made();
    const dump = m.files['kdump-c-d31']!.path;
    const script = join(dir, 'count.ts');
    writeFileSync(
      script,
      "export default async (prog: any, args: string[], tscrash: any) => { console.log(args.join(','), (await tscrash.runCommand(prog, 'sys')).split('\\n').length); };\n",
    );
    const cases: [string, string[]][] = [
      [TSCRASH, ['--dump-dmesg', dump]],
      [TSCRASH, ['info', '--json', dump]],
      [TSCRASH, [m.vmlinux, dump, '-c', 'sys', '-c', 'bt -a', '-c', 'ps', '-c', 'kmem -i', '-c', 'dis schedule 4']],
      [TSCRASH, ['--json', m.vmlinux, dump, '-c', 'bt', '-c', 'nonesuch']],
      [TSCRASH, [m.vmlinux, dump, '--plugin', 'irq', '-c', 'irq -s']],
      [TSCRASH, ['run', script, m.vmlinux, dump, '--', 'a', 'b']],
      [TSCRASH, ['triage', '--json', m.vmlinux, dump]],
      [TSCRASH, ['--nonesuch']],
      [MDF, ['--mem-usage', m.files.elf!.path]],
    ];
    for (const [bin, args] of cases) {
      const a = run(bin, args, env);
      const b = run(bin, args, bundleEnv);
      const what = `${bin.split('/').pop()} ${args.join(' ')}`;
      assert.match(a.stderr, / from the start-up snapshot /, what);
      assert.equal(a.status, b.status, `${what}: exit status`);
      assert.equal(a.stdout.toString('latin1'), b.stdout.toString('latin1'), `${what}: stdout`);
      const strip = (s: string): string => s.replace(/^\w+: from the .*\n/, '');
      assert.equal(strip(a.stderr), strip(b.stderr), `${what}: stderr`);
    }
    // The writer: the same dump file.
    const [x, y] = [join(dir, 'a.kdump'), join(dir, 'b.kdump')];
    const w1 = run(MDF, ['-d', '31', '-c', m.files.elf!.path, x], env);
    const w2 = run(MDF, ['-d', '31', '-c', m.files.elf!.path, y], bundleEnv);
    assert.equal(w1.status, 0, w1.stderr);
    assert.equal(w2.status, 0, w2.stderr);
    assert.match(w1.stderr, / from the start-up snapshot /);
    assert.ok(readFileSync(x).equals(readFileSync(y)), 'the same kdump file');
  });
});
