/**
 * The line mode: crash's prompt with history (persisted, mode 0600, shared with the TUI) and completion; Ctrl-C
 * interrupts the running command and keeps the session, and at the prompt drops the line (crash's behaviour);
 * output longer than the terminal goes through a pager ($PAGER, else `less -E -X -R`) unless scrolling is off
 * (`-s`, `--no_scroll`, `set scroll off`). Scripts (-c, -i, a pipe) use runScript.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { OutputKind, RunResult } from '../commands/runner.js';
import type { Session } from './session.js';

export const HISTORY = join(homedir(), '.tscrash_history');
const MAX_HISTORY = 1000;

/** The history, newest first (the file holds it oldest first, one line each). */
export function loadHistory(): string[] {
  try {
    return existsSync(HISTORY)
      ? readFileSync(HISTORY, 'utf8').split('\n').filter(Boolean).reverse().slice(0, MAX_HISTORY)
      : [];
  } catch {
    return [];
  }
}

/** Save the history (newest first), mode 0600, under a temporary name renamed into place. */
export function saveHistory(lines: readonly string[]): void {
  try {
    const tmp = `${HISTORY}.${process.pid}.tmp`;
    writeFileSync(tmp, `${[...lines].slice(0, MAX_HISTORY).reverse().join('\n')}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, HISTORY);
  } catch {
    // History is a convenience; never fail the session over it.
  }
}

/** Command output is a byte string (one character a byte, as the dump holds them): written as those bytes. */
function writeOut(s: string): void {
  process.stdout.write(Buffer.from(s, 'latin1'));
}

/** Run lines non-interactively (from -c, -i or a pipe); returns the number of failed commands. */
export async function runScript(
  session: Session,
  lines: Iterable<string> | AsyncIterable<string>,
  echo: boolean,
): Promise<number> {
  let failed = 0;
  for await (const line of lines) {
    if (echo && line.trim()) process.stdout.write(`tscrash> ${line}\n`);
    const r = await session.run(line, writeOut);
    if (!r.ok) failed++;
    if (r.quit) break;
  }
  return failed;
}

export interface InteractiveOptions {
  /** Page long output (crash's scroll; off with -s, --no_scroll, `set scroll off`). */
  scroll: boolean;
  /** Lines to run first (-i FILE on a terminal), echoed like typed ones. */
  first?: string[];
}

/** The pager command: $PAGER, else less when installed. */
function pagerCommand(): string | undefined {
  if (process.env.PAGER) return process.env.PAGER;
  for (const p of ['/usr/bin/less', '/bin/less']) if (existsSync(p)) return `${p} -E -X -R`;
  return undefined;
}

/**
 * One command's output on the terminal: written directly while it fits the screen; once it fills a screen (or
 * has been held for a moment without filling one), it goes through the pager, which gets the terminal until it
 * ends. Quitting the pager interrupts the command.
 */
class Output {
  private held = '';
  private lines = 0;
  private pager: ChildProcess | undefined;
  private pagerDone: Promise<void> | undefined;
  private gone = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly session: Session,
    private readonly rl: Interface,
    private readonly pagerCmd: string | undefined,
  ) {}

  write = (s: string, _kind?: OutputKind): void => {
    if (this.gone) return;
    if (this.pager) {
      this.pager.stdin!.write(Buffer.from(s, 'latin1'));
      return;
    }
    if (!this.pagerCmd) {
      writeOut(s);
      return;
    }
    this.held += s;
    for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) this.lines++;
    if (this.lines >= (process.stdout.rows || 24) - 1) this.startPager();
    else this.timer ??= setTimeout(() => this.startPager(), 400);
  };

  private startPager(): void {
    clearTimeout(this.timer);
    if (this.pager || this.gone) return;
    this.rl.pause();
    process.stdin.setRawMode?.(false);
    const p = spawn('sh', ['-c', this.pagerCmd!], { stdio: ['pipe', 'inherit', 'inherit'] });
    this.pager = p;
    p.stdin!.on('error', () => undefined); // the user quit the pager: EPIPE
    this.pagerDone = new Promise((resolve) => {
      p.on('exit', () => {
        this.gone = true;
        this.session.interrupt();
        resolve();
      });
      p.on('error', () => {
        this.gone = true;
        resolve();
      });
    });
    p.stdin!.write(Buffer.from(this.held, 'latin1'));
    this.held = '';
  }

  /** The command ended: what is held is written; a pager is waited for, then the prompt gets the terminal back. */
  async end(): Promise<void> {
    clearTimeout(this.timer);
    if (!this.pager) {
      if (this.held) writeOut(this.held);
      return;
    }
    this.pager.stdin!.end();
    await this.pagerDone;
    process.stdin.setRawMode?.(true);
    this.rl.resume();
  }

  get paging(): boolean {
    return this.pager !== undefined && !this.gone;
  }
}

export async function interactive(session: Session, opts: InteractiveOptions): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'tscrash> ',
    history: loadHistory(),
    historySize: MAX_HISTORY,
    completer: (line: string, cb: (err: null, r: [string[], string]) => void): void => {
      session.complete(line).then(
        (c) => cb(null, [c.candidates, c.word]),
        () => cb(null, [[], line]),
      );
    },
  });
  let scroll = opts.scroll;
  const pagerCmd = pagerCommand();
  let busy: Output | undefined;
  // Ctrl-C: interrupts the running command (the session goes on); at the prompt it drops the line being typed
  // and gives a new prompt, as crash does. While the pager has the terminal, the signal comes to the process.
  rl.on('SIGINT', () => {
    if (busy) {
      session.interrupt();
      return;
    }
    process.stdout.write('^C\n');
    (rl as unknown as { line: string }).line = '';
    rl.prompt();
  });
  const onSignal = (): void => {
    if (busy) session.interrupt();
  };
  // Background work's lines (debuginfod's vmlinux): above the prompt, the line being typed drawn again after it;
  // during a command, after its output. Progress is the TUI's status bar's; here only the start and the end.
  const held: string[] = [];
  let prompted = false;
  session.onNotice?.((n) => {
    if (n.kind !== 'message') return;
    if (!prompted) {
      process.stderr.write(`${n.text}\n`);
      return;
    }
    if (busy) {
      held.push(n.text);
      return;
    }
    process.stdout.write('\r\x1b[K');
    process.stderr.write(`${n.text}\n`);
    rl.prompt(true);
  });
  process.on('SIGINT', onSignal);

  const runOne = async (line: string): Promise<RunResult> => {
    // set scroll and its aliases sf, sn: the pager is the line mode's.
    const m = /^\s*(?:set\s+scroll(?:\s+(on|off))?|(sf|sn))\s*$/.exec(line);
    if (m) {
      if (m[1]) scroll = m[1] === 'on';
      if (m[2]) scroll = m[2] === 'sn';
      process.stdout.write(`scroll: ${scroll ? `on (${pagerCmd ?? 'no pager'})` : 'off'}\n`);
      return { ok: true };
    }
    // `!` alone: an interactive shell on the terminal (crash's), the prompt back when it ends.
    if (line.trim() === '!') {
      rl.pause();
      process.stdin.setRawMode?.(false);
      try {
        const r = spawnSync(process.env.SHELL || '/bin/sh', [], { stdio: 'inherit' });
        if (r.error) process.stdout.write(`!: ${r.error.message}\n`);
        return { ok: !r.error && r.status === 0 };
      } finally {
        process.stdin.setRawMode?.(true);
        rl.resume();
      }
    }
    const out = new Output(session, rl, scroll && process.stdout.isTTY ? pagerCmd : undefined);
    busy = out;
    try {
      return await session.run(line, out.write);
    } finally {
      await out.end();
      busy = undefined;
      for (const t of held.splice(0)) process.stderr.write(`${t}\n`);
    }
  };

  try {
    for (const line of opts.first ?? []) {
      if (line.trim()) process.stdout.write(`tscrash> ${line}\n`);
      if ((await runOne(line)).quit) return;
    }
    rl.prompt();
    prompted = true;
    for await (const line of rl) {
      const r = await runOne(line);
      if (r.quit) break;
      rl.prompt();
    }
  } finally {
    process.off('SIGINT', onSignal);
    saveHistory((rl as unknown as { history: string[] }).history ?? []);
    rl.close();
  }
}
