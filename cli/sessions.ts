/**
 * The two kinds of session the faces run commands in (repl/session.ts): in this thread (scripts: -c, -i, a pipe),
 * or in a worker thread (a person at a terminal: the terminal stays live while a command runs, output appears as
 * it is produced, and Ctrl-C interrupts the command without losing the session).
 */
import { Worker } from 'node:worker_threads';
import { type Completion, completeLine } from '../commands/complete.js';
import { registerBuiltins } from '../commands/index.js';
import { MINIMAL_COMMANDS, setMinimalMode } from '../commands/mode.js';
import { type JsonLine, setOutputFormat } from '../commands/result.js';
import { type RunResult, runLine, type Writer } from '../commands/runner.js';
import { loadPlugins, type PluginSpec } from '../plugins/loader.js';
import { registerScriptCommands } from '../plugins/script.js';
import { Program } from '../program/index.js';
import type { Notice, Session, SessionInfo } from '../repl/session.js';

export interface SessionOpenOptions {
  vmcore?: string;
  vmlinux?: string;
  force: boolean;
  json: boolean;
  /** Build the vmlinux's name index in the background when it is not cached (an interactive session). */
  backgroundIndex: boolean;
  /** The plugins to load (plugins/loader.ts discoverPlugins), in the thread that runs the commands. */
  plugins?: PluginSpec[];
  /** crash's --minimal: only the commands that need no start-up work (commands/mode.ts); no module access. */
  minimal?: boolean;
  /** crash's --no_modules. */
  noModules?: boolean;
  /** crash's --kaslr: 'auto' (the dump's), or the offset. */
  kaslr?: bigint | 'auto';
}

/** The Program of a session, opened as its options say (in this thread or in the session's worker). */
export function openProgram(opts: SessionOpenOptions): Program {
  const program = Program.open({
    vmcore: opts.vmcore,
    vmlinux: opts.vmlinux,
    force: opts.force,
    kaslr: opts.kaslr,
    // crash's minimal mode does no module initialisation either.
    noModules: opts.noModules || opts.minimal,
  });
  if (opts.noModules) program.warnings.push('WARNING: no kernel module access (--no_modules)');
  if (opts.minimal) {
    setMinimalMode(program);
    program.warnings.push(`NOTE: minimal mode commands: ${MINIMAL_COMMANDS.join(', ')} and exit`);
  }
  if (opts.json) setOutputFormat(program, 'json');
  return program;
}

/** Messages from the terminal's thread to the session's worker. */
export type ToSession =
  | { t: 'run'; id: number; line: string }
  | { t: 'query'; id: number; line: string }
  | { t: 'complete'; id: number; line: string }
  /** Take this vmlinux (debuginfod's, downloaded while the session ran on BTF), between two commands. */
  | { t: 'vmlinux'; id: number; path: string }
  | { t: 'close'; id: number };

/** Messages from the session's worker. */
export type ToTerminal =
  | { t: 'ready'; info: SessionInfo }
  | { t: 'fail'; message: string }
  | { t: 'out'; id: number; s: string; kind: 'out' | 'error' }
  | { t: 'done'; id: number; res: RunResult }
  | { t: 'json'; id: number; text: string }
  | { t: 'completion'; id: number; completion: Completion }
  /** The answer to 'vmlinux': taken or not, and the line that says so. */
  | { t: 'switched'; id: number; ok: boolean; message: string }
  | { t: 'failed'; id: number; message: string };

/** Without a vmlinux: the dump's BTF is loaded now, and the line says what the session has. */
function noVmlinuxSources(program: Program): string {
  if (!program.hasDump) return '';
  program.loadBtf();
  const line = program.sourcesLine();
  return program.btf ? line : `${line} (memory-only commands: log, rd, vtop, sys; bt and sym from kallsyms)`;
}

