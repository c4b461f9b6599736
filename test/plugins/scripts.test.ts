/**
 * Scripts: `tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...]` and the session's `run`, with the examples of
 * plugins/examples/ checked against crash on the real samples (kmem -s's stored oracle for slab-top, crash's
 * list run live for list-walk, crash's p and list of mutexes for mutex-owner), and the exit codes and one-line messages of scripts that fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { crashLive } from '../lib/crash-live.js';
import { loadSample, type Manifest, oracleText, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const EXAMPLES = new URL('../../plugins/examples/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tscrash-scripts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
process.env.TSCRASH_PLUGIN_CACHE = join(tmp, 'cache');

function runScript(m: Manifest, script: string, args: string[] = [], env: Record<string, string> = {}) {
  const argv = [BIN, 'run', script, m.vmlinux, m.files['kdump-c-d31']!.path];
  if (args.length) argv.push('--', ...args);
  return spawnSync(process.execPath, argv, { encoding: 'latin1', env: { ...process.env, ...env } });
}

for (const name of SAMPLE_NAMES) {
  test(`slab-top on ${name}: the caches crash's kmem -s counts, the largest first, and their total`, (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    // crash: SLABS x SSIZE of every cache.
    const crash = oracleText(m, 'crash-kmem-s')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => {
        const f = l.trim().split(/\s+/);
        return { name: f[6]!, kib: Number(f[4]) * Number(f[5]!.replace(/k$/, '')) };
      })
      .sort((a, b) => b.kib - a.kib || a.name.localeCompare(b.name));
    const r = runScript(m, join(EXAMPLES, 'slab-top.ts'), ['8']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 10);
    assert.deepEqual(
      lines
        .slice(1, 9)
        .map((l) => l.split(/\s+/).filter(Boolean))
        .map((f) => [f[0], Number(f[2]!.replace(/k$/, ''))]),
      crash.slice(0, 8).map((c) => [c.name, c.kib]),
    );
    const total = crash.reduce((s, c) => s + c.kib, 0);
    assert.match(lines[9]!, new RegExp(`^TOTAL \\(${crash.length} caches\\) +${total}k +\\d+k$`));
  });

  test(`list-walk on ${name}: the task list and the module list, as crash's list walks them`, (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const script = join(EXAMPLES, 'list-walk.ts');
    const tasks = runScript(m, script, ['init_task.tasks', 'struct task_struct', 'tasks', 'pid', 'comm']);
    assert.equal(tasks.status, 0, tasks.stderr);
    const mods = runScript(m, script, ['modules', 'struct module', 'list', 'name']);
    assert.equal(mods.status, 0, mods.stderr);
    const head = /^\$\d+ = \(struct list_head \*\) (0x[0-9a-f]+)/m.exec(
      spawnSync(process.execPath, [BIN, m.vmlinux, m.files['kdump-c-d31']!.path, '-c', 'p &init_task.tasks'], {
        encoding: 'latin1',
      }).stdout,
    )![1]!;
    const [cTasks, cMods] = crashLive(m.vmlinux, m.files['kdump-c-d31']!.path, [
      `list -o task_struct.tasks -H ${head}`,
      'list -o module.list -s module.name -H modules',
    ]);
    const ours = tasks.stdout.trim().split('\n');
    assert.equal(ours.pop(), `${ours.length} entries`);
    assert.deepEqual(
      ours.map((l) => l.split(' ')[0]!.slice(2)),
      cTasks!.trim().split('\n'),
    );
    // pid and comm: the thread group leaders drgn lists.
    const drgn = JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; comm: string; task: string }[];
    for (const l of ours) {
      const [addr, pid, comm] = /^(0x[0-9a-f]+) pid=(\d+) comm=(".*")$/.exec(l)!.slice(1);
      const d = drgn.find((x) => x.task === addr);
      assert.deepEqual([Number(pid), JSON.parse(comm!)], [d?.pid, d?.comm], l);
    }
    const cm = [...(cMods ?? '').matchAll(/^([0-9a-f]+)\n {2}name = "([^\\"]*)/gm)].map(
      (x) => `0x${x[1]} name="${x[2]}"`,
    );
    const om = mods.stdout.trim().split('\n');
    assert.equal(om.pop(), `${cm.length} entries`);
    assert.deepEqual(om, cm);
    if ((m.facts.modules as string[] | undefined)?.length) assert.ok(cm.length > 0);
  });

  test(`mutex-owner on ${name}: each mutex's address, owner word and waiters as crash reads them`, (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const mutexes = ['module_mutex', 'cgroup_mutex', 'text_mutex', 'event_mutex'];
    const r = runScript(m, join(EXAMPLES, 'mutex-owner.ts'), [...mutexes, 'nonesuch_mutex']);
    assert.equal(r.status, 1, 'a name that is no variable fails the script, after the others');
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.pop()!, /^nonesuch_mutex: no variable named nonesuch_mutex/);
    const crash = crashLive(
      m.vmlinux,
      m.files['kdump-c-d31']!.path,
      mutexes.flatMap((v) => [`p &${v}`, `p ${v}.owner.counter`, `list -H ${v}.wait_list`]),
    );
    let i = 0;
    for (const v of mutexes) {
      const addr = /(0x[0-9a-f]+)/.exec(crash[i++]!)![1]!;
      const counter = BigInt.asUintN(64, BigInt(/= (-?\d+|0x[0-9a-f]+)/.exec(crash[i++]!)![1]!));
      const waiters = crash[i++]!.trim()
        .split('\n')
        .filter((l) => /^[0-9a-f]+$/.test(l)).length;
      const line = lines.find((l) => l.startsWith(`${v} `));
      assert.ok(line, `${v} reported`);
      assert.ok(line.includes(`(struct mutex ${addr})`), `${line} at crash's ${addr}`);
      const owner = counter & ~7n;
      if (owner === 0n) assert.match(line, /: not held/);
      else assert.ok(line.includes(`(task 0x${owner.toString(16)})`), `${line}: crash's owner 0x${owner.toString(16)}`);
      const ours = lines.filter((l, k) => k > lines.indexOf(line) && l.startsWith('  waiting: ')).length;
      if (waiters === 0) assert.ok(!lines[lines.indexOf(line) + 1]?.startsWith('  waiting'), `${v}: no waiters`);
      else assert.ok(ours >= waiters);
    }
  });
}

test("the session's run and tscrash run give the same output; exit codes and one-line errors", (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const slab = join(EXAMPLES, 'slab-top.ts');
  const direct = runScript(m, slab, ['3']);
  const inSession = spawnSync(
    process.execPath,
    [BIN, m.vmlinux, m.files['kdump-c-d31']!.path, '-c', `run ${slab} 3`, '-c', 'help run'],
    { encoding: 'latin1' },
  );
  assert.equal(inSession.status, 0, inSession.stderr);
  assert.ok(inSession.stdout.startsWith(direct.stdout), inSession.stdout);
  assert.match(inSession.stdout.slice(direct.stdout.length), /^NAME\n {2}run - run a script on this dump\n/);
  const json = spawnSync(
    process.execPath,
    [BIN, '--json', m.vmlinux, m.files['kdump-c-d31']!.path, '-c', `run ${slab} 3`],
    {
      encoding: 'latin1',
    },
  );
  assert.deepEqual(JSON.parse(json.stdout), { command: `run ${slab} 3`, ok: true, result: { text: direct.stdout } });
  // A JavaScript script, its return value the exit code, its arguments after --.
  const js = join(tmp, 'count.mjs');
  writeFileSync(
    js,
    `export default async (prog, args, tscrash) => {
  let n = 0;
  for (const _ of tscrash.helpers.forEachTask(prog)) n++;
  process.stdout.write(\`\${n} tasks \${JSON.stringify(args)}\\n\`);
  return Number(args[0]);
};\n`,
  );
  const c = runScript(m, js, ['3', 'two words']);
  assert.equal(c.status, 3);
  assert.match(c.stdout, /^\d+ tasks \["3","two words"\]\n$/);
  // Failures: one line on stderr naming the script, exit 1.
  const throws = join(tmp, 'throws.ts');
  writeFileSync(throws, 'export default async (prog: any) => { prog.memory.readU64(0n); };\n');
  const notFn = join(tmp, 'notfn.mjs');
  writeFileSync(notFn, 'export default { run() {} };\n');
  const bad = join(tmp, 'bad.ts');
  writeFileSync(bad, 'export default async (prog => {};\n');
  for (const [file, re] of [
    [throws, /^tscrash: .*throws\.ts: .*0x0.*\n$/],
    [notFn, /^tscrash: .*notfn\.mjs: its default export is not a function .*\n$/],
    [bad, /^tscrash: .*bad\.ts: TypeScript: .* at .*bad\.ts:1:\d+\n$/],
    [join(tmp, 'missing.js'), /^tscrash: .*missing\.js: no such file\n$/],
  ] as const) {
    const r = runScript(m, file);
    assert.equal(r.status, 1, file);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
  const usage = spawnSync(process.execPath, [BIN, 'run'], { encoding: 'latin1' });
  assert.equal(usage.status, 1);
  assert.equal(usage.stderr, 'tscrash: run needs a SCRIPT (tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...])\n');
});
