/**
 * `tscrash [VMLINUX] VMCORE [-c CMD]... [-i FILE] [--plugin FILE]... [--force] [--json] [-s] [--line] [--no-color]`: open the dump
 * (and the vmlinux, in either order: the one that is an ELF executable is the
 * vmlinux), then run commands from -c / -i / a piped stdin, or interactively: the TUI on a terminal, the line
 * mode with --line (or TERM=dumb); -i FILE on a terminal runs the file, then stays interactive (crash's way).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDump } from '../core/open.js';
import { discoverPlugins } from '../plugins/loader.js';
import { interactive, runScript } from '../repl/line.js';
import { elfIdentity } from '../symbols/build-id.js';
import { vmlinuxFromDebuginfod } from './debuginfod.js';
import { LocalSession, WorkerSession } from './sessions.js';

const ET_EXEC = 2;

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
  if (files.length === 0 || files.length > 2)
    throw new Error('give a VMCORE, and optionally the VMLINUX (tscrash --help)');
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: no such file`);
  let vmlinux: string | undefined;
  let vmcore: string | undefined;
  if (files.length === 1 && elfIdentity(files[0]!)?.type === ET_EXEC) {
    vmlinux = files[0]; // a vmlinux alone: types and symbols only (whatis, struct -o, sym, ptype)
  } else if (files.length === 2) {
    const isKernel = (f: string): boolean => elfIdentity(f)?.type === ET_EXEC;
    if (isKernel(files[0]!)) [vmlinux, vmcore] = [files[0], files[1]!];
    else if (isKernel(files[1]!)) [vmlinux, vmcore] = [files[1], files[0]!];
    else throw new Error(`neither ${files[0]} nor ${files[1]} is a vmlinux (an ELF executable)`);
  } else {
    vmcore = files[0]!;
    vmlinux = findVmlinux(vmcore);
  }
  return { vmlinux, vmcore };
}

export async function runSession(argv: string[]): Promise<number> {
  const files: string[] = [];
  // -c commands and -i files' lines, in the order given.
  const commands: string[] = [];
  let hasC = false;
  let hasI = false;
  let force = false;
  let json = false;
  let scroll = true;
  let line = false;
  let color = !process.env.NO_COLOR;
  const pluginFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const c = argv[++i];
      if (c === undefined) throw new Error('-c needs a command');
      commands.push(c);
      hasC = true;
    } else if (a === '-i') {
      const f = argv[++i];
      if (f === undefined) throw new Error('-i needs a file');
      commands.push(...readFileSync(f, 'utf8').split('\n'));
      hasI = true;
    } else if (a === '--plugin') {
      const f = argv[++i];
      if (f === undefined) throw new Error('--plugin needs a file');
      pluginFlags.push(f);
    } else if (a === '--force' || a === '-f') force = true;
    else if (a === '--json') json = true;
    else if (a === '-s' || a === '--no_scroll' || a === '--no-scroll') scroll = false;
    else if (a === '--line') line = true;
    else if (a === '--no-color' || a === '--no_color') color = false;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (tscrash --help)`);
    else files.push(a);
  }
  const { vmcore, ...picked } = pickFiles(files);
  // None given or found locally: debuginfod's, when DEBUGINFOD_URLS names a server (cli/debuginfod.ts).
  const vmlinux = picked.vmlinux ?? (vmcore ? await vmlinuxFromDebuginfod(vmcore) : undefined);
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const plugins = discoverPlugins(pluginFlags);
  const opts = { vmcore, vmlinux, force, json, backgroundIndex: false, plugins };
  // Scripts: -c, -i off a terminal, or a pipe: in this thread, each line's output as it comes.
  if (hasC || (hasI && !terminal) || !terminal) {
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
  const session = await WorkerSession.open({ ...opts, backgroundIndex: true });
  try {
    const tui = !line && process.env.TERM !== 'dumb' && process.env.TERM !== undefined;
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
    await session.close();
  }
}
