/**
 * The line mode on a real terminal (tmux), as crash users expect: Ctrl-C at the prompt drops the line and gives
 * a new prompt; Ctrl-C during a command interrupts it and the session goes on; output longer than the terminal
 * goes through the pager (less -E -X -R), and not with -s; q ends the session.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSample } from '../lib/samples.js';
import { Tmux } from '../lib/tmux.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tscrash');

describe('tscrash --line on a terminal', () => {
  test('Ctrl-C at the prompt gives a new prompt and the session goes on; q ends it', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const term = new Tmux(
      `'${BIN}' --line '${m.vmlinux}' '${m.files['kdump-c-d31']!.path}'; echo SESSION-ENDED; sleep 60`,
      160,
      40,
    );
    try {
      await term.waitFor(/^tscrash>\s*$/m);
      term.keys('sys');
      await term.waitFor(/^tscrash> sys$/m);
      term.keys('C-c');
      await term.waitFor(/^tscrash> sys\^C\ntscrash>\s*$/m);
      term.keys('rd jiffies', 'Enter');
      const screen = await term.waitFor(/^[0-9a-f]{16}: {2}[0-9a-f]{16} /m);
      assert.doesNotMatch(screen, /SESSION-ENDED/);
      assert.doesNotMatch(screen, /RELEASE:/, 'the line dropped by Ctrl-C did not run');
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
    }
  });

  test('Ctrl-C interrupts a running command (kmem -p) and the session goes on', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const term = new Tmux(
      `'${BIN}' --line -s '${m.vmlinux}' '${m.files.elf!.path}'; echo SESSION-ENDED; sleep 60`,
      160,
      40,
    );
    try {
      await term.waitFor(/^tscrash>\s*$/m);
      term.keys('kmem -p', 'Enter');
      // The command's echo, or its first lines when they have already scrolled the echo away.
      await term.waitFor(/^tscrash> kmem -p$|^[0-9a-f]{16} +[0-9a-f]+ +[0-9a-f]+ /m);
      term.keys('C-c');
      const s = await term.waitFor(/^\(interrupted\)$/m, 20_000);
      assert.match(s, /^tscrash>\s*$/m);
      term.keys('sys', 'Enter');
      await term.waitFor(/RELEASE: \S+/);
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
    }
  });

  test('long output goes through the pager; with -s it does not', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    // The pager: ps (more lines than the 30-row terminal) stops at less's prompt; q gives the prompt back.
    const paged = new Tmux(`'${BIN}' --line '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED; sleep 60`, 120, 30, {
      PAGER: '',
    });
    try {
      await paged.waitFor(/^tscrash>\s*$/m);
      paged.keys('ps', 'Enter');
      let s = await paged.waitFor((x) => /^:\s*$/m.test(x.split('\n').slice(-2).join('\n')) && /PID\s+PPID/.test(x));
      assert.doesNotMatch(s.split('\n').slice(-3).join('\n'), /tscrash>/, 'the pager holds the output');
      paged.keys('q');
      s = await paged.waitFor(/^tscrash>\s*$/m);
      paged.keys('q', 'Enter');
      await paged.waitFor(/^SESSION-ENDED$/m);
    } finally {
      paged.kill();
    }
    // -s: no pager, the whole list and a new prompt.
    const plain = new Tmux(`'${BIN}' --line -s '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED; sleep 60`, 120, 30);
    try {
      await plain.waitFor(/^tscrash>\s*$/m);
      plain.keys('ps', 'Enter');
      const s = await plain.waitFor(
        (x) => /^tscrash>\s*$/.test(x.trimEnd().split('\n').pop() ?? '') && /\d+\s+\d+\s+\d+\s+[0-9a-f]{16}/.test(x),
      );
      assert.doesNotMatch(s, /^:\s*$/m);
      plain.keys('q', 'Enter');
      await plain.waitFor(/^SESSION-ENDED$/m);
    } finally {
      plain.kill();
    }
  });

  test("-i FILE on a terminal runs the file, then stays interactive (crash's way), in the line mode and the TUI", async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-i-'));
    const file = join(dir, 'cmds');
    writeFileSync(file, 'sys\nrd jiffies\n');
    const vmcore = m.files['kdump-c-d31']!.path;
    for (const mode of ['--line', '']) {
      const term = new Tmux(
        `'${BIN}' ${mode} -s -i '${file}' '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED; sleep 60`,
        120,
        40,
      );
      try {
        const s = await term.waitFor((x) => /RELEASE: \S+/.test(x) && /^[0-9a-f]{16}: {2}[0-9a-f]{16} /m.test(x));
        assert.match(s, /^tscrash> sys$/m, "the file's lines are shown as typed");
        assert.match(s, /^tscrash> rd jiffies$/m);
        // Still interactive: a typed command runs.
        term.keys('log -m | tail -1', 'Enter');
        await term.waitFor(/^\[\s*\d+\.\d+\] /m);
        term.keys('q', 'Enter');
        await term.waitFor(/^SESSION-ENDED$/m);
      } finally {
        term.kill();
      }
    }
  });

  test('--minimal on a terminal is the line mode (not the TUI); ! alone starts $SHELL, the prompt comes back after it', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const term = new Tmux(
      `'${BIN}' --minimal -s '${m.vmlinux}' '${m.files['kdump-c-d31']!.path}'; echo SESSION-ENDED; sleep 60`,
      160,
      40,
      { SHELL: '/bin/sh', PS1: 'SUBSHELL> ' },
    );
    try {
      let s = await term.waitFor(/^tscrash>\s*$/m);
      assert.match(s, /^NOTE: minimal mode commands: log, dis, rd, sym, eval, set, help and exit$/m);
      term.keys('ps', 'Enter');
      await term.waitFor(/^ps: command not available in minimal mode/m);
      term.keys('!', 'Enter');
      await term.waitFor(/^tscrash> !\nSUBSHELL> ?$/m);
      term.keys('echo IN-THE-SHELL-$((6*7))', 'Enter');
      await term.waitFor(/^IN-THE-SHELL-42$/m);
      term.keys('exit', 'Enter');
      s = await term.waitFor(/^IN-THE-SHELL-42\n(?:.*\n)*tscrash>\s*$/m);
      term.keys('!echo ESCAPED-$((2+3))', 'Enter');
      await term.waitFor(/^ESCAPED-5$/m);
      term.keys('q', 'Enter');
      await term.waitFor(/^SESSION-ENDED$/m);
    } finally {
      term.kill();
    }
  });
});
