/**
 * bin/tscrash: the kernel log with no vmlinux (--dump-dmesg), dump facts
 * (info), and the crash-style session.
 */
import { dumpDmesg } from '../core/dmesg.js';
import { TscrashError } from '../core/errors.js';
import { describeDump, formatFacts } from '../core/info.js';
import { KernelMemory } from '../core/kernel-memory.js';
import { openDump } from '../core/open.js';
import { writeFilePrivate } from '../core/private-file.js';

export const VERSION = '0.1.0';

const USAGE = `usage:
  tscrash [VMLINUX] VMCORE [-c CMD]... [-i FILE]   a crash-style session: the terminal UI on a terminal
                                                  (F1 help), the line mode when piped or with -c
          [--line] [-s|--no_scroll] [--no-color]  crash's line mode on a terminal; no pager; no colours
          [--json]                                each command's result as one JSON document a line
          [--plugin FILE|NAME]...                 load a plugin (files, irq, lockup: the shipped ones)
  tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...] run a script: export default async (prog, args, tscrash)
  tscrash --dump-dmesg VMCORE [FILE]              the kernel log, no vmlinux needed
  tscrash info [--json] VMCORE...                 what a dump is: format, pages, kernel, KASLR, panic
  tscrash triage [--json] [VMLINUX] VMCORE|DIR... what killed each machine: class, culprit, signature, ...;
                                                  several dumps in parallel, then a summary by signature
          [--html FILE]                           the report as one self-contained HTML page, with charts
          [-j|--jobs N]                           N worker threads (default: one per CPU)
  tscrash index VMLINUX...                        build and cache the DWARF name index now (else a session
                                                  builds it in the background, searching until it is ready)
  tscrash --help | --version
`;

function dmesgCommand(args: string[]): number {
  if (args.length < 1 || args.length > 2) {
    process.stderr.write(`tscrash: --dump-dmesg needs VMCORE [FILE]\n${USAGE}`);
    return 2;
  }
  const dump = openDump(args[0]!);
  try {
    const out = dumpDmesg(new KernelMemory(dump));
    if (args[1]) {
      writeFilePrivate(args[1], out);
      process.stderr.write(`The dmesg log is saved to ${args[1]}.\n`);
    } else process.stdout.write(out);
  } finally {
    dump.close();
  }
  return 0;
}

async function infoCommand(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const files = args.filter((a) => a !== '--json');
  if (files.length === 0) {
    process.stderr.write(`tscrash: info needs at least one VMCORE\n${USAGE}`);
    return 2;
  }
  const { Program } = await import('../program/program.js');
  const { dumpDebugData } = await import('../program/debug-data.js');
  let status = 0;
  files.forEach((f, n) => {
    try {
      const prog = Program.open({ vmcore: f });
      try {
        const facts = describeDump(prog.dump);
        if (prog.dump.vmcoreinfo) {
          try {
            facts.debugData = dumpDebugData(prog);
          } catch (e) {
            if (!(e instanceof TscrashError)) throw e;
            facts.warnings.push(`debug data: ${e.message}`);
          }
        }
        if (json) process.stdout.write(`${JSON.stringify(facts)}\n`);
        else process.stdout.write(`${n ? '\n' : ''}${formatFacts(facts)}`);
      } finally {
        prog.close();
      }
    } catch (e) {
      status = 1;
      const msg = (e as Error).message;
      if (json) process.stdout.write(`${JSON.stringify({ file: f, error: msg })}\n`);
      process.stderr.write(`tscrash: ${f}: ${msg}\n`);
    }
  });
  return status;
}

/** `tscrash index VMLINUX...`: build each vmlinux's name index and save it in the cache. */
async function indexCommand(files: string[]): Promise<number> {
  if (files.length === 0) {
    process.stderr.write(`tscrash: index needs at least one VMLINUX\n${USAGE}`);
    return 2;
  }
  const { DebugInfo } = await import('../symbols/dwarf/debug-info.js');
  let status = 0;
  for (const f of files) {
    try {
      const t0 = performance.now();
      const d = await DebugInfo.open(f, { index: 'full' });
      const where = d.cacheFile;
      d.close();
      process.stdout.write(
        `${f}: ${where ? `indexed in ${((performance.now() - t0) / 1000).toFixed(2)} s, cached as ${where}` : 'no build-id: not cached'}\n`,
      );
    } catch (e) {
      status = 1;
      process.stderr.write(`tscrash: ${(e as Error).message}\n`);
    }
  }
  return status;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    process.stdout.write(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version') {
    process.stdout.write(`tscrash ${VERSION}\n`);
    return 0;
  }
  if (first === '--dump-dmesg') return dmesgCommand(rest);
  if (first === 'info') return infoCommand(rest);
  if (first === 'index') return indexCommand(rest);
  if (first === 'triage') return (await import('./triage.js')).runTriage(rest);
  if (first === 'run') return (await import('./run.js')).runScriptCommand(rest);
  const { runSession } = await import('./session.js');
  return runSession(argv);
}

// A reader that stops early (tscrash ... | head) closes the pipe: stop quietly, as a Unix filter does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`tscrash: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