/**
 * What the faces show of the session. `sources`: whether the banner says where types and symbols come from
 * (an interactive session, which shows it; loading the dump's BTF and kallsyms for it costs a script).
 */
export function sessionInfo(program: Program, opts: SessionOpenOptions, sources = true): SessionInfo {
  const i = program.hasDump ? program.dump.info : undefined;
  const release = program.hasDump ? (program.vmcoreinfo.osrelease ?? undefined) : undefined;
  const banner =
    (i
      ? `tscrash: ${opts.vmcore} (${i.format}${i.compression ? `, ${i.compression.join('/')}` : ''}), ${release ?? 'unknown release'}\n`
      : `tscrash: ${opts.vmlinux} (no dump: types and symbols only)\n`) +
    `${opts.vmlinux || !sources ? '' : `${noVmlinuxSources(program)}\n`}type help for the commands, q to quit\n`;
  return { vmcore: opts.vmcore, vmlinux: opts.vmlinux, release, banner, warnings: [...program.warnings] };
}

function parseJson(text: string, line: string): JsonLine {
  try {
    return JSON.parse(text) as JsonLine;
  } catch {
    return { command: line, ok: false, error: { kind: 'Error', message: text.trim() } };
  }
}

/** A session in this thread. */
export class LocalSession implements Session {
  readonly info: SessionInfo;
  private stop = false;

  constructor(
    readonly program: Program,
    opts: SessionOpenOptions,
  ) {
    this.info = sessionInfo(program, opts, false);
  }

  static async open(opts: SessionOpenOptions): Promise<LocalSession> {
    registerBuiltins();
    registerScriptCommands();
    const failed: string[] = [];
    await loadPlugins(opts.plugins ?? [], (l) => failed.push(l));
    const program = openProgram(opts);
    const s = new LocalSession(program, opts);
    s.info.warnings.push(...failed);
    return s;
  }

  run(line: string, write: Writer): Promise<RunResult> {
    this.stop = false;
    return runLine(this.program, line, write, { interrupted: () => this.stop, record: true });
  }

  interrupt(): void {
    this.stop = true;
  }

  async complete(line: string): Promise<Completion> {
    return completeLine(this.program, line);
  }

  async query(line: string): Promise<JsonLine> {
    let text = '';
    await runLine(this.program, line, (s) => (text += s), { format: 'json' });
    return parseJson(text, line);
  }

  async close(): Promise<void> {
    this.program.close();
  }
}

interface Pending {
  resolve: (m: ToTerminal) => void;
  write?: Writer;
  /** Interrupted: output still on its way is dropped, and the run reports `(interrupted)` even if it had ended. */
  interrupted?: boolean;
}

/** A session in a worker thread. */
export class WorkerSession implements Session {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly flag: Int32Array;
  private dead: string | undefined;
  private running: number | undefined;
  private interrupted: number | undefined;
  private noticeHandler: ((n: Notice) => void) | undefined;
  /** Notices from before a face set its handler: messages are kept for it; only the last progress. */
  private readonly early: Notice[] = [];

