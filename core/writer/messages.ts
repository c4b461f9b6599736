/**
 * makedumpfile-style messages: a message level bit mask (1 progress, 2 common,
 * 4 error, 8 debug, 16 report; default 7), the progress indicator
 * `%-50s: [%3u.%u %%] %c  %16s` with a spinner and ETA, redrawn with '\r' at
 * most once a second, and the final report of excluded pages.
 */
import type { ExclusionCounts } from '../filter/exclude.js';

export const ML_PRINT_PROGRESS = 0x1;
export const ML_PRINT_COMMON_MSG = 0x2;
export const ML_PRINT_ERROR_MSG = 0x4;
export const ML_PRINT_DEBUG_MSG = 0x8;
export const ML_PRINT_REPORT_MSG = 0x10;
export const DEFAULT_MSG_LEVEL = 7;

export const PROGRESS_COPY = 'Copying data               ';
export const PROGRESS_HOLES = 'Checking for memory holes  ';
export const PROGRESS_UNN_PAGES = 'Excluding unnecessary pages';
export const PROGRESS_ZERO_PAGES = 'Excluding zero pages       ';

export interface MessageSink {
  write(s: string): void;
}

export class Messages {
  private lastTime = 0;
  private lapse = 0;

  constructor(
    readonly level: number,
    /** Whether progress may be drawn (stderr is a TTY). */
    readonly progressEnabled: boolean,
    /** Common/report messages go to stderr when stdout carries the dump (-F). */
    readonly toStderr: boolean,
    private readonly out: MessageSink = process.stdout,
    private readonly err: MessageSink = process.stderr,
  ) {}

  msg(s: string): void {
    if (this.level & ML_PRINT_COMMON_MSG) (this.toStderr ? this.err : this.out).write(s);
  }

  error(s: string): void {
    if (this.level & ML_PRINT_ERROR_MSG) this.err.write(s);
  }

  debug(s: string): void {
    if (this.level & ML_PRINT_DEBUG_MSG) (this.toStderr ? this.err : this.out).write(s);
  }

  report(s: string): void {
    if (this.level & ML_PRINT_REPORT_MSG) (this.toStderr ? this.err : this.out).write(s);
  }

  /** Progress line; `start` (ms, performance.now()) enables the ETA. */
  progress(label: string, current: number, end: number, start?: number): void {
    if (!(this.level & ML_PRINT_PROGRESS) || !this.progressEnabled) return;
    let promille: number;
    if (current < end) {
      const now = Math.floor(Date.now() / 1000);
      if (now - this.lastTime < 1) return;
      this.lastTime = now;
      promille = Math.floor((current * 1000) / end);
    } else {
      promille = 1000;
    }
    let eta = ' ';
    if (start !== undefined && promille !== 0) {
      const elapsedMs = performance.now() - start;
      const secs = Math.max(0, Math.floor(elapsedMs / promille - elapsedMs / 1000));
      eta = etaShort(secs);
    }
    const spin = '/|\\-'[this.lapse % 4];
    this.lapse++;
    const pct = `${String(Math.floor(promille / 10)).padStart(3)}.${promille % 10}`;
    this.err.write(`\r${label.padEnd(50)}: [${pct} %] ${spin}  ${eta.padStart(16)}`);
  }

  /** makedumpfile's print_execution_time(): `STEP [label] : s.us seconds` (report level). */
  stepTime(label: string, startMs: number): void {
    const us = Math.round((performance.now() - startMs) * 1000);
    this.report(`STEP [${label}] : ${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')} seconds\n`);
  }

  /**
   * Draw the 100 % state of a step. makedumpfile ends the line only after
   * "Copying data" (`newline`); the other steps are overdrawn by the next one.
   */
  progressDone(label: string, end: number, start?: number, newline = false): void {
    this.progress(label, end, end, start);
    if (newline && this.level & ML_PRINT_PROGRESS && this.progressEnabled) this.err.write('\n');
  }
}

function etaShort(secs: number): string {
  const minutes = Math.floor(secs / 60);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  if (secs < 100) return `eta: ${secs}s`;
  if (minutes < 100) return `eta: ${minutes}m${secs % 60}s`;
  if (hours < 48) return `eta: ${hours}h${minutes % 60}m`;
  if (days < 100) return `eta: ${days}d${hours % 24}h`;
  return 'eta: >100day';
}

const h16 = (n: number) => `0x${n.toString(16).padStart(16, '0')}`;

/** makedumpfile's print_report() layout. */
export function formatReport(r: {
  maxPfn: number;
  memHole: number;
  counts: ExclusionCounts;
  writeBytes: number;
  elfExcluded?: number;
}): string {
  const c = r.counts;
  const original = r.maxPfn - r.memHole;
  const excluded = c.zero + c.cache + c.cachePrivate + c.user + c.free + c.hwpoison + c.offline;
  const lines: string[] = [''];
  lines.push(`Original pages  : ${h16(original)}`);
  lines.push(`  Excluded pages   : ${h16(excluded)}`);
  if (r.elfExcluded !== undefined) lines.push(`     in ELF format : ${h16(r.elfExcluded)}`);
  lines.push(`    Pages filled with zero  : ${h16(c.zero)}`);
  lines.push(`    Non-private cache pages : ${h16(c.cache)}`);
  lines.push(`    Private cache pages     : ${h16(c.cachePrivate)}`);
  lines.push(`    User process data pages : ${h16(c.user)}`);
  lines.push(`    Free pages              : ${h16(c.free)}`);
  lines.push(`    Hwpoison pages          : ${h16(c.hwpoison)}`);
  lines.push(`    Offline pages           : ${h16(c.offline)}`);
  lines.push(`  Remaining pages  : ${h16(original - excluded)}`);
  if (r.elfExcluded !== undefined) lines.push(`     in ELF format : ${h16(original - r.elfExcluded)}`);
  const ex = r.elfExcluded ?? excluded;
  if (original !== 0)
    lines.push(`  (The number of pages is reduced to ${Math.floor(((original - ex) * 100) / original)}%.)`);
  lines.push(`Memory Hole     : ${h16(r.memHole)}`);
  lines.push('--------------------------------------------------');
  lines.push(`Total pages     : ${h16(r.maxPfn)}`);
  lines.push(`Write bytes     : ${r.writeBytes}`);
  if (c.keptKernelImage) lines.push(`Kept (kernel image, not excluded): ${h16(c.keptKernelImage)}`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}
