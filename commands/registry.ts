/**
 * The command registry: built-in commands and plugins register the same way.
 * A command gets the Program and an output sink; it throws to report failure
 * (the runner prints the message and the session goes on).
 */
import type { Program } from '../program/program.js';

export interface CommandContext {
  program: Program;
  /** Append text to the command's output. */
  out(text: string): void;
}

export interface Command {
  name: string;
  aliases?: string[];
  /** One line for `help`'s list. */
  summary: string;
  /** Full help text (crash style: synopsis, description, options, examples). */
  help: string;
  run(ctx: CommandContext, args: string[]): void | Promise<void>;
  /**
   * Whether the command reads types from the vmlinux's debug info (default true): the runner loads the debug
   * info (the DWARF index, cached on disk) before the first such command, so memory-only commands start at once.
   */
  usesTypes?: boolean;
}

/** A registered command: loaded, or the module that has it (built-ins load when first run, for start-up time). */
interface Entry {
  name: string;
  cmd?: Command;
  load?: () => Promise<Command>;
}

const commands = new Map<string, Entry>();
const aliases = new Map<string, string>();

function add(name: string, names: string[], entry: Entry): void {
  if (commands.has(name)) throw new Error(`command ${name} is already registered`);
  commands.set(name, entry);
  for (const a of names) aliases.set(a, name);
}

export function registerCommand(cmd: Command): void {
  add(cmd.name, cmd.aliases ?? [], { name: cmd.name, cmd });
}

/** A command whose module is imported the first time it is looked up by `resolveCommand`. */
export function registerLazyCommand(name: string, names: string[], load: () => Promise<Command>): void {
  add(name, names, { name, load });
}

function entry(name: string): Entry | undefined {
  return commands.get(name) ?? commands.get(aliases.get(name) ?? '');
}

/** Whether a command (or alias) of that name is registered. */
export function hasCommand(name: string): boolean {
  return entry(name) !== undefined;
}

/** The command of that name (or alias), loading its module if need be. */
export async function resolveCommand(name: string): Promise<Command | undefined> {
  const e = entry(name);
  if (!e) return undefined;
  if (!e.cmd) {
    const cmd = await e.load!();
    if (cmd.name !== e.name) throw new Error(`command module for ${e.name} gave ${cmd.name}`);
    e.cmd = cmd;
  }
  return e.cmd;
}

/** Every command name and alias (completion). */
export function commandNames(): string[] {
  return [...commands.keys(), ...aliases.keys()];
}

/** Every command, loaded, by name. */
export async function listCommands(): Promise<Command[]> {
  const out: Command[] = [];
  for (const name of [...commands.keys()].sort((a, b) => a.localeCompare(b))) out.push((await resolveCommand(name))!);
  return out;
}