  private constructor(
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    readonly info: SessionInfo,
  ) {
    this.flag = new Int32Array(sab);
    worker.on('message', (m: ToTerminal) => {
      if (m.t === 'ready' || m.t === 'fail') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.t === 'out') {
        if (!p.interrupted) p.write?.(m.s, m.kind);
      } else {
        this.pending.delete(m.id);
        p.resolve(m);
      }
    });
    const lost = (why: string): void => {
      this.dead = why;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.resolve({ t: 'failed', id, message: why });
      }
    };
    worker.on('error', (e) => lost(`the session's worker failed: ${e.message}`));
    worker.on('exit', (code) => lost(`the session's worker ended (exit ${code})`));
  }

  static async open(opts: SessionOpenOptions): Promise<WorkerSession> {
    const sab = new SharedArrayBuffer(4);
    const here = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const script = new URL(`./session-worker${here}`, import.meta.url);
    const workerData = { ...opts, flag: sab };
    // From TypeScript sources (tests under tsx), the worker registers tsx itself before loading the script.
    const worker =
      here === '.ts'
        ? new Worker(
            `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); })`,
            { eval: true, workerData },
          )
        : new Worker(script, { workerData });
    const info = await new Promise<SessionInfo>((resolve, reject) => {
      const onMessage = (m: ToTerminal): void => {
        if (m.t === 'ready') {
          worker.off('message', onMessage);
          resolve(m.info);
        } else if (m.t === 'fail') {
          worker.off('message', onMessage);
          reject(new Error(m.message));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`the session's worker ended (exit ${code}) before it opened the dump`)),
      );
    });
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    return new WorkerSession(worker, sab, info);
  }

  private request(m: ToSession, write?: Writer): Promise<ToTerminal> {
    if (this.dead) return Promise.resolve({ t: 'failed', id: m.id, message: this.dead });
    return new Promise((resolve) => {
      this.pending.set(m.id, { resolve, write });
      this.worker.postMessage(m);
    });
  }

  async run(line: string, write: Writer): Promise<RunResult> {
    const id = this.nextId++;
    // The flag is cleared here, not in the worker, so that a Ctrl-C before the worker starts the line counts.
    Atomics.store(this.flag, 0, 0);
    this.running = id;
    const r = await this.request({ t: 'run', id, line }, write);
    const dropped = this.interrupted === id;
    this.running = undefined;
    if (r.t === 'done') {
      // The command had produced more than the terminal had shown when Ctrl-C came: the rest is dropped.
      if (dropped) {
        write('(interrupted)\n', 'error');
        return { ok: false, interrupted: true };
      }
      return r.res;
    }
    write(`${r.t === 'failed' ? r.message : 'no answer'}\n`, 'error');
    return { ok: false };
  }

  interrupt(): void {
    Atomics.store(this.flag, 0, 1);
    if (this.running === undefined) return;
    this.interrupted = this.running;
    const p = this.pending.get(this.running);
    if (p) p.interrupted = true;
  }

  async complete(line: string): Promise<Completion> {
    const r = await this.request({ t: 'complete', id: this.nextId++, line });
    return r.t === 'completion' ? r.completion : { candidates: [], word: '' };
  }

  async query(line: string): Promise<JsonLine> {
    const r = await this.request({ t: 'query', id: this.nextId++, line });
    if (r.t === 'json') return parseJson(r.text, line);
    return { command: line, ok: false, error: { kind: 'Error', message: r.t === 'failed' ? r.message : 'no answer' } };
  }

  onNotice(handler: (n: Notice) => void): void {
    this.noticeHandler = handler;
    for (const n of this.early.splice(0)) handler(n);
  }

  /** Show a notice of the session's background work (cli/debuginfod.ts's download) in the face. */
  notice(n: Notice): void {
    if (this.noticeHandler) {
      this.noticeHandler(n);
      return;
    }
    if (n.kind === 'progress') {
      const i = this.early.findIndex((x) => x.kind === 'progress');
      if (i >= 0) this.early.splice(i, 1);
    }
    this.early.push(n);
  }

  /**
   * Move the session to this vmlinux (Program.useVmlinux in the worker): queued behind the command running now,
   * so that it happens between two commands. The message is the line to show either way.
   */
  async useVmlinux(path: string): Promise<{ ok: boolean; message: string }> {
    const r = await this.request({ t: 'vmlinux', id: this.nextId++, path });
    if (r.t === 'switched') return { ok: r.ok, message: r.message };
    return { ok: false, message: `debuginfod: ${path} not used: ${r.t === 'failed' ? r.message : 'no answer'}` };
  }

  async close(): Promise<void> {
    if (this.dead) return;
    const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ t: 'close', id: this.nextId++ } satisfies ToSession);
    await Promise.race([done, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }
}
