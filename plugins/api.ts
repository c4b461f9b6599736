/**
 * The public API of tscrash: the package's entry (`import * as tscrash from 'tscrash'`), and the object a plugin's
 * default export is called with. Everything here is what the built-in commands themselves use: the Program and
 * its objects and types (program/), the helpers (`tscrash.helpers`, helpers/ plus drgn's names), the error
 * classes, and the command registry (`registerCommand`, `Command`, `CommandContext`).
 *
 * @example
 * import * as tscrash from 'tscrash';
 * const vmcore = '/var/crash/202312011200/dump.202312011200';
 * const vmlinux = '/usr/lib/debug/boot/vmlinux-6.1.0-13-amd64';
 * const prog = await tscrash.open({ vmcore, vmlinux });
 * for (const t of tscrash.helpers.forEachTask(prog)) console.log(t.member('pid').num(), t.member('comm').string());
 */
import { registerBuiltins } from '../commands/index.js';
import type { OutputFormat } from '../commands/registry.js';
import { listCommands, resolveCommand } from '../commands/registry.js';
import { setOutputFormat } from '../commands/result.js';
import { runLine } from '../commands/runner.js';
import { Program } from '../program/index.js';
import { registerScriptCommands } from './script.js';

/** crash's session conventions the built-ins share: the current task (`set`), task arguments, the task header. */
export {
  currentTask,
  resolveTasks,
  setCurrentTask,
  type TaskRef,
  taskHeader,
  taskRef,
} from '../commands/lib/context.js';
export {
  type Command,
  type CommandContext,
  type CommandOrigin,
  type OutputFormat,
  type RegisterOptions,
  registerCommand,
  runForText,
} from '../commands/registry.js';
export { type Hex, type JsonLine, jsonLine, type TextResult, toJsonValue } from '../commands/result.js';
export type { OutputKind, RunResult, Writer } from '../commands/runner.js';
export {
  BadDataError,
  type BitField,
  CommandError,
  type CType,
  FaultError,
  type FaultReason,
  InterruptedError,
  LookupError,
  type Member,
  MissingDebugInfoError,
  type ModuleDebug,
  Obj,
  offsetOf,
  Program,
  pointerTo,
  strip,
  TscrashError,
  typeName,
} from '../program/index.js';
/**
 * The helpers: helpers/ (tasks, lists, per-cpu, unwinding, modules, slab, mm, printk, mce, xarrays) and drgn's names.
 */
export * as helpers from './helpers.js';

/** What `open` takes: the dump, and the vmlinux with its debug info (types, variables, source lines). */
export interface OpenArgs {
  vmcore?: string;
  vmlinux?: string;
  /** Open even when the vmlinux's build-id does not match the dump's. */
  force?: boolean;
}

/** The built-in commands and the session's `run`, registered once. */
function registerAll(): void {
  registerBuiltins();
  registerScriptCommands();
}

/**
 * Open a dump (drgn's `program_from_core_dump`): the Program, with the vmlinux's debug info loaded when one is
 * given (its DWARF name index read from the on-disk cache, or built), else the types of the BTF the dump's
 * kernel carries, when it has some (`prog.debug.source` is `'btf'`). The built-in commands are registered.
 *
 * @example
 * const prog = await tscrash.open({ vmcore, vmlinux });
 * prog.variable('init_task').member('comm').string(); // 'swapper/0'
 */
export async function open(args: OpenArgs): Promise<Program> {
  registerAll();
  return Program.load({ vmcore: args.vmcore, vmlinux: args.vmlinux, force: args.force });
}

/**
 * The command of that name or alias, built-in or a plugin's (undefined if none): run it with a CommandContext
 * of your own (`cmd.run(ctx, args)`, then `cmd.text(result, ctx)` for its text view, as the session does).
 */
export async function command(name: string): Promise<import('../commands/registry.js').Command | undefined> {
  registerAll();
  return resolveCommand(name);
}

/** Every registered command (built-ins and plugins'), by name. */
export async function commands(): Promise<import('../commands/registry.js').Command[]> {
  registerAll();
  return listCommands();
}

/**
 * Run a command line as the session does (`bt -a`, `ps | grep bash`, `p jiffies > file`): its output (errors
 * included, as `cmd: message`) and whether it succeeded. `format: 'json'` gives the JSON line instead.
 *
 * @example
 * const { text } = await tscrash.runCommand(prog, 'sys');
 */
export async function runCommand(
  prog: Program,
  line: string,
  opts: { format?: OutputFormat } = {},
): Promise<{ ok: boolean; text: string }> {
  registerAll();
  let text = '';
  const r = await runLine(prog, line, (s) => (text += s), { format: opts.format });
  return { ok: r.ok, text };
}

/** The session's output form for `prog` (`set output json|text`): what `ctx.format` is for its commands. */
export function setOutput(prog: Program, format: OutputFormat): void {
  setOutputFormat(prog, format);
}
