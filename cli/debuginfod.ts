/**
 * The dump's vmlinux from debuginfod (symbols/debuginfod.ts) when none was given or found locally and
 * DEBUGINFOD_URLS names a server: by the kernel's build-id (VMCOREINFO BUILD-ID, else the GNU build-id note of the
 * kernel's own .notes, read through kallsyms), checked against it before use, with a progress bar on a terminal.
 *
 * `fetchVmlinux` is the event form (`available` with the path, `failed` with the reason, `progress`).
 * A session at a terminal starts at once on the dump's BTF and takes the vmlinux when it has come
 * (`vmlinuxInBackground`: the Program moves to its DWARF between two commands); scripts (-c, -i, a pipe, `tscrash
 * run`) wait for it before they start (`vmlinuxFromDebuginfod`), so that their output does not depend on when the
 * download ends; Ctrl-C while they wait goes on without it (the partial download is kept).
 */
import { EventEmitter } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotes } from '../core/elf-notes.js';
import { Program } from '../program/index.js';
import type { Notice } from '../repl/session.js';
import { elfIdentity } from '../symbols/build-id.js';
import {
  type DebuginfodConfig,
  type DebuginfodProgress,
  type DebuginfodResult,
  debuginfodConfig,
  fetchByBuildId,
} from '../symbols/debuginfod.js';

const ET_EXEC = 2;
const NT_GNU_BUILD_ID = 3;

