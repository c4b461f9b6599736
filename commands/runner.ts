/**
 * Runs one command line as crash does: `cmd args`, `cmd args > file`,
 * `cmd args >> file`, `cmd args | shell command`. Output goes to the session's
 * writer, a file (created mode 0600), or a shell pipeline. Errors are printed
 * as `cmd: message` and never end the session.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandError, InterruptedError, TscrashError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { isMinimalMode, MINIMAL_COMMANDS, notInMinimalMode } from './mode.js';
import { type CommandContext, hasCommand, type OutputFormat, resolveCommand } from './registry.js';
import { errorKind, type JsonLine, jsonLine, outputFormat, toJsonValue } from './result.js';

/** Split a line into words, honouring single and double quotes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) words.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (quote) throw new CommandError(`unterminated ${quote} quote`);
  if (has || cur) words.push(cur);
  return words;
}

interface Parsed {
  command: string;
  pipe?: string;
  file?: { path: string; append: boolean };
}

/**
 * Find an unquoted `|` or `>` and split the line there. A `->` (member access) and anything inside
 * parentheses or brackets belong to the command's expression, as in crash.
 */
export function parseLine(line: string): Parsed {
  let quote: string | undefined;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if ((ch === ')' || ch === ']') && depth > 0) depth--;
    else if (depth > 0 || (ch === '>' && line[i - 1] === '-')) continue;
    else if (ch === '|') return { command: line.slice(0, i).trim(), pipe: line.slice(i + 1).trim() };
    else if (ch === '>') {
      const append = line[i + 1] === '>';
      const path = line.slice(i + (append ? 2 : 1)).trim();
      if (!path) throw new CommandError('redirection without a file name');
      return { command: line.slice(0, i).trim(), file: { path, append } };
    }
  }
  return { command: line.trim() };
}

