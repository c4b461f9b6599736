/**
 * `tscrash triage [--json] [--html FILE] [VMLINUX] VMCORE|DIR...`: the triage report of each dump. A VMLINUX
 * given serves every dump; otherwise each dump's is found in the debug-info tree by build-id. A directory stands for
 * the dumps under it (files that begin like an ELF core, a kdump-compressed or a flattened file). Several dumps are
 * triaged in parallel, one worker thread per CPU, with a progress line on a terminal, then summarised by signature.
 * A dump that cannot be read gets its error; the others still go through. --html writes the reports (and the
 * summary) as one self-contained HTML page (cli/triage-html.ts) instead of the text.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeFilePrivate } from '../core/private-file.js';
import { elfIdentity } from '../symbols/build-id.js';
import { triageHtml } from './triage-html.js';
import { type TriageDone, type TriageJob, triageOne } from './triage-worker.js';

const ET_EXEC = 2;
const ET_CORE = 4;

/** Whether a file begins as a dump does: an ELF core, KDUMP/DISKDUMP, or makedumpfile's flattened header. */
function looksLikeDump(path: string): boolean {
  const head = Buffer.alloc(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const n = readSync(fd, head, 0, 16, 0);
    if (n < 8) return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const magic = head.toString('latin1', 0, 8);
  if (magic === 'KDUMP   ' || magic === 'DISKDUMP' || head.toString('latin1', 0, 12) === 'makedumpfile') return true;
  return head.readUInt32BE(0) === 0x7f454c46 && elfIdentity(path)?.type === ET_CORE;
}

function expand(args: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(p); // follows symbolic links
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 4) walk(p, depth + 1);
      else if (st.isFile() && looksLikeDump(p)) out.push(p);
    }
  };
  for (const a of args) {
    if (existsSync(a) && statSync(a).isDirectory()) walk(a, 0);
    else out.push(a);
  }
  return out;
}

/** Triage the jobs on `workers` threads; results in the jobs' order. */
async function runPool(jobs: TriageJob[], workers: number, progress: (done: number) => void): Promise<TriageDone[]> {
  const results: TriageDone[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const url = new URL('./triage-worker.js', import.meta.url);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      const w = new Worker(url);
      try {
        while (next < jobs.length) {
          const i = next++;
          const job = jobs[i]!;
          results[i] = await new Promise<TriageDone>((resolve) => {
            const onMessage = (d: TriageDone): void => {
              w.off('error', onError);
              resolve(d);
            };
            const onError = (e: Error): void => {
              w.off('message', onMessage);
              resolve({
                vmcore: job.vmcore,
                doc: { dump: job.vmcore, ok: false, error: { kind: 'WorkerError', message: e.message } },
                text: `DUMP:      ${job.vmcore}\nERROR:     ${e.message}\n`,
              });
            };
            w.once('message', onMessage);
            w.once('error', onError);
            w.postMessage(job);
          });
          progress(++done);
        }
      } finally {
        await w.terminate();
      }
    }),
  );
  return results;
}

export interface SummaryRow {
  signature: string;
  count: number;
  class: string;
  message: string;
  culprit?: string;
  first?: number;
  last?: number;
  releases: string[];
  example: string;
}

export function summarise(done: TriageDone[]): SummaryRow[] {
  const rows = new Map<string, SummaryRow>();
  for (const d of done) {
    const r = d.doc.result;
    if (!d.doc.ok || !r) continue;
    const sig = String(r.signature);
    const panic = r.panic as { class: string; message: string };
    const culprit = r.culprit as { symbol: string; module?: string } | undefined;
    const time = typeof r.time === 'number' ? r.time : undefined;
    let row = rows.get(sig);
    if (!row) {
      row = {
        signature: sig,
        count: 0,
        class: panic.class,
        message: panic.message,
        culprit: culprit && `${culprit.symbol}${culprit.module ? ` [${culprit.module}]` : ''}`,
        releases: [],
        example: d.vmcore,
      };
      rows.set(sig, row);
    }
    row.count++;
    if (time !== undefined) {
      row.first = row.first === undefined ? time : Math.min(row.first, time);
      row.last = row.last === undefined ? time : Math.max(row.last, time);
    }
    if (!row.releases.includes(String(r.release))) row.releases.push(String(r.release));
  }
  return [...rows.values()].sort((a, b) => b.count - a.count || a.signature.localeCompare(b.signature));
}

