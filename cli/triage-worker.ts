/**
 * One dump's triage in a worker thread (tscrash triage of several dumps): open it, run the triage command, send
 * back its JSON document and its text. Errors come back as documents too.
 */

import { parentPort } from 'node:worker_threads';
import { registerBuiltins, resolveCommand } from '../commands/index.js';
import type { Command } from '../commands/registry.js';
import { errorKind, toJsonValue } from '../commands/result.js';
import type { TriageResult } from '../commands/triage.js';
import { Program } from '../program/index.js';
import { errorLine } from './errors.js';
import { findVmlinux } from './session.js';

export interface TriageJob {
  vmcore: string;
  vmlinux?: string;
}

export interface TriageDone {
  vmcore: string;
  /** {"dump", "ok", "result" | "error"} */
  doc: { dump: string; ok: boolean; result?: Record<string, unknown>; error?: { kind: string; message: string } };
  /** The result itself (bigints and all: it crosses threads by structured clone), for the HTML view. */
  result?: TriageResult;
  text: string;
}

/** Triage one dump: the document and crash-style text of its report. */
export async function triageOne(job: TriageJob): Promise<TriageDone> {
  registerBuiltins();
  let program: Program | undefined;
  try {
    program = Program.open({ vmcore: job.vmcore, vmlinux: job.vmlinux ?? findVmlinux(job.vmcore) });
    // The vmlinux's DWARF, else the BTF the dump carries.
    if (!program.hasDebugInfo && program.canLoadTypes) await program.loadTypes();
    const cmd = (await resolveCommand('triage')) as Command<TriageResult>;
    let text = '';
    const ctx = { program, out: (s: string) => (text += s), format: 'text' as const };
    const result = (await cmd.run(ctx, [])) as TriageResult;
    cmd.text!(result, ctx);
    return {
      vmcore: job.vmcore,
      doc: { dump: job.vmcore, ok: true, result: toJsonValue(result) as Record<string, unknown> },
      result,
      text,
    };
  } catch (e) {
    // The cause in words, the dump's path not repeated (the DUMP line names it).
    const line = errorLine(e, job.vmcore);
    const message = line.startsWith(`${job.vmcore}: `) ? line.slice(job.vmcore.length + 2) : line;
    return {
      vmcore: job.vmcore,
      doc: { dump: job.vmcore, ok: false, error: { kind: errorKind(e), message } },
      text: `DUMP:      ${job.vmcore}\nERROR:     ${message}\n`,
    };
  } finally {
    program?.close();
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: TriageJob) => {
    void triageOne(job).then((done) => port.postMessage(done));
  });
}
