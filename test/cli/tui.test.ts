/**
 * The TUI on a real terminal (tmux), on the real sysrq sample: the status bar carries the release and crash's
 * panic string; ps fills the output pane with crash's lines; F2 opens the task pane with the panic task first,
 * and Enter on a task runs set and bt for it (what crash prints for that task); Ctrl-C interrupts a running
 * command and the session goes on; a resize keeps the status bar and the input line; Ctrl-F finds a line of the
 * scrollback; q quits and the terminal is given back.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';
import { Tmux } from '../lib/tmux.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tscrash');

/** The status bar is the last line; the input line the one above it. */
function bars(screen: string): { input: string; status: string } {
  const lines = screen.replace(/\n$/, '').split('\n');
  return { input: lines[lines.length - 2] ?? '', status: lines[lines.length - 1] ?? '' };
}

function oracle(dir: string, name: string): string {
  return readFileSync(join(dir, 'oracle', name), 'utf8');
}

/** What the line mode prints for a command (the TUI is a view of the same runner). */
function lineMode(vmlinux: string, vmcore: string, cmd: string): string {
  const r = spawnSync(BIN, [vmlinux, vmcore, '-c', cmd], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('the TUI', () => {
  for (const name of SAMPLE_NAMES)
    test(`${name}: status bar, ps, the task pane, Ctrl-C, resize, search, quit`, async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const dir = join(m.files.elf!.path, '..');
      const sys = oracle(dir, 'crash-sys.txt');
      const crashPanicPid = /^PID: (\d+)/m.exec(oracle(dir, 'crash-bt.txt'))![1]!;
      const vmcore = m.files['kdump-c-d31']!.path;
      const panic = /PANIC: "(.*)"/.exec(sys)![1]!;
      const release = /RELEASE: (\S+)/.exec(sys)![1]!;
      const term = new Tmux(`'${BIN}' '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED $?; sleep 60`);
      try {
        // The status bar: file, release, the start of the panic string, the context.
        let s = await term.waitFor((x) => /PANIC: /.test(bars(x).status) && /PID: \d+/.test(bars(x).status));
        assert.match(bars(s).status, new RegExp(`kdump-c-d31 \\| ${release.replace(/\./g, '\\.')} \\| PANIC: `));
        const shown = /PANIC: (.*?)(…| \|)/.exec(bars(s).status)![1]!;
        assert.ok(
          shown.length >= 10 && panic.startsWith(shown),
          `the status bar's panic "${shown}" is crash's "${panic}"`,
        );
        assert.match(bars(s).input, /^tscrash>/);

        // ps: crash's lines in the output pane (the last tasks, as the pane follows the end).
        term.type('ps');
        term.keys('Enter');
        const ps = lineMode(m.vmlinux, vmcore, 'ps').replace(/\n$/, '').split('\n');
        const lastTask = ps[ps.length - 1]!.trimEnd();
        s = await term.waitFor((x) => x.split('\n').some((l) => l.trimEnd() === lastTask));
        assert.ok(s.includes(ps[ps.length - 2]!.trimEnd()), 'the task before the last one too');

        // F2: the task pane, the panic task first and marked; Down then Enter runs set and bt for the next task.
        term.keys('F2');
        s = await term.waitFor((x) => /Tasks \([1-9]\d*\)/.test(x) && x.split('\n').some((l) => /│[*>] +\d+ /.test(l)));
        const paneLines = s.split('\n').map((l) => l.split('│')[1] ?? '');
        const first = paneLines.find((l) => /^[*> ] +\d+ /.test(l))!;
        assert.match(first, /^\*/, 'the panic task is first and marked');
        assert.equal(/^\* +(\d+)/.exec(first)![1], crashPanicPid, "the panic task is crash's");
        assert.match(bars(s).status, new RegExp(`PID: ${crashPanicPid}  CPU:`), "the context is crash's panic task");
        term.keys('Down');
        const second = paneLines.filter((l) => /^[*> ] +\d+ /.test(l))[1]!;
        const pid = /^[*> ] +(\d+)/.exec(second)![1]!;
        term.keys('Enter');
        s = await term.waitFor(new RegExp(`PID: ${pid}\\s+TASK: [0-9a-f]+\\s+CPU: \\d+\\s+COMMAND: `));
        assert.match(s, /tscrash> set \S+/);
        assert.match(s, /tscrash> bt/);
        await term.waitFor((x) => new RegExp(`PID: ${pid}  CPU:`).test(bars(x).status));
        term.keys('F2');
        await term.waitFor((x) => !/Tasks \(\d+\)/.test(x));

        // Ctrl-C while kmem -p runs: "(interrupted)", the session goes on.
        term.type('kmem -p');
        term.keys('Enter');
        await term.waitFor((x) => / kmem \d+\.\ds\s*$/.test(bars(x).status), 20_000);
        const t0 = Date.now();
        term.keys('C-c');
        s = await term.waitFor(/\(interrupted\)/, 10_000);
        t.diagnostic(`Ctrl-C during kmem -p: interrupted after ${Date.now() - t0} ms (tmux polling included)`);
        term.type('sys');
        term.keys('Enter');
        s = await term.waitFor(new RegExp(`RELEASE: ${release.replace(/\./g, '\\.')}`));
        // An error is shown in red.
        term.type('nonesuch');
        term.keys('Enter');
        await term.waitFor(/nonesuch: command not found/);
        const coloured = term
          .tmux('capture-pane', '-t', 't', '-p', '-e')
          .split('\n')
          .find((l) => l.includes('nonesuch: command not found'))!;
        assert.match(coloured, new RegExp(`${String.fromCharCode(27)}\\[(?:[0-9;]*;)?31m`), 'the error is red');
        // F1: the keys and the commands; any key closes it.
        term.keys('F1');
        await term.waitFor((x) => /Ctrl-C +interrupt the running command/.test(x) && /\bsys\b/.test(x));
        term.keys('Escape');
        await term.waitFor((x) => !/Ctrl-C +interrupt the running command/.test(x));
        // F3: the kernel log, scrolled to its end: it shows crash's panic string.
        term.keys('F3');
        s = await term.waitFor((x) => /Log \(\d+ lines\)/.test(x) && x.includes(panic.slice(0, 40)));
        term.keys('F3');
        await term.waitFor((x) => !/Log \(\d+ lines\)/.test(x));
        // At an idle prompt, Ctrl-C clears the line.
        term.type('something');
        await term.waitFor((x) => bars(x).input.startsWith('tscrash> something'));
        term.keys('C-c');
        await term.waitFor((x) => /^tscrash>\s*$/.test(bars(x).input));

        // Resize to 80x24 and back: the status bar and the input line stay, laid out for the new width.
        term.resize(80, 24);
        s = await term.waitFor((x) => x.split('\n').length <= 25 && /PANIC: /.test(bars(x).status));
        assert.ok(bars(s).status.length <= 80);
        assert.match(bars(s).input, /^tscrash>/);
        term.resize(120, 40);
        s = await term.waitFor((x) => x.split('\n').length >= 40 && /PANIC: .* \| PID: /.test(bars(x).status));
        assert.match(bars(s).input, /^tscrash>/);

        // Ctrl-F: find a line of ps's output that has scrolled away (the first task) in the scrollback.
        const firstTask = ps[1]!.trimEnd();
        const comm = firstTask.split(/\s+/).pop()!;
        term.keys('C-f');
        await term.waitFor((x) => bars(x).input.startsWith('search:'));
        term.type(firstTask.replace(/^>/, '').trim());
        term.keys('Enter');
        s = await term.waitFor((x) => /: line \d+ of \d+/.test(bars(x).status));
        assert.ok(
          s.split('\n').some((l) => l.trimEnd() === firstTask),
          `the match is shown:\n${s}`,
        );
        assert.ok(s.includes(comm));
        // Escape ends the search; End only once it has (sent at once, the two can arrive as one Alt-End).
        term.keys('Escape');
        await term.waitFor((x) => !bars(x).input.startsWith('search:'));
        term.keys('End');
        await term.waitFor((x) => bars(x).input.startsWith('tscrash>'));

        // q quits and gives the terminal back.
        term.type('q');
        term.keys('Enter');
        s = await term.waitFor(/SESSION-ENDED 0/);
      } finally {
        term.kill();
      }
    });

  test('NO_COLOR, Tab completion, and the history shared with the line mode (mode 0600)', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const home = mkdtempSync(join(tmpdir(), 'tscrash-home-'));
    const vmcore = m.files['kdump-c-d31']!.path;
    const term = new Tmux(`'${BIN}' '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED $?; sleep 60`, 100, 30, {
      HOME: home,
      NO_COLOR: '1',
    });
    try {
      await term.waitFor((x) => /PANIC: /.test(bars(x).status));
      // Tab: a unique command completes; then a struct member after TYPE.
      term.type('sy');
      term.keys('Tab');
      await term.waitFor((x) => /^\s*sym\s+sys\s*$/m.test(x), 10_000);
      term.type('s');
      term.keys('Tab');
      await term.waitFor((x) => bars(x).input.startsWith('tscrash> sys'));
      term.keys('Enter');
      await term.waitFor(/RELEASE: /);
      term.type('struct list_head.n');
      term.keys('Tab');
      await term.waitFor((x) => bars(x).input.startsWith('tscrash> struct list_head.next'));
      term.keys('C-c');
      // No colour escapes on the screen with NO_COLOR (inverse video for the bars only).
      const escapes = term.tmux('capture-pane', '-t', 't', '-p', '-e');
      const sgr = escapes
        .split(`${String.fromCharCode(27)}[`)
        .slice(1)
        .map((x) => /^[0-9;]*m/.exec(x)?.[0] ?? '')
        .filter(Boolean);
      const colours = sgr.filter((x) =>
        x
          .slice(0, -1)
          .split(';')
          .some((p) => /^(?:3[0-79]|9[0-7]|4[0-79]|10[0-7])$/.test(p) && p !== '39' && p !== '49'),
      );
      assert.deepEqual(colours, [], 'no colours');
      term.type('q');
      term.keys('Enter');
      await term.waitFor(/SESSION-ENDED 0/);
    } finally {
      term.kill();
    }
    const file = join(home, '.tscrash_history');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n'), ['sys', 'q']);
    // The line mode reads the same history: Up brings back the TUI's last command.
    const line = new Tmux(`'${BIN}' --line '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED $?; sleep 60`, 100, 30, {
      HOME: home,
    });
    try {
      await line.waitFor(/^tscrash>\s*$/m);
      line.keys('Up', 'Up');
      await line.waitFor(/^tscrash> sys$/m);
      line.keys('C-c');
      line.keys('q', 'Enter');
      await line.waitFor(/SESSION-ENDED 0/);
    } finally {
      line.kill();
    }
  });

  test("mce without a vmlinux: the panic in the status bar, bt from kallsyms, the task pane from the dump's BTF", async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const dir = join(m.files.elf!.path, '..');
    const panic = /PANIC: "(.*)"/.exec(oracle(dir, 'crash-sys.txt'))![1]!;
    const crashBt = oracle(dir, 'crash-bt.txt');
    // No vmlinux: TSCRASH_DEBUG_ROOT points where none is.
    const empty = mkdtempSync(join(tmpdir(), 'tscrash-nodebug-'));
    const term = new Tmux(`'${BIN}' '${m.files['kdump-c-d31']!.path}'; echo SESSION-ENDED $?; sleep 60`, 120, 40, {
      TSCRASH_DEBUG_ROOT: empty,
    });
    try {
      const s = await term.waitFor((x) => /PANIC: /.test(bars(x).status));
      const shown = /PANIC: (.*?)(…|\s+\|)/.exec(bars(s).status)![1]!.trim();
      assert.ok(shown.length >= 10 && panic.startsWith(shown), `"${shown}" is crash's "${panic}"`);
      // Said once at start: where types, symbols and unwinding come from.
      await term.waitFor(/types: BTF from the dump \(\d+ types\); symbols: kallsyms \(\d+\); unwinding: ORC/);
      term.keys('F2');
      // The task list, typed by the BTF the kernel carries: crash's tasks (its ps) by name.
      const comms = oracle(dir, 'crash-ps.txt')
        .split('\n')
        .slice(1)
        .filter((l) => l.trim())
        .map((l) =>
          l
            .trim()
            .split(/\s+/)
            .pop()!
            .replace(/^\[|\]$/g, ''),
        );
      assert.ok(comms.length >= 2);
      await term.waitFor((x) => /Tasks \(\d+\)/.test(x) && comms.every((c) => x.includes(c)), 30_000);
      term.type('bt');
      term.keys('Enter');
      // The frames crash prints for the panic task, by name.
      const names = [...crashBt.matchAll(/^ ?#\d+ \[[0-9a-f]+\] (\S+) at /gm)].map((x) => x[1]!).slice(0, 4);
      assert.ok(names.length >= 3);
      await term.waitFor((x) => names.every((n) => x.includes(` ${n} at `)), 30_000);
      term.type('q');
      term.keys('Enter');
      await term.waitFor(/SESSION-ENDED 0/);
    } finally {
      term.kill();
    }
  });

  test('k612 (a 6.12 kernel the rest of the suite does not open in a session): status bar, ps, the task pane, bt', async (t) => {
    const m = loadSample('k612', t);
    if (!m) return;
    const dir = join(m.files.elf!.path, '..');
    // The oracles of this kernel are drgn's (crash 8.0.2 does not open 6.12) and the kernel's own log.
    const panic = /\] (Kernel panic - not syncing: .*)$/m.exec(oracle(dir, 'drgn-dmesg.txt'))![1]!;
    const drgnTasks = JSON.parse(oracle(dir, 'drgn-tasks.json')) as { pid: number; comm: string; task: string }[];
    const facts = JSON.parse(oracle(dir, 'drgn-facts.json')) as { init_uts_release: string };
    const term = new Tmux(`'${BIN}' '${m.vmlinux}' '${m.files.elf!.path}'; echo SESSION-ENDED $?; sleep 60`, 120, 40);
    try {
      const s = await term.waitFor((x) => /PANIC: /.test(bars(x).status) && /PID: \d+/.test(bars(x).status));
      const shown = /PANIC: (.*?)(…|\s+\|)/.exec(bars(s).status)![1]!.trim();
      assert.ok(shown.length >= 10 && panic.startsWith(shown), `"${shown}" is the kernel's "${panic}"`);
      assert.ok(bars(s).status.includes(facts.init_uts_release.slice(0, 12)), "the release is drgn's");
      term.type('ps');
      term.keys('Enter');
      const last = drgnTasks.reduce((a, b) => (b.pid > a.pid ? b : a));
      const addr = last.task.replace(/^0x/, '');
      await term.waitFor((x) => x.split('\n').some((l) => l.includes(addr) && l.includes(last.comm.slice(0, 12))));
      term.keys('F2');
      const pane = await term.waitFor((x) => /Tasks \([1-9]\d*\)/.test(x));
      const count = Number(/Tasks \((\d+)\)/.exec(pane)![1]);
      assert.ok(count >= drgnTasks.length && count <= drgnTasks.length + 4, `${count} tasks, drgn ${drgnTasks.length}`);
      term.keys('F2');
      term.type('bt');
      term.keys('Enter');
      await term.waitFor(/ #\d+ \[[0-9a-f]+\] panic at /);
      term.type('q');
      term.keys('Enter');
      await term.waitFor(/SESSION-ENDED 0/);
    } finally {
      term.kill();
    }
  });
});
