/**
 * `tscrash [VMLINUX] VMCORE [-c CMD]... [-i FILE] [--plugin FILE]... [--force] [--json] [-s] [--line] [--no-color]
 * [--minimal] [--kaslr auto|OFFSET] [--no_modules]` (or drgn's `-c VMCORE [-s VMLINUX]`): open the dump
 * (and the vmlinux, in either order: the one that is an ELF executable is the
 * vmlinux), then run commands from -c / -i / a piped stdin, or interactively: the TUI on a terminal, the line
 * mode with --line (or TERM=dumb); -i FILE on a terminal runs the file, then stays interactive (crash's way).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { calculate } from '../commands/lib/calc.js';
import { openDump } from '../core/open.js';
import { discoverPlugins } from '../plugins/loader.js';
import { interactive, runScript } from '../repl/line.js';
import { elfIdentity } from '../symbols/build-id.js';
import { type VmlinuxFetch, type VmlinuxTaker, vmlinuxFromDebuginfod, vmlinuxInBackground } from './debuginfod.js';
import { checkInput, UsageError } from './errors.js';
import { LocalSession, WorkerSession } from './sessions.js';

const ET_EXEC = 2;

function isVmlinuxFile(f: string): boolean {
  return elfIdentity(f)?.type === ET_EXEC;
}

/**
 * The dump's vmlinux from the debug-info tree (TSCRASH_DEBUG_ROOT, default /usr/lib/debug): by build-id
 * (.build-id/xx/yyyy.debug), then by release (boot/vmlinux-R, lib/modules/R/vmlinux, vmlinux-R). Only a file
 * whose build-id matches the dump's is taken.
 */
export function findVmlinux(vmcore: string): string | undefined {
  const root = process.env.TSCRASH_DEBUG_ROOT || '/usr/lib/debug';
  let text: string | undefined;
  const dump = openDump(vmcore);
  try {
    text = dump.vmcoreinfo ?? undefined;
  } finally {
    dump.close();
  }
  if (!text) return undefined;
  const buildId = /^BUILD-ID=([0-9a-f]+)$/m.exec(text)?.[1];
  const release = /^OSRELEASE=(.+)$/m.exec(text)?.[1];
  const candidates: string[] = [];
  if (buildId && buildId.length > 2)
    candidates.push(join(root, '.build-id', buildId.slice(0, 2), `${buildId.slice(2)}.debug`));
  if (release) {
    candidates.push(
      join(root, 'boot', `vmlinux-${release}`),
      join(root, 'lib', 'modules', release, 'vmlinux'),
      join(root, `vmlinux-${release}`),
    );
  }
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const id = elfIdentity(c);
    if (id?.type === ET_EXEC && (!buildId || id.buildId?.startsWith(buildId))) return c;
  }
  return undefined;
}

/**
 * The dump and the vmlinux among the files given (in either order: the one that is an ELF executable is the
 * vmlinux); a dump alone gets its vmlinux from the debug-info tree when there is one (findVmlinux).
 */
