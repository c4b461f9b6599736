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

const commands = new Map<string, Command>();
const aliases = new Map<string, string>();

export function registerCommand(cmd: Command): void {
  if (commands.has(cmd.name)) throw new Error(`command ${cmd.name} is already registered`);
  commands.set(cmd.name, cmd);
  for (const a of cmd.aliases ?? []) aliases.set(a, cmd.name);
}

export function getCommand(name: string): Command | undefined {
  return commands.get(name) ?? commands.get(aliases.get(name) ?? '');
}

export function listCommands(): Command[] {
  return [...commands.values()].sort((a, b) => a.name.localeCompare(b.name));
}
