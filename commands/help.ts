import { CommandError } from '../program/index.js';
import { helpTopic } from './lib/help-topics.js';
import { isMinimalMode, MINIMAL_COMMANDS } from './mode.js';
import { type Command, type CommandOrigin, commandOrigin, listCommands, resolveCommand } from './registry.js';

/** Where a plugin's command comes from (built-ins have none). */
export interface HelpOrigin {
  plugin: string;
  file: string;
  /** The command replaces a built-in, or another plugin's command (`override: true`). */
  replaces?: string;
}

/**
 * help: the commands (name, summary, aliases, whether each has a result model, the plugin of a plugin's
 * command), or one command's help text.
 */
export type HelpResult =
  | { commands: { name: string; summary: string; aliases: string[]; resultType?: string; origin?: HelpOrigin }[] }
  | { command: string; help: string; origin?: HelpOrigin };

function replacedName(o: CommandOrigin): string {
  return o.kind === 'builtin' ? 'the built-in' : `plugin ${o.plugin}'s`;
}

function originOf(name: string): HelpOrigin | undefined {
  const o = commandOrigin(name);
  if (o?.origin.kind !== 'plugin') return undefined;
  const r: HelpOrigin = { plugin: o.origin.plugin ?? '', file: o.origin.file ?? '' };
  if (o.replaced) r.replaces = replacedName(o.replaced);
  return r;
}

function originText(o: HelpOrigin): string {
  return `[plugin ${o.plugin}${o.replaces ? `, replaces ${o.replaces}` : ''}]`;
}

/** A command's help text, as `help NAME` prints it (with its plugin's line), or undefined for no such command. */
export async function helpText(name: string): Promise<string | undefined> {
  const topic = helpTopic(name);
  if (topic !== undefined) return topic;
  const c = await resolveCommand(name);
  if (!c) return undefined;
  const origin = originOf(c.name);
  return `${c.help.endsWith('\n') ? c.help : `${c.help}\n`}${origin ? `\n${originText(origin)} ${origin.file}\n` : ''}`;
}

export const help: Command<HelpResult> = {
  name: 'help',
  resultType: 'HelpResult',
  usesTypes: false,
  summary: "list the commands, or show one command's help",
  help: `NAME
  help - list the commands, or show one command's help

SYNOPSIS
  help [command | input | output]

DESCRIPTION
  Without an argument, lists the commands. With a command's name (or alias),
  shows its help page; "help input" tells how command lines are entered (the
  history, r and !N, input files, aliases), "help output" where output goes
  (the pager, pipes and files, the radix, JSON).
`,
  async run(ctx, args): Promise<HelpResult> {
    if (args[0]) {
      const topic = helpTopic(args[0]);
      if (topic !== undefined) return { command: args[0], help: topic };
      const c = await resolveCommand(args[0]);
      if (!c) throw new CommandError(`no such command: ${args[0]}`);
      return { command: c.name, help: c.help.endsWith('\n') ? c.help : `${c.help}\n`, origin: originOf(c.name) };
    }
    // A minimal session lists the commands it has.
    const minimal = isMinimalMode(ctx.program);
    return {
      commands: (await listCommands())
        .filter((c) => !minimal || MINIMAL_COMMANDS.includes(c.name))
        .map((c) => ({
          name: c.name,
          summary: c.summary,
          aliases: c.aliases ?? [],
          resultType: c.resultType,
          origin: originOf(c.name),
        })),
    };
  },
  text(r, ctx) {
    if ('help' in r) {
      ctx.out(r.help);
      if (r.origin) ctx.out(`\n${originText(r.origin)} ${r.origin.file}\n`);
      return;
    }
    for (const c of r.commands)
      ctx.out(`${c.name.padEnd(10)} ${c.summary}${c.origin ? `  ${originText(c.origin)}` : ''}\n`);
    ctx.out(`${'q'.padEnd(10)} leave the session\n`);
  },
};
