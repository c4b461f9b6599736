/**
 * The command registry: built-in commands and plugins register the same way.
 * A command gets the Program and an output sink; it throws to report failure
 * (the runner prints the message and the session goes on).
 */
import type { Program } from '../program/program.js';

/** The session's output form: crash's text, or each command's result as JSON. */
export type OutputFormat = 'text' | 'json';

/** What a command runs with: the Program, the output sink, and the session's output form. */
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
  /**
   * Run the command with its arguments (the command line's words after the name): return the result, or write text
   * with `ctx.out`; throw to fail (the session prints `name: message` and goes on).
   */
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
  /** The command takes task arguments (PID or task address) as bt does: `foreach ... NAME` may run it. */
  perTask?: boolean;
  /** Replace the command of the same name (a built-in, or another plugin's): without it, registering one fails. */
  override?: boolean;
}

/** Where a command comes from: tscrash itself, or a plugin (its name and the file it was loaded from). */
export interface CommandOrigin {
  kind: 'builtin' | 'plugin';
  /** The plugin's name (its file's name without the extension, or its npm package's name). */
  plugin?: string;
  file?: string;
}

/** How a command is registered (the loader sets the origin of the commands a plugin registers). */
export interface RegisterOptions {
  /** Same as the command's own `override`. */
  override?: boolean;
}

/** A plugin the loader found: where from, what it registered, or why it was not loaded. */
export interface LoadedPlugin {
  name: string;
  file: string;
  /** How it was found: --plugin, TSCRASH_PLUGINS, the config directory, an npm package. */
  source: 'flag' | 'env' | 'config' | 'npm';
  /** The commands it registered. */
  commands: string[];
  /** Loaded, failed while loading (the message), or turned off by TSCRASH_DISABLE_PLUGINS. */
  status: 'loaded' | 'failed' | 'disabled';
  error?: string;
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
  origin: CommandOrigin;
  /** The command this one replaced (`override: true`). */
  replaced?: Entry;
  aliases: string[];
}

const commands = new Map<string, Entry>();
const aliases = new Map<string, string>();
const BUILTIN: CommandOrigin = { kind: 'builtin' };
/** The origin of the commands registered now: the plugin being loaded, else tscrash itself. */
let current: CommandOrigin = BUILTIN;
const plugins: LoadedPlugin[] = [];

function describe(o: CommandOrigin): string {
  return o.kind === 'builtin' ? 'a built-in command' : `a command of plugin ${o.plugin} (${o.file})`;
}

function add(name: string, names: string[], entry: Entry, override: boolean): void {
  if (!/^[^\s|>]+$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a command name`);
  const old = commands.get(name);
  if (old && !override) throw new Error(`${name} is already ${describe(old.origin)} (override: true replaces it)`);
  for (const a of names) {
    const clash = commands.has(a) ? a : aliases.has(a) ? aliases.get(a) : undefined;
    if (clash !== undefined && clash !== name && !override)
      throw new Error(
        `alias ${a} is already ${clash === a ? '' : `an alias of ${clash}, `}${describe(commands.get(clash)!.origin)}`,
      );
  }
  if (old) entry.replaced = old;
  commands.set(name, entry);
  for (const a of names) aliases.set(a, name);
}

/**
 * Register a command: the built-ins and plugins register the same way. A name (or alias) already taken is an
 * error unless the command says `override: true`; `help` then marks the command as replacing the old one.
 */
export function registerCommand<R = unknown>(cmd: Command<R>, opts: RegisterOptions = {}): void {
  if (!cmd || typeof cmd.name !== 'string' || typeof cmd.run !== 'function')
    throw new Error('registerCommand needs a command with a name and a run function');
  add(
    cmd.name,
    cmd.aliases ?? [],
    { name: cmd.name, cmd, origin: current, aliases: cmd.aliases ?? [] },
    (opts.override ?? cmd.override) === true,
  );
}

/** Run `fn` (a plugin's default export) with the commands it registers attributed to `origin`. */
export async function withOrigin<T>(origin: CommandOrigin, fn: () => T | Promise<T>): Promise<T> {
  const before = current;
  current = origin;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/** Where the command of that name (or alias) comes from, and what it replaced. */
export function commandOrigin(name: string): { origin: CommandOrigin; replaced?: CommandOrigin } | undefined {
  const e = entry(name);
  return e && { origin: e.origin, replaced: e.replaced?.origin };
}

/** Take back what a plugin registered (it failed while loading): the commands it replaced come back. */
export function unregisterPlugin(file: string): void {
  for (const e of [...commands.values()]) {
    if (e.origin.file !== file) continue;
    commands.delete(e.name);
    for (const a of e.aliases) if (aliases.get(a) === e.name) aliases.delete(a);
    let back = e.replaced;
    while (back && back.origin.file === file) back = back.replaced;
    if (back) {
      commands.set(back.name, back);
      for (const a of back.aliases) aliases.set(a, back.name);
    }
  }
}

/** The commands the plugin loaded from `file` registered. */
export function commandsOf(file: string): string[] {
  return [...commands.values()].filter((e) => e.origin.file === file).map((e) => e.name);
}

/** Record a plugin the loader found (the `plugins` command lists them). */
export function recordPlugin(p: LoadedPlugin): void {
  plugins.push(p);
}

/** The plugins found this session, in load order. */
export function loadedPlugins(): readonly LoadedPlugin[] {
  return plugins;
}

/** A command whose module is imported the first time it is looked up by `resolveCommand`. */
export function registerLazyCommand(name: string, names: string[], load: () => Promise<Command>): void {
  add(name, names, { name, load, origin: BUILTIN, aliases: names }, false);
}

function entry(name: string): Entry | undefined {
  return commands.get(name) ?? commands.get(aliases.get(name) ?? '');
}

/** Whether the command of that name is loaded and says it takes task arguments (`perTask`). */
export function isPerTask(name: string): boolean {
  return entry(name)?.cmd?.perTask === true;
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
