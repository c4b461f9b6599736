/**
 * The README's tutorial runs as written: its plugin (found in a config directory) adds a command that works
 * in text and JSON on the sysrq sample, and its script runs with tscrash run; both give drgn's tasks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSample, oracleText } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'tscrash-readme-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("the README's plugin and script run as written", (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const section = README.slice(README.indexOf('## Plugins and scripts'), README.indexOf('## Dependencies'));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((x) => x[1]!);
  assert.equal(blocks.length, 2);
  const plugin = /`(~\/\.config\/tscrash\/plugins\/[\w.]+)`:/.exec(section)![1]!;
  const cfg = join(tmp, 'config');
  mkdirSync(join(cfg, 'tscrash', 'plugins'), { recursive: true });
  writeFileSync(join(cfg, plugin.replace('~/.config/', '')), blocks[0]!);
  const script = join(tmp, 'tasks.ts');
  writeFileSync(script, blocks[1]!);
  const env = { ...process.env, XDG_CONFIG_HOME: cfg, TSCRASH_PLUGIN_CACHE: join(tmp, 'cache') };
  const vmcore = m.files['kdump-c-d31']!.path;
  const drgn = JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; comm: string; state: string }[];
  // The plugin: text and JSON; the task list is drgn's plus init_task (pid 0), which drgn leaves out.
  const text = spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '-c', 'pids', '-c', 'help'], {
    encoding: 'latin1',
    env,
  });
  assert.equal(text.stderr, '');
  const rows = text.stdout.split('\n').filter((l) => /^ {0,5}\d+ {2}/.test(l));
  assert.deepEqual(
    rows.map((l) => l.trim().replace(/ +/, ' ')).sort(),
    ['0 swapper/0', ...drgn.map((d) => `${d.pid} ${d.comm}`)].sort(),
  );
  assert.match(text.stdout, /\npids {7}every task: pid and command {2}\[plugin pids\]\n/);
  const json = spawnSync(process.execPath, [BIN, '--json', m.vmlinux, vmcore, '-c', 'pids'], {
    encoding: 'latin1',
    env,
  });
  const doc = JSON.parse(json.stdout) as { ok: boolean; result: { pids: { pid: number }[] } };
  assert.equal(doc.ok, true);
  assert.equal(doc.result.pids.length, drgn.length + 1);
  // The script: tasks by state, as drgn counts them (and init_task, running).
  const r = spawnSync(process.execPath, [BIN, 'run', script, m.vmlinux, vmcore], { encoding: 'latin1', env });
  assert.equal(r.status, 0, r.stderr);
  const want = new Map<string, number>([['R', 1]]);
  for (const d of drgn) want.set(d.state, (want.get(d.state) ?? 0) + 1);
  assert.deepEqual(
    new Map(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])] as [string, number]),
    ),
    want,
  );
});