/** The crashed kernel's build-id: VMCOREINFO's BUILD-ID, else the kernel's .notes in its memory (kallsyms). */
export function dumpBuildId(vmcore: string): string | undefined {
  const p = Program.open({ vmcore });
  try {
    const v = p.vmcoreinfo.buildId;
    if (v && /^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
    const start = p.symbolAddress('__start_notes');
    const stop = p.symbolAddress('__stop_notes');
    if (start === undefined || stop === undefined || stop <= start || stop - start > 1n << 16n) return undefined;
    const bytes = p.memory.readVirt(start, Number(stop - start), 'the kernel notes');
    for (const n of parseNotes(bytes, vmcore, 0)) {
      if (n.name === 'GNU' && n.type === NT_GNU_BUILD_ID) return Buffer.from(n.desc).toString('hex');
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    p.close();
  }
}

/** Why a file is not the vmlinux of this build-id, or undefined when it is. */
export function vmlinuxMismatch(path: string, buildId: string): string | undefined {
  let id: ReturnType<typeof elfIdentity>;
  try {
    id = elfIdentity(path);
  } catch (e) {
    return (e as Error).message;
  }
  if (!id) return 'not an ELF file';
  if (id.buildId !== buildId) return `its build-id is ${id.buildId ?? 'missing'}, the dump's kernel has ${buildId}`;
  if (id.type !== ET_EXEC) return `not a vmlinux (ELF type ${id.type}, not an executable)`;
  return undefined;
}

export interface VmlinuxFetchEvents {
  available: [path: string, result: Extract<DebuginfodResult, { ok: true }>];
  failed: [message: string, result: Extract<DebuginfodResult, { ok: false }>];
  progress: [p: DebuginfodProgress];
  verbose: [line: string];
}

/** A vmlinux on its way from debuginfod: `done` gives its path, or undefined once `failed` said why. */
export class VmlinuxFetch extends EventEmitter<VmlinuxFetchEvents> {
  private readonly controller = new AbortController();
  readonly done: Promise<string | undefined>;

  constructor(
    readonly cfg: DebuginfodConfig,
    readonly buildId: string,
  ) {
    super();
    this.done = fetchByBuildId(cfg, buildId, 'debuginfo', {
      check: (path) => vmlinuxMismatch(path, buildId),
      onProgress: (p) => this.emit('progress', p),
      onVerbose: (l) => this.emit('verbose', l),
      signal: this.controller.signal,
    }).then((r) => {
      if (r.ok) {
        this.emit('available', r.path, r);
        return r.path;
      }
      this.emit('failed', r.message, r);
      return undefined;
    });
  }

  /** Stop the download (what came is kept, to be resumed). */
  abort(): void {
    this.controller.abort();
  }
}

/** What takes the vmlinux when it has come: the session (cli/sessions.ts WorkerSession), between two commands. */
export interface VmlinuxTaker {
  notice(n: Notice): void;
  useVmlinux(path: string): Promise<{ ok: boolean; message: string }>;
}

/** The vmlinux of this build-id when the debuginfod cache has it already (and it is the one): no download. */
export function cachedVmlinux(cfg: DebuginfodConfig, buildId: string): string | undefined {
  const path = join(cfg.cacheDir, buildId, 'debuginfo');
  try {
    if (!statSync(path).isFile() || statSync(path).size === 0) return undefined;
  } catch {
    return undefined;
  }
  return vmlinuxMismatch(path, buildId) === undefined ? path : undefined;
}

/**
 * The plan for a session at a terminal with no local vmlinux: the cached vmlinux (used from the start), or
 * `start`, which begins the download and hands the file to the session when it is complete and checked; the
 * session meanwhile runs on the dump's BTF. Undefined when DEBUGINFOD_URLS names no server, or the dump names no
 * build-id (said on `err`).
 */
export function vmlinuxInBackground(
  vmcore: string,
  err: NodeJS.WritableStream = process.stderr,
  cfg = debuginfodConfig(),
): { cached: string } | { start: (session: VmlinuxTaker, onBtf: boolean) => VmlinuxFetch } | undefined {
  if (!cfg) return undefined;
  const buildId = dumpBuildId(vmcore);
  if (!buildId) {
    err.write(
      `debuginfod: ${vmcore} names no kernel build-id (VMCOREINFO BUILD-ID, the kernel's notes): not asking the servers\n`,
    );
    return undefined;
  }
  const cached = cachedVmlinux(cfg, buildId);
  if (cached) return { cached };
  return {
    start(session, onBtf) {
      const f = new VmlinuxFetch(cfg, buildId);
      const meanwhile = onBtf ? "the dump's BTF" : "the dump's kallsyms";
      const say = (text: string): void => session.notice({ kind: 'message', text: `debuginfod: ${text}` });
      let announced = false;
      const bar = frames((p) =>
        session.notice({ kind: 'progress', text: `debuginfod: vmlinux ${progressLine(p, performance.now(), 10)}` }),
      );
      f.on('verbose', (l) => say(l));
      f.on('progress', (p) => {
        if (!announced) {
          announced = true;
          say(`${fetchingLine(buildId, p)}; the session is on ${meanwhile} until it is here`);
        }
        bar.push(p);
      });
      f.on('available', (path) => {
        bar.stop();
        session.notice({ kind: 'progress', text: '' });
        void session.useVmlinux(path).then((r) => session.notice({ kind: 'message', text: r.message }));
      });
      f.on('failed', (message, r) => {
        bar.stop();
        session.notice({ kind: 'progress', text: '' });
        if (r.reason === 'interrupted') return;
        say(`no vmlinux: ${message}; the session stays on ${meanwhile}`);
      });
      return f;
    },
  };
}

/** What is said when a download starts: from where, how big, from where it resumes. */
function fetchingLine(buildId: string, p: DebuginfodProgress): string {
  return `fetching the vmlinux of ${buildId} from ${p.url}${p.total ? ` (${mib(p.total)} MiB)` : ''}${p.resumedFrom ? `, resuming at ${mib(p.resumedFrom)} MiB` : ''}`;
}

/**
 * A progress bar's frames, at most 10 a second: `push` the latest state (drawn now, or when 100 ms have passed since
 * the last frame; the last state is drawn even when nothing follows it), `flush` draws what is waiting, `stop` drops it.
 */
function frames(draw: (p: DebuginfodProgress) => void): {
  push(p: DebuginfodProgress): void;
  flush(): void;
  stop(): void;
} {
  let latest: DebuginfodProgress | undefined;
  let pending: NodeJS.Timeout | undefined;
  let last = 0;
  const flush = (): void => {
    if (pending) clearTimeout(pending);
    pending = undefined;
    if (!latest) return;
    last = performance.now();
    draw(latest);
  };
  return {
    push(p) {
      latest = p;
      const t = performance.now();
      if (t - last >= 100 || p.received === p.total) flush();
      else pending ??= setTimeout(flush, 100 - (t - last));
    },
    flush() {
      if (pending) flush();
    },
    stop() {
      if (pending) clearTimeout(pending);
      pending = undefined;
      latest = undefined;
    },
  };
}

/** Start fetching the vmlinux of this build-id (cfg from the environment when not given). */
export function fetchVmlinux(buildId: string, cfg = debuginfodConfig()): VmlinuxFetch | undefined {
  return cfg ? new VmlinuxFetch(cfg, buildId) : undefined;
}

const MiB = 1024 * 1024;

function mib(n: number): string {
  return (n / MiB).toFixed(1);
}

/** One frame of the progress bar: `[#####.....]  45%  253.1/562.6 MiB  38.4 MiB/s  8 s left`. */
export function progressLine(p: DebuginfodProgress, nowMs: number, width = 24): string {
  const secs = Math.max((nowMs - p.startMs) / 1000, 0.001);
  const rate = (p.received - p.resumedFrom) / secs;
  const rateText = `${mib(rate)} MiB/s`;
  if (p.total === undefined || p.total <= 0) return `${mib(p.received)} MiB  ${rateText}`;
  const frac = Math.min(p.received / p.total, 1);
  const fill = Math.round(frac * width);
  const left = rate > 0 ? Math.ceil((p.total - p.received) / rate) : undefined;
  return (
    `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ` +
    `${mib(p.received)}/${mib(p.total)} MiB  ${rateText}${left !== undefined && frac < 1 ? `  ${left} s left` : ''}`
  );
}

/**
 * The vmlinux from debuginfod before the session starts, or undefined (the reason written as one line to
 * stderr). Prints what it does on stderr: the progress bar on a terminal (or with DEBUGINFOD_PROGRESS), else a
 * line when it starts and one when it ends.
 */
export async function vmlinuxFromDebuginfod(
  vmcore: string,
  err: NodeJS.WriteStream = process.stderr,
): Promise<string | undefined> {
  const cfg = debuginfodConfig();
  if (!cfg) return undefined;
  const say = (s: string): boolean => err.write(`debuginfod: ${s}\n`);
  const buildId = dumpBuildId(vmcore);
  if (!buildId) {
    say(`${vmcore} names no kernel build-id (VMCOREINFO BUILD-ID, the kernel's notes): not asking the servers`);
    return undefined;
  }
  const f = new VmlinuxFetch(cfg, buildId);
  const bar = err.isTTY === true || cfg.progress;
  let drawn = false;
  let announced = false;
  const frame = frames((p) => {
    err.write(`\rdebuginfod: vmlinux from ${p.url} ${progressLine(p, performance.now())}\x1b[K`);
    drawn = true;
  });
  f.on('verbose', (l) => {
    if (drawn) err.write('\n');
    drawn = false;
    say(l);
  });
  f.on('progress', (p) => {
    if (!announced) {
      announced = true;
      if (!bar) say(fetchingLine(buildId, p));
    }
    if (bar) frame.push(p);
  });
  // Ctrl-C while waiting: go on without it (what came is kept for next time).
  const onInt = (): void => f.abort();
  process.on('SIGINT', onInt);
  let r: DebuginfodResult | undefined;
  f.on('available', (_p, res) => (r = res));
  f.on('failed', (_m, res) => (r = res));
  try {
    await f.done;
  } finally {
    process.removeListener('SIGINT', onInt);
    frame.flush();
    if (drawn) err.write('\n');
  }
  if (!r) return undefined;
  if (r.ok) {
    if (!r.cached) {
      const secs = (r.ms ?? 0) / 1000;
      say(
        `got the vmlinux (${mib(r.bytes ?? 0)} MiB in ${secs.toFixed(1)} s${r.resumedFrom ? `, resumed at ${mib(r.resumedFrom)} MiB` : ''}): ${r.path}`,
      );
    }
    return r.path;
  }
  say(
    r.reason === 'interrupted'
      ? `interrupted: going on without the vmlinux (the partial download is kept and resumes next time)`
      : `no vmlinux: ${r.message}; going on without it`,
  );
  return undefined;
}
