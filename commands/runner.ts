/**
 * Runs one command line as crash does: `cmd args`, `cmd args > file`,
 * `cmd args >> file`, `cmd args | shell command`. Output goes to the session's
 * writer, a file (created mode 0600), or a shell pipeline. Errors are printed
 * as `cmd: message` and never end the session.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandError, InterruptedError, TscrashError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { aliasFor, inputState, isHistoryCommand, repeatRequest } from './lib/input.js';
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
  /**
   * A line the user entered (the session's run, not a pane's query or a plugin's call): it is kept in the
   * session's numbered history (`h`), and `r`, `!!`, `!N` run a line of it again.
   */
  record?: boolean;
  /** The prompt a re-run line is shown after (default `tscrash> `). */
  prompt?: string;
}

/** An unquoted ` < FILE` at the end of a line, outside parentheses, naming a file that exists: crash's input file. */
function inputFile(line: string): { command: string; file: string } | undefined {
  const m = /^(.*?)(?:^|\s)<\s*(\S+)\s*$/.exec(line);
  if (!m) return undefined;
  const before = m[1]!;
  let quote: string | undefined;
  let depth = 0;
  for (const ch of before) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(' || ch === '[') depth++;
    else if ((ch === ')' || ch === ']') && depth > 0) depth--;
  }
  if (quote || depth > 0) return undefined;
  try {
    if (!statSync(m[2]!).isFile()) return undefined;
  } catch {
    // `p a < b` with no file b is an expression
    if (before.trim()) return undefined;
  }
  return { command: before.trim(), file: m[2]! };
}

/**
 * Run one line, with crash's input conventions first: a line of the history again (`r`, `!!`, `!N`, shown after
 * the prompt), the history kept, `< FILE` (FILE's lines as commands) and `CMD ARGS < FILE` (CMD ARGS LINE for each
 * of FILE's lines), `#` and `//` comments.
 */
export async function runLine(
  program: Program,
  line: string,
  write: Writer,
  opts: RunOptions = {},
): Promise<RunResult> {
  const trimmed = line.trim();
  if (!trimmed) return { ok: true };
  const format = opts.format ?? outputFormat(program);
  const failure = (message: string): RunResult => {
    write(
      format === 'json'
        ? jsonLine({ command: trimmed, ok: false, error: { kind: 'CommandError', message } })
        : `${message}\n`,
      'error',
    );
    return { ok: false };
  };
  const inner = { ...opts, record: false };
  if (opts.record) {
    const history = inputState(program).history;
    const again = repeatRequest(history, trimmed);
    if (again && 'error' in again) return failure(again.error);
    if (again) {
      if (format === 'text') write(`${opts.prompt ?? 'tscrash> '}${again.line}\n`);
      history.push(again.line);
      return runLine(program, again.line, write, inner);
    }
    if (!isHistoryCommand(trimmed)) history.push(trimmed);
  }
  if (trimmed.startsWith('#') || trimmed.startsWith('//')) return { ok: true };
  if (!trimmed.startsWith('!')) {
    const input = inputFile(trimmed);
    if (input) {
      let lines: string[];
      try {
        lines = readFileSync(input.file, 'latin1').split('\n');
      } catch (e) {
        return failure(
          `${input.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
        );
      }
      let ok = true;
      for (const l of lines) {
        if (!l.trim()) continue;
        const r = await runLine(program, input.command ? `${input.command} ${l.trim()}` : l, write, inner);
        if (r.quit || r.interrupted) return { ...r, ok: ok && r.ok };
        ok &&= r.ok;
      }
      return { ok };
    }
  }
  return runCommandLine(program, trimmed, write, opts);
}

/**
 * Run one command line; `write` receives everything the user should see, as it is produced (a long command's output
 * streams; with `> file` or `| shell` it is gathered first). In a JSON session (`set output json`) each
 * command line gives one JSON document on a line: its result, or its error.
 */
async function runCommandLine(program: Program, trimmed: string, write: Writer, opts: RunOptions): Promise<RunResult> {
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
  // An alias (the session's, then crash's built-in ones) stands for its command string, the rest appended.
  const aliased = hasCommand(name) ? undefined : aliasFor(program, name);
  if (aliased !== undefined) {
    try {
      [name, ...args] = [...splitWords(aliased), ...args];
    } catch (e) {
      return failure(errorKind(e), (e as Error).message);
    }
    if (!name) return { ok: true };
  }
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
  if (!cmd) {
    // As in crash, a kernel variable's name is printed (p), a structure's, union's or typedef's shown.
    const dispatch = await nameCommand(program, name);
    if (dispatch)
      return runCommandLine(program, `${dispatch} ${parsed.command}${rest(trimmed, parsed.command)}`, write, opts);
    return failure('CommandError', `${name}: command not found (help lists the commands)`);
  }
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

/** The redirection or pipe after a line's command, as written. */
function rest(line: string, command: string): string {
  return line.startsWith(command) ? line.slice(command.length) : '';
}

/** The command crash passes an unknown word to: p for a variable, struct/union for their tags, whatis for a typedef. */
async function nameCommand(program: Program, name: string): Promise<string | undefined> {
  if (!/^[A-Za-z_]\w*$/.test(name)) return undefined;
  try {
    if (program.hasDump && program.symbolAddress(name) !== undefined) return 'p';
    if (!program.hasDebugInfo && program.canLoadTypes) await program.loadTypes();
    if (!program.hasDebugInfo) return undefined;
    if (program.hasType(`struct ${name}`)) return 'struct';
    if (program.hasType(`union ${name}`)) return 'union';
    if (program.hasType(name)) return 'whatis';
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
  }
  return undefined;
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
