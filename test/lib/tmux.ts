/**
 * A real terminal for tests: a tmux server of its own (one socket per test), keys sent with send-keys, the
 * screen read with capture-pane.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export class Tmux {
  readonly socket = `tscrash-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(cmd: string, width = 120, height = 40, env: Record<string, string> = {}) {
    const vars = Object.entries({ TERM: 'xterm-256color', LANG: 'C.UTF-8', TZ: 'UTC', ...env })
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    this.tmux('new-session', '-d', '-s', 't', '-x', String(width), '-y', String(height), `env ${vars} ${cmd}`);
  }

  tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (r.error) throw r.error;
    return r.stdout;
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 't', ...keys);
  }

  /** Type text literally (no key names). */
  type(text: string): void {
    this.tmux('send-keys', '-t', 't', '-l', text);
  }

  screen(): string {
    return this.tmux('capture-pane', '-t', 't', '-p');
  }

  lines(): string[] {
    return this.screen().replace(/\n$/, '').split('\n');
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', 't', '-x', String(width), '-y', String(height));
  }

  async waitFor(test: RegExp | ((screen: string) => boolean), ms = 60_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = this.screen();
      if (typeof test === 'function' ? test(s) : test.test(s)) return s;
      if (Date.now() > end) throw new Error(`the terminal never showed ${test}:\n${s}`);
      await sleep(50);
    }
  }

  kill(): void {
    this.tmux('kill-server');
  }
}
