/**
 * triage: the first look at a dump in one result: what killed the machine (class, message, CPU, task), the panic
 * task's backtrace and its culprit frame, the taint, machine checks, blocked tasks, the other CPUs, memory, the
 * log before the panic, and a signature that names the same crash alike in every dump of it.
 */
import { kmemInfo, prefetchMemMap } from '../helpers/meminfo.js';
import { loadModuleSymbols } from '../helpers/modules.js';
import {
  activeTasks,
  allTasks,
  cpuCurr,
  findTask,
  panicCpu,
  panicTask,
  taskPid,
  taskStateLetter,
} from '../helpers/tasks.js';
import {
  crashSignature,
  hungTaskPid,
  isMachinery,
  isSleeping,
  kernelTaint,
  type PanicClass,
  panicClass,
  panicHeadline,
  type Taint,
} from '../helpers/triage.js';
import { CommandError, TscrashError } from '../program/index.js';
import { type BtTask, backtraceOf, backtraceText } from './bt.js';
import { type TaskRef, taskHeader, taskRef } from './lib/context.js';
import { crashDate } from './lib/localtime.js';
import { type MceResult, mce } from './mce.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';
import { logTextLines, panicMessage } from './sys.js';

/** A task and its kernel functions, innermost first. */
export interface TaskStack {
  task: TaskRef;
  functions: string[];
}

export interface TriageResult {
  dump: string;
  release: string;
  /** The crash time (seconds since the epoch) and as crash prints it in the local zone. */
  time?: number;
  date?: string;
  panic: {
    class: PanicClass;
    /** The line that says what happened (the fatal event's first line, else the panic line). */
    message: string;
    /** The line crash's sys shows as PANIC. */
    sysPanic: string;
    cpu?: number;
    task?: TaskRef;
  };
  /** The panic task's backtrace, with source lines. */
  backtrace?: BtTask;
  /**
   * The first frame outside the panic, oops and exception machinery (or the function an exception hit). For a hung
   * task, the first frame outside the scheduler and the sleeping primitives in the task khungtaskd reported, which
   * `task` then names (the panic task is khungtaskd); `frame` counts in that task's backtrace.
   */
  culprit?: {
    frame: number;
    symbol: string;
    offset?: number;
    module?: string;
    file?: string;
    line?: number;
    ip: Hex;
    task?: TaskRef;
  };
  signature: string;
  taint?: Taint;
  /** Machine checks found in the log and in memory (absent when there are none). */
  machineChecks?: { logged: number; inMemory: number; summaries: string[] };
  /** Tasks in uninterruptible sleep (D state). */
  blocked: TaskStack[];
  /** The tasks the other CPUs were running. */
  otherCpus: (TaskStack & { cpu: number })[];
  /** Memory in pages (crash's kmem -i figures). */
  memory?: { pageSize: number; total: number; free: number; used: number; cached: number; slab: number };
  /** The last log lines up to the panic line. */
  logTail: string[];
  /** Parts that could not be read, and why. */
  notes: string[];
}

const TAIL = 30;

function functions(bt: BtTask): string[] {
  return bt.frames.map((f) => f.symbol ?? `0x${f.ip.toString(16)}`);
}