function summaryText(rows: SummaryRow[], failed: TriageDone[]): string {
  const iso = (t?: number): string => (t === undefined ? '-' : new Date(t * 1000).toISOString().replace('.000Z', 'Z'));
  let s = `\nSUMMARY: ${rows.reduce((a, r) => a + r.count, 0)} dumps in ${rows.length} signatures, ${failed.length} unreadable\n`;
  s += `${'SIGNATURE'.padEnd(16)}  ${'COUNT'.padStart(5)}  ${'FIRST'.padEnd(20)}  ${'LAST'.padEnd(20)}  CLASS / CULPRIT / RELEASES / EXAMPLE\n`;
  for (const r of rows) {
    s += `${r.signature}  ${String(r.count).padStart(5)}  ${iso(r.first).padEnd(20)}  ${iso(r.last).padEnd(20)}  ${r.class}: ${r.message}\n`;
    s += `${' '.repeat(70)}${r.culprit ?? '(no culprit frame)'}; ${r.releases.join(', ')}; ${r.example}\n`;
  }
  for (const f of failed)
    s += `${'(unreadable)'.padEnd(16)}  ${'1'.padStart(5)}  ${f.vmcore}: ${f.doc.error?.message}\n`;
  return s;
}

export async function runTriage(argv: string[]): Promise<number> {
  let json = false;
  let html: string | undefined;
  let jobsWanted: number | undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--html' || a.startsWith('--html=')) {
      html = a === '--html' ? argv[++i] : a.slice('--html='.length);
      if (!html) throw new Error('triage: --html needs a FILE to write');
    } else if (a === '-j' || a === '--jobs') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`triage: ${a} needs a number of worker threads (1 or more)`);
      jobsWanted = n;
    } else if (a.startsWith('-')) throw new Error(`triage: unknown option ${a}`);
    else args.push(a);
  }
  let vmlinux: string | undefined;
  if (args.length && existsSync(args[0]!) && statSync(args[0]!).isFile() && elfIdentity(args[0]!)?.type === ET_EXEC)
    vmlinux = args.shift();
  if (html) {
    // Before the work, not after it: a page that cannot be written.
    const dir = dirname(resolve(html));
    if (!existsSync(dir) || !statSync(dir).isDirectory())
      throw new Error(`triage: --html ${html}: no directory ${dir}`);
    if (existsSync(html) && statSync(html).isDirectory()) throw new Error(`triage: --html ${html} is a directory`);
  }
  const files = expand(args);
  if (files.length === 0) throw new Error('triage needs at least one VMCORE or a directory of them (tscrash --help)');
  const jobs = files.map((vmcore) => ({ vmcore, vmlinux }));
  const tty = process.stderr.isTTY === true;
  let done: TriageDone[];
  if (jobs.length === 1) done = [await triageOne(jobs[0]!)];
  else {
    const workers = Math.max(1, Math.min(jobsWanted ?? availableParallelism(), jobs.length));
    done = await runPool(jobs, workers, (n) => {
      if (tty) process.stderr.write(`\rtriage: ${n}/${jobs.length} dumps${n === jobs.length ? '\n' : ''}`);
    });
  }
  const failed = done.filter((d) => !d.doc.ok);
  if (html) {
    const page = triageHtml(
      done.map((d) => ({ vmcore: d.vmcore, result: d.result, error: d.doc.error?.message })),
      summarise(done),
    );
    writeFilePrivate(html, Buffer.from(page, 'utf8'));
    process.stderr.write(`triage: the report of ${done.length} dump${done.length > 1 ? 's' : ''} is in ${html}\n`);
  }
  if (json) {
    for (const d of done) process.stdout.write(`${JSON.stringify(d.doc)}\n`);
    if (done.length > 1) process.stdout.write(`${JSON.stringify({ summary: summarise(done) })}\n`);
  } else if (!html) {
    process.stdout.write(Buffer.from(done.map((d) => d.text).join('\n'), 'latin1'));
    if (done.length > 1) process.stdout.write(summaryText(summarise(done), failed));
  }
  return failed.length ? 1 : 0;
}
