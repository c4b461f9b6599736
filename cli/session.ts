/**
 * `tscrash [VMLINUX] VMCORE [-c CMD]... [-i FILE] [--force] [--json]`: open the dump
 * (and the vmlinux, in either order: the one that is an ELF executable is the
 * vmlinux), then run commands from -c / -i / a piped stdin, or interactively.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { registerBuiltins } from '../commands/index.js';
import { setOutputFormat } from '../commands/result.js';
import { openDump } from '../core/open.js';
import { Program } from '../program/index.js';
import { interactive, runScript } from '../repl/line.js';
import { elfIdentity } from '../symbols/build-id.js';

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

export async function runSession(argv: string[]): Promise<number> {
  const files: string[] = [];
  const commands: string[] = [];
  let force = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const c = argv[++i];
      if (c === undefined) throw new Error('-c needs a command');
      commands.push(c);
    } else if (a === '-i') {
      const f = argv[++i];
      if (f === undefined) throw new Error('-i needs a file');
      commands.push(...readFileSync(f, 'utf8').split('\n'));
    } else if (a === '--force' || a === '-f') force = true;
    else if (a === '--json') json = true;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a} (tscrash --help)`);
    else files.push(a);
  }
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
  registerBuiltins();
  const program = Program.open({ vmcore, vmlinux, force });
  if (json) setOutputFormat(program, 'json');
  try {
    for (const w of program.warnings) process.stderr.write(`${w}\n`);
    if (commands.length) return (await runScript(program, commands, false)) ? 1 : 0;
    if (!process.stdin.isTTY) {
      const rl = createInterface({ input: process.stdin, terminal: false });
      return (await runScript(program, rl, false)) ? 1 : 0;
    }
    const i = program.hasDump ? program.dump.info : undefined;
    process.stdout.write(
      (i
        ? `tscrash: ${vmcore} (${i.format}${i.compression ? `, ${i.compression.join('/')}` : ''}), ${program.vmcoreinfo.osrelease ?? 'unknown release'}\n`
        : `tscrash: ${vmlinux} (no dump: types and symbols only)\n`) +
        `${vmlinux ? '' : "no vmlinux: memory-only commands (log, rd, vtop, sys) and bt, sym from the dump's kallsyms; "}type help for the commands, q to quit\n\n`,
    );
    await interactive(program);
    return 0;
  } finally {
    program.close();
  }
}