export function pickFiles(files: string[]): { vmlinux?: string; vmcore?: string } {
  if (files.length === 0 || files.length > 2) throw new UsageError('give a VMCORE, and optionally the VMLINUX');
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: no such file`);
  let vmlinux: string | undefined;
  let vmcore: string | undefined;
  if (files.length === 1 && elfIdentity(files[0]!)?.type === ET_EXEC) {
    vmlinux = files[0]; // a vmlinux alone: types and symbols only (whatis, struct -o, sym, ptype)
  } else if (files.length === 2) {
    const isKernel = (f: string): boolean => elfIdentity(f)?.type === ET_EXEC;
    if (isKernel(files[0]!)) [vmlinux, vmcore] = [files[0], files[1]!];
    else if (isKernel(files[1]!)) [vmlinux, vmcore] = [files[1], files[0]!];
    else throw new UsageError(`neither ${files[0]} nor ${files[1]} is a vmlinux (an ELF executable)`);
  } else {
    vmcore = files[0]!;
    vmlinux = findVmlinux(vmcore);
  }
  return { vmlinux, vmcore };
}

/** What the session's command line hands back to tscrash's: usage, a command's help, the version. */
export interface SessionHooks {
  usage: () => void;
  help: (command: string) => Promise<number>;
  version: string;
}

/** A file that is a dump (its first bytes: ELF core, KDUMP / DISKDUMP, flattened), for drgn's `-c VMCORE`. */
export function isDumpFile(path: string): boolean {
  try {
    if (!statSync(path).isFile() || isVmlinuxFile(path)) return false;
    const d = openDump(path);
    d.close();
    return true;
  } catch {
    return false;
  }
}

/** crash's --kaslr: auto, or an offset as crash reads numbers (decimal, else hexadecimal; 0x, k/m/g). */
export function parseKaslr(v: string): bigint | 'auto' {
  if (v === 'auto') return 'auto';
  try {
    return calculate(v);
  } catch {
    throw new UsageError(`invalid --kaslr argument: ${v} (auto, or the offset: 0x1c000000, 1c000000)`);
  }
}

export async function runSession(argv: string[], hooks?: SessionHooks): Promise<number> {
  const files: string[] = [];
  // -c commands and -i files' lines, in the order given (-c's index in `cArgs` too, for drgn's -c VMCORE).
  const commands: string[] = [];
  const cArgs: { at: number; arg: string }[] = [];
  let hasI = false;
  let core: string | undefined;
  let force = false;
  let json = false;
  let scroll = true;
  let line = false;
  let minimal = false;
  let noModules = false;
  let kaslr: bigint | 'auto' = 'auto';
  let color = !process.env.NO_COLOR;
  const pluginFlags: string[] = [];
  const value = (i: number, what: string): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`${argv[i - 1]} needs ${what}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const c = value(++i, 'a command');
      cArgs.push({ at: commands.length, arg: c });
      commands.push(c);
    } else if (a === '-i') {
      const f = value(++i, 'a file');
      checkInput(f);
      commands.push(...readFileSync(f, 'utf8').split('\n'));
      hasI = true;
    } else if (a === '--core') core = value(++i, 'a VMCORE');
    else if (a === '--symbols') files.push(value(++i, 'a VMLINUX'));
    else if (a === '--plugin') pluginFlags.push(value(++i, 'a file'));
    else if (a === '--kaslr') kaslr = parseKaslr(value(++i, 'auto or an offset'));
    else if (a.startsWith('--kaslr=')) kaslr = parseKaslr(a.slice(8));
    else if (a === '--minimal') minimal = true;
    else if (a === '--no_modules' || a === '--no-modules') noModules = true;
    else if (a === '--force' || a === '-f') force = true;
    else if (a === '--json') json = true;
    else if (a === '-s' || a === '--no_scroll' || a === '--no-scroll') scroll = false;
    else if (a === '--line') line = true;
    else if (a === '--no-color' || a === '--no_color') color = false;
    else if (hooks && (a === '-h' || a === '--help')) {
      const c = argv[i + 1];
      if (c !== undefined && !c.startsWith('-')) return hooks.help(c);
      hooks.usage();
      return 0;
    } else if (hooks && (a === '-v' || a === '--version')) {
      process.stdout.write(`tscrash ${hooks.version}\n`);
      return 0;
    } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  for (const f of files) checkInput(f);
  // drgn's spelling: with no dump among the positional files, a -c whose argument is a dump names the dump.
  if (core !== undefined) {
    checkInput(core);
    files.push(core);
  } else if (cArgs.length && !files.some((f) => !isVmlinuxFile(f))) {
    const dump = cArgs.find((c) => isDumpFile(c.arg));
    if (dump) {
      files.push(dump.arg);
      commands.splice(dump.at, 1);
      cArgs.splice(cArgs.indexOf(dump), 1);
    }
  }
  const hasC = cArgs.length > 0;
  const { vmcore, ...picked } = pickFiles(files);
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const script = hasC || (hasI && !terminal) || !terminal;
  // None given or found locally: debuginfod's, when DEBUGINFOD_URLS names a server (cli/debuginfod.ts). A script
  // waits for it; a session at a terminal starts at once on the dump's BTF and takes it when it has come.
  let vmlinux = picked.vmlinux;
  let background: ((s: VmlinuxTaker, onBtf: boolean) => VmlinuxFetch) | undefined;
  // (crash's minimal mode does no background work: it waits too.)
  if (!vmlinux && vmcore && (script || minimal)) vmlinux = await vmlinuxFromDebuginfod(vmcore);
  else if (!vmlinux && vmcore) {
    const plan = vmlinuxInBackground(vmcore);
    if (plan && 'cached' in plan) vmlinux = plan.cached;
    else background = plan?.start;
  }
  const plugins = discoverPlugins(pluginFlags);
  const opts = { vmcore, vmlinux, force, json, backgroundIndex: false, plugins, minimal, noModules, kaslr };
  // Scripts: -c, -i off a terminal, or a pipe: in this thread, each line's output as it comes.
  if (script) {
    const session = await LocalSession.open(opts);
    try {
      for (const w of session.info.warnings) process.stderr.write(`${w}\n`);
      if (hasC || hasI) return (await runScript(session, commands, false)) ? 1 : 0;
      const rl = createInterface({ input: process.stdin, terminal: false });
      return (await runScript(session, rl, false)) ? 1 : 0;
    } finally {
      await session.close();
    }
  }
  // A person at a terminal: the session in a worker thread, so that Ctrl-C interrupts a running command.
  // A minimal session does no start-up work: no name index built in the background either.
  const session = await WorkerSession.open({ ...opts, backgroundIndex: !minimal });
  const fetch = background?.(session, /^types: BTF /m.test(session.info.banner));
  try {
    // A minimal session is crash's line mode: the TUI's panes need the task list.
    const tui = !line && !minimal && process.env.TERM !== 'dumb' && process.env.TERM !== undefined;
    if (tui) {
      const { runTui } = await import('../repl/tui/tui.js');
      await runTui(session, { color, first: commands });
      return 0;
    }
    for (const w of session.info.warnings) process.stderr.write(`${w}\n`);
    process.stdout.write(`${session.info.banner}\n`);
    await interactive(session, { scroll, first: commands });
    return 0;
  } finally {
    // A download still on its way stops with the session (what came is kept and resumes next time).
    fetch?.abort();
    await session.close();
  }
}
