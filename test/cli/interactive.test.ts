/**
 * The interactive session on a real terminal (tmux): Ctrl-C at the prompt drops the line and gives a new prompt,
 * as crash does, and the session goes on; q ends it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSample } from '../lib/samples.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tscrash');

function tmux(socket: string, ...args: string[]): string {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.stdout;
}

async function waitFor(socket: string, re: RegExp, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const screen = tmux(socket, 'capture-pane', '-t', 't', '-p');
    if (re.test(screen)) return screen;
    if (Date.now() > end) throw new Error(`the terminal never showed ${re}:\n${screen}`);
    await sleep(200);
  }
}

describe('tscrash on a terminal', () => {
  test('Ctrl-C at the prompt gives a new prompt and the session goes on; q ends it', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const socket = `tscrash-test-${process.pid}`;
    const cmd = `'${BIN}' '${m.vmlinux}' '${m.files['kdump-c-d31']!.path}'; echo SESSION-ENDED; sleep 60`;
    tmux(socket, 'new-session', '-d', '-s', 't', '-x', '160', '-y', '40', cmd);
    try {
      await waitFor(socket, /^tscrash>\s*$/m);
      tmux(socket, 'send-keys', '-t', 't', 'sys');
      await waitFor(socket, /^tscrash> sys$/m);
      tmux(socket, 'send-keys', '-t', 't', 'C-c');
      await waitFor(socket, /^tscrash> sys\^C\ntscrash>\s*$/m);
      tmux(socket, 'send-keys', '-t', 't', 'rd jiffies', 'Enter');
      const screen = await waitFor(socket, /^[0-9a-f]{16}: {2}[0-9a-f]{16} /m);
      assert.doesNotMatch(screen, /SESSION-ENDED/);
      assert.doesNotMatch(screen, /RELEASE:/, 'the line dropped by Ctrl-C did not run');
      tmux(socket, 'send-keys', '-t', 't', 'q', 'Enter');
      await waitFor(socket, /^SESSION-ENDED$/m);
    } finally {
      tmux(socket, 'kill-server');
    }
  });
});
