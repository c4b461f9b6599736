/**
 * crash's input conventions in a session: the numbered history (h) and running its lines again (r, r N, r PREFIX,
 * !!, !N), aliases, set radix / hex / dec, a variable's or type's name as a command, `CMD < FILE` and `< FILE`, and
 * the help pages (help input, -h input|output|all). Against crash itself on the sysrq sample: run with -i where
 * crash has the feature in a script, and on a real terminal (tmux) for the history, which crash keeps only there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { Program } from '../../program/index.js';
import { crashLive } from '../lib/crash-live.js';
import { loadSample } from '../lib/samples.js';
import { Tmux } from '../lib/tmux.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tscrash-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A new session (its own history, aliases, radix, p's $N), and a function that runs a line as typed. */
async function session(vmlinux: string, vmcore: string): Promise<(line: string) => Promise<string>> {
  registerBuiltins();
  const prog = await Program.load({ vmcore, vmlinux });
  return async (line) => {
    let out = '';
    await runLine(prog, line, (s) => (out += s), { record: true });
    return out;
  };
}

describe("crash's input conventions", () => {
  test('sysrq: aliases, the radix, names as commands and CMD < FILE print what crash prints', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const pids = join(dir, 'pids');
    writeFileSync(pids, '1\n0\n');
    const lines = [
      'jiffies',
      'list_head',
      'hex',
      'p jiffies',
      'struct task_struct.pid,prio init_task',
      'px jiffies',
      'dec',
      'p jiffies',
      'pd jiffies',
      'set radix',
      'alias xx ps -p',
      'xx 1',
      'alias',
      'alias xx',
      'lsmod',
      `ps -p < ${pids}`,
    ];
    const want = crashLive(m.vmlinux, dump, lines);
    const run = await session(m.vmlinux, dump);
    for (const [i, line] of lines.entries()) {
      let got = await run(line);
      let expected = want[i]!;
      // crash's gdb alias (g) has no tscrash command; crash's -i adds a blank line after ps and an error.
      if (line === 'alias') expected = expected.replace(/^builtin {2}g {8}gdb \n/m, '');
      if (line.startsWith('ps -p') || line === 'xx 1') {
        expected = expected.replace(/\n\n/g, '\n');
        got = got.replace(/\n\n/g, '\n');
      }
      assert.equal(got, expected, line);
    }
  });

  test('sysrq: h, r, r N, r PREFIX, !!, !N: the history and its re-runs as crash keeps them on a terminal', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const lines = ['sys', 'r', 'ps -p 1', '!1', 'r sy', 'p jiffies', 'r 3', '!!', '// a comment', 'alias', 'h'];
    // crash has a history only on a terminal: type the lines into crash on tmux, and read its last `h` listing.
    const tmux = new Tmux(`crash -s ${m.vmlinux} ${dump}`, 160, 60);
    let crashH: string[];
    try {
      await tmux.waitFor((s) => s.trimEnd().endsWith('crash>'), 240_000);
      for (const line of lines) {
        tmux.type(line);
        tmux.keys('Enter');
        await tmux.waitFor((s) => s.trimEnd().endsWith('crash>'), 60_000);
      }
      const screen = tmux.tmux('capture-pane', '-t', 't', '-p', '-S', '-2000');
      const last = screen.lastIndexOf('crash> h\n');
      crashH = screen
        .slice(last + 'crash> h\n'.length)
        .split('\n')
        .filter((l) => /^\[\d+\] /.test(l));
    } finally {
      tmux.kill();
    }
    assert.ok(crashH.length >= 8, `crash's history: ${crashH.join('\n')}`);
    const run = await session(m.vmlinux, dump);
    const outs: string[] = [];
    for (const line of lines) outs.push(await run(line));
    assert.deepEqual(outs.at(-1)!.trimEnd().split('\n'), crashH);
    // A re-run shows its line after the prompt, then the output the line gives when typed.
    assert.equal(outs[1], `tscrash> sys\n${outs[0]}`);
    assert.ok(outs[3]!.startsWith('tscrash> sys\n'), outs[3]);
    assert.ok(outs[6]!.startsWith('tscrash> ps -p 1\n'), outs[6]);
    assert.equal(outs[7], `tscrash> ps -p 1\n${outs[2]}`);
    assert.equal(await run('r 99'), 'command 99 not entered yet\n');
    assert.equal(await run('r zz'), 'invalid repeat request: r zz\n');
    // !N with N a program on PATH runs the program, as crash does.
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, '2'), '#!/bin/sh\necho ran two\n', { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      assert.equal(await run('!2'), 'ran two\n');
    } finally {
      process.env.PATH = path;
    }
  });

  test('sysrq: < FILE runs its lines; # and // are comments', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const cmds = join(dir, 'cmds');
    writeFileSync(cmds, '# the context\nset\n\n// and the time\np jiffies\n');
    const run = await session(m.vmlinux, dump);
    const want = (await run('set')) + (await run('p jiffies')).replace('$1', '$2');
    assert.equal(await run(`< ${cmds}`), want);
    assert.equal(await run(`< ${join(dir, 'nonesuch')}`), `${join(dir, 'nonesuch')}: no such file\n`);
  });

  for (const name of ['sysrq', 'mce'] as const)
    test(`${name}: ps -l (alias last): crash's lines, in crash's order, among ours`, async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const dump = m.files['kdump-c-d31']!.path;
      // crash 8.0.2 finds only the tasks active at the crash in these kernels' PID hash: its lines must be ours, in
      // its order, with the other tasks between (the bracket's padding follows the widest number listed).
      const [want] = crashLive(m.vmlinux, dump, ['ps -l']);
      const run = await session(m.vmlinux, dump);
      const got = await run('last');
      assert.equal(got, await run('ps -l'));
      const norm = (l: string): string => l.replace(/^\[ *(\d+)\]/, '[$1]');
      const ours = got.trimEnd().split('\n').map(norm);
      const theirs = want!.trimEnd().split('\n').map(norm);
      assert.ok(theirs.length >= 2, want);
      let at = -1;
      for (const line of theirs) {
        const i = ours.indexOf(line, at + 1);
        assert.ok(i > at, `crash's ${line} among ours after line ${at}:\n${got}`);
        at = i;
      }
      const stamps = ours.map((l) => Number(/^\[(\d+)\]/.exec(l)![1]));
      assert.deepEqual(
        stamps,
        [...stamps].sort((a, b) => b - a),
        'the most recent first',
      );
      assert.equal(ours.length, (await run('ps')).trimEnd().split('\n').length - 1, 'every task');
    });

  test('help input, help output, -h input|output|all', () => {
    const input = spawnSync(BIN, ['-h', 'input'], { encoding: 'utf8' });
    assert.equal(input.status, 0);
    assert.match(input.stdout, /^INPUT\n/);
    for (const word of ['r N', '!N', '< FILE', 'alias', '//']) assert.ok(input.stdout.includes(word), word);
    const output = spawnSync(BIN, ['--help', 'output'], { encoding: 'utf8' });
    assert.equal(output.status, 0);
    for (const word of ['set scroll off', '>>', 'set radix 16', 'set output json'])
      assert.ok(output.stdout.includes(word), word);
    const all = spawnSync(BIN, ['-h', 'all'], { encoding: 'utf8' });
    assert.equal(all.status, 0);
    assert.ok(all.stdout.startsWith('usage:'), 'the usage first');
    for (const page of [input.stdout, output.stdout, 'NAME\n  bt - ', 'NAME\n  h - ', 'NAME\n  alias - '])
      assert.ok(all.stdout.includes(page), page.slice(0, 20));
  });
});
