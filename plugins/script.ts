/**
 * Scripts (drgn's script mode): a .js/.mjs/.ts module whose default export is `async (prog, args, tscrash) => ...`,
 * run on an open Program. `tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...]` runs one from the shell
 * (cli/run.ts); the session's `run SCRIPT [ARGS...]` runs one on the session's dump, its output as the command's.
 */
import { type Command, hasCommand, registerCommand } from '../commands/registry.js';
import { CommandError, type Program } from '../program/index.js';
import { defaultExport, importModule } from './loader.js';

/** A script's default export. */
export type Script = (prog: Program, args: string[], tscrash: typeof import('./api.js')) => unknown;

/** Load a script and run it on `prog`: what its default export returns (awaited). */
export async function runScriptFile(file: string, prog: Program, args: string[]): Promise<unknown> {
  let fn: unknown;
  try {
    fn = defaultExport(await importModule(file));
  } catch (e) {
    throw new CommandError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof fn !== 'function')
    throw new CommandError(
      `${file}: its default export is not a function (export default async (prog, args, tscrash) => ...)`,
    );
  const api = await import('./api.js');
  return (fn as Script)(prog, args, api);
}

/** The session's `run`: the script's stdout while it runs is the command's output. */
export const run: Command = {
  name: 'run',
  summary: 'run a script (a .js/.mjs/.ts module) on this dump',
  help: `NAME
  run - run a script on this dump

SYNOPSIS
  run SCRIPT [ARGS]...

DESCRIPTION
  Runs SCRIPT, an ES module (.js, .mjs, or .ts compiled on the fly) whose
  default export is  async (prog, args, tscrash) => ...  with this session's
  Program, the arguments, and the public API. What the script writes to its
  standard output is this command's output; if it throws, its message is the
  command's error. From the shell:  tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...]

EXAMPLES
  run plugins/examples/slab-top.ts 10
  run ./walk.mjs modules "struct module" list
`,
  async run(ctx, args) {
    const [file, ...rest] = args;
    if (!file) throw new CommandError('run needs a script (run SCRIPT [ARGS]...)');
    const stdout = process.stdout;
    const write = stdout.write;
    // The script's console.log and process.stdout.write go to the command's output while it runs; the session's
    // own writing of that output (to this same stdout) goes through.
    let passing = false;
    stdout.write = ((chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean => {
      if (passing) return (write as (...a: unknown[]) => boolean).call(stdout, chunk, enc, cb);
      passing = true;
      try {
        ctx.out(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
      } finally {
        passing = false;
      }
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    }) as typeof stdout.write;
    try {
      await runScriptFile(file, ctx.program, rest);
    } finally {
      stdout.write = write;
    }
  },
};

/** Register the session's commands that live here (`run`), once. */
export function registerScriptCommands(): void {
  if (!hasCommand('run')) registerCommand(run);
}
