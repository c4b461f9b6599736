/**
 * bin/tscrash: the kernel log with no vmlinux (--dump-dmesg), dump facts
 * (info), and the crash-style session.
 */
import { dumpDmesg } from '../core/dmesg.js';
import { TscrashError } from '../core/errors.js';
import { describeDump, formatFacts } from '../core/info.js';
import { KernelMemory } from '../core/kernel-memory.js';
import { openDump } from '../core/open.js';
import { checkDumpFile, writeFilePrivate } from '../core/private-file.js';
import { checkInput, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, errorLine, UsageError } from './errors.js';

export const VERSION = '0.1.0';

const USAGE = `usage:
  tscrash [VMLINUX] VMCORE [OPTION]...           a crash-style session: the terminal UI on a terminal
                                                  (F1 help), the line mode when piped or with -c
    -c CMD                                        run CMD (repeatable), then exit
    -i FILE                                       run FILE's commands (then stay interactive on a terminal)
    --line | -s, --no_scroll | --no-color         crash's line mode on a terminal | no pager | no colours
    --json                                        each command's result as one JSON document a line
    --plugin FILE|NAME                            load a plugin (files, irq, lockup: the shipped ones)
    --minimal                                     only log, dis, rd, sym, eval, set, help, exit, with no
                                                  start-up work (no task list): for damaged dumps
    --kaslr auto|OFFSET                           the KASLR offset (kernel text minus the vmlinux's link
                                                  address; hex or decimal, as crash reads it); auto: the dump's
    --no_modules                                  read nothing of the loaded modules
    --force                                       open with a vmlinux that does not match the dump
  tscrash -c VMCORE [-s VMLINUX]                  drgn's spelling: with no VMCORE among the other arguments,
  tscrash --core VMCORE [--symbols VMLINUX]       -c's argument is the dump when it is a file that is one (-s
                                                  stays crash's silent; VMLINUX is found by its ELF type)
  tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...] run a script: export default async (prog, args, tscrash)
  tscrash --dump-dmesg [-f] VMCORE [FILE]         the kernel log, no vmlinux needed (-f: overwrite FILE)
  tscrash info [--json] VMCORE...                 what a dump is: format, pages, kernel, KASLR, panic
  tscrash triage [--json] [VMLINUX] VMCORE|DIR... what killed each machine: class, culprit, signature, ...;
                                                  several dumps in parallel, then a summary by signature
          [--html FILE]                           the report as one self-contained HTML page, with charts
          [-j|--jobs N]                           N worker threads (default: one per CPU)
  tscrash index VMLINUX...                        build and cache the DWARF name index now (else a session
                                                  builds it in the background, searching until it is ready)
  tscrash -h, --help [COMMAND|input|output|all]   this text; a session command's help (as help COMMAND); how
                                                  lines are entered (input) and where output goes (output);
                                                  all of it (all)
  tscrash -v, --version
exit status: 0 ok, 1 a failure (a file that cannot be read, a command that failed), 2 a usage error
`;

function dmesgCommand(argv: string[]): number {
  // -f: overwrite FILE (makedumpfile's check_dump_file refuses an existing one without it, exit code 1)
  const force = argv.includes('-f');
  const args = argv.filter((a) => a !== '-f');
  if (args.length < 1 || args.length > 2) throw new UsageError('--dump-dmesg needs VMCORE [FILE]');
  checkInput(args[0]!);
  const refused = args[1] ? checkDumpFile(args[1], force) : undefined;
  if (refused) {
    process.stderr.write(`tscrash: ${refused}\n`);
    return EXIT_FAILURE;
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
  if (files.length === 0) throw new UsageError('info needs at least one VMCORE');
  const { Program } = await import('../program/program.js');
  const { dumpDebugData } = await import('../program/debug-data.js');
  let status = 0;
  files.forEach((f, n) => {
    try {
      checkInput(f);
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
      status = EXIT_FAILURE;
      const line = errorLine(e, f);
      const cause = line.startsWith(`${f}: `) ? line.slice(f.length + 2) : line;
      if (json) process.stdout.write(`${JSON.stringify({ file: f, error: cause })}\n`);
      process.stderr.write(`tscrash: ${line}\n`);
    }
  });
  return status;
}

/** `tscrash index VMLINUX...`: build each vmlinux's name index and save it in the cache. */
async function indexCommand(files: string[]): Promise<number> {
  if (files.length === 0) throw new UsageError('index needs at least one VMLINUX');
  const { DebugInfo } = await import('../symbols/dwarf/debug-info.js');
  let status = 0;
  for (const f of files) {
    try {
      checkInput(f);
      const t0 = performance.now();
      const d = await DebugInfo.open(f, { index: 'full' });
      const where = d.warnings.length ? undefined : d.cacheFile;
      for (const w of d.warnings) process.stderr.write(`tscrash: warning: ${w}\n`);
      d.close();
      process.stdout.write(
        `${f}: ${where ? `indexed in ${((performance.now() - t0) / 1000).toFixed(2)} s, cached as ${where}` : d.warnings.length ? 'indexed without its damaged units: not cached' : 'no build-id: not cached'}\n`,
      );
    } catch (e) {
      status = EXIT_FAILURE;
      process.stderr.write(`tscrash: ${errorLine(e, f)}\n`);
    }
  }
  return status;
}

/** `-h COMMAND`: a session command's help, as `help COMMAND` prints it; no dump needed. */
async function commandHelp(name: string): Promise<number> {
  const { registerBuiltins, listCommands } = await import('../commands/index.js');
  const { registerScriptCommands } = await import('../plugins/script.js');
  const { helpText } = await import('../commands/help.js');
  registerBuiltins();
  registerScriptCommands();
  if (name === 'all') {
    // crash's -h all: the usage, the input and output pages, then every command's page.
    const pages = [USAGE, (await helpText('input'))!, (await helpText('output'))!];
    for (const c of await listCommands()) pages.push((await helpText(c.name))!);
    process.stdout.write(pages.join('\n'));
    return EXIT_OK;
  }
  const text = await helpText(name);
  if (text === undefined) throw new UsageError(`no such command: ${name}`);
  process.stdout.write(text);
  return EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(USAGE);
    return EXIT_USAGE;
  }
  if (first === '--help' || first === '-h') {
    if (rest[0] !== undefined && !rest[0].startsWith('-')) return commandHelp(rest[0]);
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`tscrash ${VERSION}\n`);
    return EXIT_OK;
  }
  if (first === '--dump-dmesg') return dmesgCommand(rest);
  if (first === 'info') return infoCommand(rest);
  if (first === 'index') return indexCommand(rest);
  if (first === 'triage') return (await import('./triage.js')).runTriage(rest);
  if (first === 'run') return (await import('./run.js')).runScriptCommand(rest);
  const { runSession } = await import('./session.js');
  return runSession(argv, { usage: () => process.stdout.write(USAGE), help: commandHelp, version: VERSION });
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
    // One line: a usage error says where the options are, and exits 2; a failure exits 1.
    if (e instanceof UsageError) {
      process.stderr.write(`tscrash: ${e.message} (tscrash --help)\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`tscrash: ${errorLine(e)}\n`);
    if (process.env.TSCRASH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
