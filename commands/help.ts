import { CommandError } from '../program/index.js';
import { type Command, listCommands, resolveCommand } from './registry.js';

/** help: the commands (name, summary, aliases, whether each has a result model), or one command's help text. */
export type HelpResult =
  | { commands: { name: string; summary: string; aliases: string[]; resultType?: string }[] }
  | { command: string; help: string };

export const help: Command<HelpResult> = {
  name: 'help',
  resultType: 'HelpResult',
  usesTypes: false,
  aliases: ['h'],
  summary: "list the commands, or show one command's help",
  help: `NAME
  help - list the commands, or show one command's help

SYNOPSIS
  help [command]
`,
  async run(_ctx, args): Promise<HelpResult> {
    if (args[0]) {
      const c = await resolveCommand(args[0]);
      if (!c) throw new CommandError(`no such command: ${args[0]}`);
      return { command: c.name, help: c.help.endsWith('\n') ? c.help : `${c.help}\n` };
    }
    return {
      commands: (await listCommands()).map((c) => ({
        name: c.name,
        summary: c.summary,
        aliases: c.aliases ?? [],
        resultType: c.resultType,
      })),
    };
  },
  text(r, ctx) {
    if ('help' in r) {
      ctx.out(r.help);
      return;
    }
    for (const c of r.commands) ctx.out(`${c.name.padEnd(10)} ${c.summary}\n`);
    ctx.out(`${'q'.padEnd(10)} leave the session\n`);
  },
};
