/**
 * The command registry: built-in commands and plugins register the same way.
 * A command gets the Program and an output sink; it throws to report failure
 * (the runner prints the message and the session goes on).
 */
import type { Program } from '../program/program.js';

/** The session's output form: crash's text, or each command's result as JSON. */
export type OutputFormat = 'text' | 'json';

export interface CommandContext {
  program: Program;
  /** Append text to the command's output (the text view, or a command without a result model). */
  out(text: string): void;
  /** The form the session prints results in. */
  format: OutputFormat;
}

/**
 * A command. One with a result model returns its result (records, not strings) from `run` and renders it in
 * crash's layout with `text`; the runner calls `text` in a text session and prints the result as JSON in a JSON
 * one. A long one may instead, in a text session, write each record's text as it is made and return nothing
 * (foreach, kmem -p: their output streams). A command without one writes its text with `ctx.out` (its JSON is
 * that text).
 */
export interface Command<R = unknown> {
  name: string;
  aliases?: string[];
  /** One line for `help`'s list. */
  summary: string;
  /** Full help text (crash style: synopsis, description, options, examples). */
  help: string;
  // biome-ignore lint/suspicious/noConfusingVoidType: a command without a result model returns nothing (void)
  run(ctx: CommandContext, args: string[]): void | R | Promise<void | R>;
  /** The text view: crash's layout of the result `run` returned, written with ctx.out. */
  text?(result: R, ctx: CommandContext): void;
  /** The name of the result's TypeScript type: its JSON Schema is schemas/NAME.json. */
  resultType?: string;
  /**
   * Whether the command reads types from the vmlinux's debug info (default true): the runner loads the debug
   * info (the DWARF index, cached on disk) before the first such command, so memory-only commands start at once.
   */
  usesTypes?: boolean;
}

/** Run a command for its text (its text view when it has a result model): for commands that run others. */
export async function runForText(cmd: Command, ctx: CommandContext, args: string[]): Promise<void> {
  const r = await cmd.run(ctx, args);
  if (r !== undefined && cmd.text) cmd.text(r, ctx);
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

/** The command of that name (or alias) if its module is loaded (a command that ran is): for text views. */
export function loadedCommand(name: string): Command | undefined {
  return entry(name)?.cmd;
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