export const triage: Command<TriageResult> = {
  name: 'triage',
  resultType: 'TriageResult',
  summary: 'what killed the machine: the first-look report',
  help: `NAME
  triage - the first-look report of a crash

SYNOPSIS
  triage

DESCRIPTION
  What killed the machine, in one report: the panic's class (sysrq, oops or
  NULL dereference, BUG(), general protection fault, machine check, hung task,
  soft or hard lockup, out of memory, watchdog, warning) and message, its CPU
  and task; the panic task's backtrace with modules and source lines, and the
  culprit: the first frame outside the panic and exception machinery; the taint
  flags and the modules that set them; the machine checks; the tasks in D
  state and the other CPUs' stacks, one line each; the memory summary; the
  last ${TAIL} log lines before the panic; and a signature: a hash of the class,
  the message without its numbers and the culprit's stack, the same for the
  same crash in any dump format and on any boot.

  tscrash triage [--json] [--html FILE] [VMLINUX] VMCORE... gives the report
  of each dump without a session (--html: as one self-contained HTML page).
`,
  async run(ctx, args): Promise<TriageResult> {
    if (args.length) throw new CommandError('triage takes no arguments');
    const prog = ctx.program;
    const notes: string[] = [];
    const attempt = <T>(what: string, f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
        notes.push(`${what}: ${e.message}`);
        return undefined;
      }
    };
    if (!prog.hasDebugInfo) prog.requireDebugInfo('triage');
    // The memory summary walks the whole memory map: its pages are decoded in libuv's pool while the rest runs.
    const memMapReady = prefetchMemMap(prog);
    const lines = logTextLines(prog);
    const cls = panicClass(lines);
    const message = panicHeadline(lines);
    // Module frames and a culprit in a module are named from the modules' kallsyms, as bt names them.
    attempt('module symbols', () => loadModuleSymbols(prog));
    const pt = attempt('panic task', () => panicTask(prog));
    const cpu = attempt('panic CPU', () => panicCpu(prog));
    const backtrace = pt
      ? attempt('backtrace', () => backtraceOf(prog, pt, { lines: true, frames: false }))
      : undefined;
    // A hung task's panic is khungtaskd's: what went wrong is where the task it reported sleeps.
    const hungPid = cls === 'hung-task' ? hungTaskPid(lines) : undefined;
    const hung = hungPid === undefined ? undefined : attempt('hung task', () => findTask(prog, hungPid));
    const culpritBt = hung
      ? attempt(`backtrace of ${hungPid}`, () => backtraceOf(prog, hung, { lines: true, frames: false }))
      : backtrace;
    let culprit: TriageResult['culprit'];
    // A machine check's culprit is the hardware: the code it interrupted is chance, not cause.
    if (culpritBt && cls !== 'machine-check') {
      // A kernel-mode exception on the stack: the function it interrupted is where things went wrong.
      const exc = culpritBt.frames.findIndex((f) => f.exception);
      const i =
        exc >= 0
          ? exc
          : culpritBt.frames.findIndex((f) => f.symbol && !isMachinery(f.symbol) && !(hung && isSleeping(f.symbol)));
      // No such frame (a machine check from user mode, say): the machinery alone is on the stack, no culprit.
      const f = i < 0 ? undefined : culpritBt.frames[i];
      if (f) {
        const exIp = f.exception?.registers.ip;
        const hit = exIp !== undefined ? prog.symbols.symbolize(exIp) : undefined;
        culprit = hit
          ? { frame: i, symbol: hit.symbol.name, offset: Number(hit.offset), module: hit.symbol.module, ip: exIp! }
          : {
              frame: i,
              symbol: f.symbol ?? '?',
              offset: f.offset,
              module: f.module,
              file: f.file,
              line: f.line,
              ip: f.ip,
            };
        if (hung) culprit.task = taskRef(hung);
      }
    }
    // The culprit and the four functions under it: where the crash came from, without the machinery above it.
    const stackFrom = culprit && culpritBt ? functions(culpritBt).slice(culprit.frame, culprit.frame + 5) : [];
    if (culprit && stackFrom.length) stackFrom[0] = culprit.symbol;
    const m = attempt('machine checks', () => mce.run({ ...ctx, out: () => {} }, []) as MceResult);
    let machineChecks: TriageResult['machineChecks'];
    if (m && m.kind === 'dump' && (m.records.length || m.memory?.length)) {
      machineChecks = {
        logged: m.records.length,
        inMemory: m.memory?.length ?? 0,
        summaries: m.records.map(
          (r) =>
            `CPU ${r.logged.cpu} bank ${r.logged.bank}: status ${r.decoded.status}, ${r.decoded.mca.class}; ${r.decoded.severity.level}: ${r.decoded.severity.message}`,
        ),
      };
    }
    // What names the crash: the culprit's stack; for a machine check, what the hardware reported (bank, error
    // class, severity) instead.
    const mceKey =
      m && m.kind === 'dump'
        ? m.records.map((r) => `bank ${r.logged.bank} ${r.decoded.mca.class} ${r.decoded.severity.level}`)
        : [];
    const signature = crashSignature(cls, message, cls === 'machine-check' ? mceKey : stackFrom);
    // The tasks in D state (ps's UN), without ps's memory figures, which triage does not show.
    const uninterruptible =
      attempt('tasks', () => allTasks(prog).filter((task) => taskStateLetter(task) === 'UN')) ?? [];
    const blocked = uninterruptible.map((task) => ({
      task: taskRef(task),
      functions:
        attempt(`backtrace of ${taskPid(task)}`, () =>
          functions(backtraceOf(prog, task, { lines: false, frames: false })),
        ) ?? [],
    }));
    const otherCpus: TriageResult['otherCpus'] = [];
    for (const [, c] of [...(attempt('active tasks', () => activeTasks(prog)) ?? new Map<bigint, number>())].sort(
      (a, b) => a[1] - b[1],
    )) {
      if (c === cpu) continue;
      const t = attempt(`CPU ${c}`, () => cpuCurr(prog, c));
      if (!t) continue;
      otherCpus.push({
        cpu: c,
        task: taskRef(t),
        functions:
          attempt(`backtrace of CPU ${c}`, () => functions(backtraceOf(prog, t, { lines: false, frames: false }))) ??
          [],
      });
    }
    await memMapReady;
    const mem = attempt('memory', () => kmemInfo(prog));
    const panicAt = lines.findIndex((l) => l.startsWith('Kernel panic - not syncing'));
    const end = panicAt >= 0 ? panicAt + 1 : lines.length;
    const logTail = lines
      .slice(0, end)
      .filter((l) => l.length)
      .slice(-TAIL);
    const crashTime = prog.vmcoreinfo.crashTime;
    return {
      dump: prog.dump.path,
      release: prog.vmcoreinfo.osrelease ?? '',
      time: crashTime,
      date: crashTime === undefined ? undefined : crashDate(crashTime),
      panic: {
        class: cls,
        message,
        sysPanic: panicMessage(lines),
        cpu,
        task: pt ? taskRef(pt) : undefined,
      },
      backtrace,
      culprit,
      signature,
      taint: attempt('taint', () => kernelTaint(prog)),
      machineChecks,
      blocked,
      otherCpus,
      memory: mem && {
        pageSize: prog.memory.pageSize,
        total: Number(mem.totalram),
        free: Number(mem.free),
        used: Number(mem.used),
        cached: Number(mem.cached),
        slab: Number(mem.slab),
      },
      logTail,
      notes,
    };
  },
  text(r, ctx) {
    const mib = (pages: number): string => `${((pages * (r.memory?.pageSize ?? 4096)) / (1 << 20)).toFixed(1)} MiB`;
    let s = `DUMP:      ${r.dump}\nKERNEL:    ${r.release}${r.date ? `\nDATE:      ${r.date}` : ''}\n`;
    s += `PANIC:     ${r.panic.class}: ${r.panic.message || '(no panic message in the log)'}\n`;
    if (r.panic.task) s += `           on CPU ${r.panic.cpu ?? '?'}, ${taskHeader(r.panic.task)}\n`;
    if (r.culprit) {
      const c = r.culprit;
      s += `CULPRIT:   ${c.symbol}${c.offset ? `+${c.offset}` : ''}${c.module ? ` [${c.module}]` : ''}${c.file ? ` (${c.file}: ${c.line})` : ''}\n`;
      if (c.task) s += `           in the blocked ${taskHeader(c.task)}\n`;
    }
    s += `SIGNATURE: ${r.signature}\n`;
    if (r.taint) {
      s += `TAINT:     ${r.taint.flags}\n`;
      for (const t of r.taint.set)
        s += `           ${t.letter}: ${t.meaning}${t.modules.length ? ` (${t.modules.join(', ')})` : ''}\n`;
    }
    if (r.machineChecks) {
      s += `MACHINE CHECKS: ${r.machineChecks.logged} in the log, ${r.machineChecks.inMemory} in memory\n`;
      for (const m of r.machineChecks.summaries) s += `           ${m}\n`;
    }
    if (r.backtrace) s += `\nBACKTRACE OF THE PANIC TASK\n${backtraceText(r.backtrace)}`;
    const oneLine = (x: TaskStack): string =>
      `${x.task.pid} "${x.task.comm}": ${x.functions.join(' < ') || '(no frames)'}`;
    if (r.otherCpus.length) {
      s += '\nOTHER CPUS\n';
      for (const c of r.otherCpus) s += `  CPU ${c.cpu}: ${oneLine(c)}\n`;
    }
    s += `\nBLOCKED TASKS (D state): ${r.blocked.length}\n`;
    for (const b of r.blocked) s += `  ${oneLine(b)}\n`;
    if (r.memory) {
      const m = r.memory;
      s += `\nMEMORY: ${mib(m.total)} total, ${mib(m.free)} free, ${mib(m.used)} used, ${mib(m.cached)} cached, ${mib(m.slab)} slab\n`;
    }
    s += `\nLOG (the last ${r.logTail.length} lines up to the panic)\n`;
    for (const l of r.logTail) s += `  ${l}\n`;
    if (r.notes.length) s += `\nNOT READ\n${r.notes.map((n) => `  ${n}\n`).join('')}`;
    ctx.out(s);
  },
};
