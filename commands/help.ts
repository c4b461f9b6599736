import { CommandError } from '../program/index.js';
import { type Command, listCommands, resolveCommand } from './registry.js';

export const help: Command = {
  name: 'help',
  usesTypes: false,
  aliases: ['h'],
  summary: "list the commands, or show one command's help",
  help: `NAME
  help - list the commands, or show one command's help

SYNOPSIS
  help [command]
`,
  async run(ctx, args) {
    if (args[0]) {
      const c = await resolveCommand(args[0]);
      if (!c) throw new CommandError(`no such command: ${args[0]}`);
      ctx.out(c.help.endsWith('\n') ? c.help : `${c.help}\n`);
      return;
    }
    for (const c of await listCommands()) ctx.out(`${c.name.padEnd(10)} ${c.summary}\n`);
    ctx.out(`${'q'.padEnd(10)} leave the session\n`);
  },
};