function writePrivate(path: string, text: string, append: boolean): void {
  if (append && existsSync(path)) {
    appendFileSync(path, text, 'latin1');
    return;
  }
  const tmp = join(dirname(path), `.${path.split('/').pop()}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  writeSync(fd, text, null, 'latin1');
  closeSync(fd);
  renameSync(tmp, path);
}

/** How a command line went: ok, quit asked, interrupted. */
export interface RunResult {
  ok: boolean;
  quit?: boolean;
  /** The command was interrupted (Ctrl-C): what it printed until then was written, then `(interrupted)`. */
  interrupted?: boolean;
}

/** What a piece of output is: the command's output, or an error message (the TUI shows errors in red). */
export type OutputKind = 'out' | 'error';

/** Writes what the user should see. */
export type Writer = (s: string, kind?: OutputKind) => void;

export interface RunOptions {
  /**
   * Polled while the command runs (at each piece of output and each page read of the dump): true when the user
   * has interrupted it. The command then stops with an InterruptedError; the session goes on.
   */
  interrupted?: () => boolean;
  /** The output form for this line (default: the session's, `set output`). */
  format?: OutputFormat;
}

/**
 * Run one line; `write` receives everything the user should see, as it is produced (a long command's output
 * streams; with `> file` or `| shell` it is gathered first). In a JSON session (`set output json`) each
 * command line gives one JSON document on a line: its result, or its error.
 */
export async function runLine(
  program: Program,
  line: string,
  write: Writer,
  opts: RunOptions = {},
): Promise<RunResult> {
  const trimmed = line.trim();
  if (!trimmed || trimmed.startsWith('#')) return { ok: true };
  const format = opts.format ?? outputFormat(program);
  const failure = (kind: string, message: string): RunResult => {
    write(
      format === 'json' ? jsonLine({ command: trimmed, ok: false, error: { kind, message } }) : `${message}\n`,
      'error',
    );
    return { ok: false };
  };
  // crash's shell escape: `!CMD` runs CMD in the shell (the whole rest of the line: its pipes and redirections
  // are the shell's); its output is the command's output.
  if (trimmed.startsWith('!')) return shellEscape(trimmed, trimmed.slice(1).trim(), write, format, opts);
  let parsed: Parsed;
  let words: string[];
  try {
    parsed = parseLine(trimmed);
    words = splitWords(parsed.command);
  } catch (e) {
    return failure(errorKind(e), (e as Error).message);
  }
  let [name, ...args] = words;
  if (!name) return { ok: true };
  // gdb-style format suffixes: `p/x expr`.
  const fmt = /^(\w+)(\/\w+)$/.exec(name);
  if (fmt && hasCommand(fmt[1]!)) {
    name = fmt[1]!;
    args = [fmt[2]!, ...args];
  }
  // crash's pointer-to command: `*list_head ADDR` (or `* list_head ADDR`).
  if (name.startsWith('*') && name.length > 1) {
    args = [name.slice(1), ...args];
    name = '*';
  }
  if (name === 'q' || name === 'quit' || name === 'exit') return { ok: true, quit: true };
  let cmd: Awaited<ReturnType<typeof resolveCommand>>;
  try {
    cmd = await resolveCommand(name);
  } catch (e) {
    return failure('LoadError', `${name}: the command could not be loaded: ${(e as Error).message}`);
  }
  if (!cmd) return failure('CommandError', `${name}: command not found (help lists the commands)`);
  if (isMinimalMode(program) && !MINIMAL_COMMANDS.includes(cmd.name))
    return failure('CommandError', notInMinimalMode(name));
  // Text for the session's own writer streams as it is produced; JSON, files and pipes get it whole.
  const stream = format === 'text' && !parsed.file && !parsed.pipe;
  let text = '';
  let ok = true;
  let interrupted = false;
  let result: unknown;
  let error: { kind: string; message: string } | undefined;
  const poll = opts.interrupted;
  const check = (): void => {
    if (poll?.()) throw new InterruptedError();
  };
  const ctx: CommandContext = {
    program,
    out: (s: string) => {
      check();
      if (stream) write(s);
      else text += s;
    },
    format,
  };
  // The dump's read warnings (pages read from damaged bitmaps or descriptors) this command's reads add.
  const readWarnings = program.hasDump ? program.dump.readWarnings : undefined;
  const warned = readWarnings?.length ?? 0;
  const memory = poll && program.hasDump ? program.memory : undefined;
  const before = memory?.interruptCheck;
  if (memory) memory.interruptCheck = check;
  try {
    if (cmd.usesTypes !== false && !program.hasDebugInfo && program.canLoadTypes) await program.loadTypes();
    result = await cmd.run(ctx, args);
    // The text view of a result-model command; in a JSON session the result itself is printed.
    if (result !== undefined && cmd.text && format === 'text') cmd.text(result, ctx);
  } catch (e) {
    ok = false;
    interrupted = e instanceof InterruptedError;
    const msg = e instanceof TscrashError ? e.message : e instanceof Error ? `${e.message}` : String(e);
    // The command's name once: a message that already starts with it (a plugin's, say) is not prefixed again.
    const named = [name, cmd.name].some((n) => msg.startsWith(`${n}: `) || msg.startsWith(`${n} `))
      ? msg
      : `${name}: ${msg}`;
    error = { kind: errorKind(e), message: interrupted ? msg : named };
    let shown = interrupted ? '(interrupted)\n' : `${named}\n`;
    if (!(e instanceof TscrashError) && process.env.TSCRASH_DEBUG && e instanceof Error) shown += `${e.stack}\n`;
    if (stream) write(shown, 'error');
    else text += shown;
  } finally {
    if (memory) memory.interruptCheck = before;
  }
  if (readWarnings && readWarnings.length > warned && format === 'text') {
    const shown = readWarnings
      .slice(warned)
      .map((w) => `WARNING: ${w}\n`)
      .join('');
    if (stream) write(shown, 'error');
    else text += shown;
  }
  if (format === 'json') {
    const doc: JsonLine = error
      ? { command: trimmed, ok: false, error }
      : { command: trimmed, ok: true, result: toJsonValue(result !== undefined && cmd.text ? result : { text }) };
    text = jsonLine(doc);
  }
  try {
    if (parsed.file) writePrivate(parsed.file.path, text, parsed.file.append);
    else if (parsed.pipe) {
      const r = spawnSync('sh', ['-c', parsed.pipe], { input: text, encoding: 'latin1', maxBuffer: 1 << 30 });
      write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    } else if (!stream) write(text, ok ? 'out' : 'error');
  } catch (e) {
    write(
      format === 'json'
        ? jsonLine({ command: trimmed, ok: false, error: { kind: errorKind(e), message: (e as Error).message } })
        : `${name}: ${(e as Error).message}\n`,
      'error',
    );
    ok = false;
  }
  return interrupted ? { ok, interrupted } : { ok };
}

/**
 * `!CMD`: CMD in `sh -c`, its output (stdout, then what it writes to stderr, as an error) streaming as it comes;
 * an interrupt ends it. It fails when the shell says so (a non-zero exit). `!` alone (an interactive shell) is the
 * line mode's, which has the terminal (repl/line.ts); elsewhere it is refused.
 */
async function shellEscape(
  line: string,
  command: string,
  write: Writer,
  format: OutputFormat,
  opts: RunOptions,
): Promise<RunResult> {
  const json = format === 'json';
  if (!command) {
    const message = '!: an interactive shell needs the line mode on a terminal; give a command: !CMD';
    write(
      json ? jsonLine({ command: line, ok: false, error: { kind: 'CommandError', message } }) : `${message}\n`,
      'error',
    );
    return { ok: false };
  }
  let text = '';
  const out = (s: string, kind: OutputKind): void => {
    if (json) text += s;
    else write(s, kind);
  };
  const r = await new Promise<{ code: number | null; signal: string | null; error?: Error; interrupted: boolean }>(
    (resolve) => {
      const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let interrupted = false;
      const poll = setInterval(() => {
        if (opts.interrupted?.() && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
        }
      }, 50);
      child.stdout.on('data', (b: Buffer) => out(b.toString('latin1'), 'out'));
      child.stderr.on('data', (b: Buffer) => out(b.toString('latin1'), 'error'));
      child.on('error', (error) => {
        clearInterval(poll);
        resolve({ code: null, signal: null, error, interrupted });
      });
      child.on('close', (code, signal) => {
        clearInterval(poll);
        resolve({ code, signal, interrupted });
      });
    },
  );
  if (r.interrupted) {
    write(
      json
        ? jsonLine({ command: line, ok: false, error: { kind: 'InterruptedError', message: 'interrupted' } })
        : '(interrupted)\n',
      'error',
    );
    return { ok: false, interrupted: true };
  }
  const why = r.error
    ? `!: ${r.error.message}`
    : r.code !== 0
      ? `!: ${command}: ${r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`}`
      : undefined;
  if (json) {
    write(
      jsonLine(
        why
          ? { command: line, ok: false, error: { kind: 'ShellError', message: why } }
          : { command: line, ok: true, result: toJsonValue({ text }) },
      ),
      why ? 'error' : 'out',
    );
  } else if (r.error) write(`${why}\n`, 'error');
  return { ok: why === undefined };
}
