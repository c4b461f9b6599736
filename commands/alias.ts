import { CommandError } from '../program/index.js';
import { BUILTIN_ALIASES, inputState } from './lib/input.js';
import { type Command, hasCommand } from './registry.js';

/** alias: crash's table of aliases (ORIGIN ALIAS COMMAND), or the one just made or asked for. */
export interface AliasResult {
  aliases: { origin: 'builtin' | 'runtime'; alias: string; command: string }[];
}

export const alias: Command<AliasResult> = {
  resultType: 'AliasResult',
  name: 'alias',
  usesTypes: false,
  summary: 'list the aliases, or make one',
  help: `NAME
  alias - command aliases

SYNOPSIS
  alias [alias] [command string]

DESCRIPTION
  Without an argument, lists the aliases: crash's built-in ones (man, ?, quit,
  sf, sn, hex, dec, px, pd, for, size, dmesg, lsmod, last) and those made this
  session. With a name alone, shows that alias. With a name and a command
  string, makes the name stand for the command string (the rest of a line that
  uses it is appended); a command's own name cannot be taken. The first word of
  a line is looked up as an alias before it is run.

EXAMPLES
  alias kp kmem -p
  alias ptask "ps -p"
`,
  run(ctx, args): AliasResult {
    const state = inputState(ctx.program);
    const table = (): AliasResult['aliases'] => [
      ...BUILTIN_ALIASES.filter(([a]) => !state.aliases.has(a)).map(([a, command]) => ({
        origin: 'builtin' as const,
        alias: a,
        command,
      })),
      ...[...state.aliases].map(([a, command]) => ({ origin: 'runtime' as const, alias: a, command })),
    ];
    if (args.length === 0) return { aliases: table() };
    const name = args[0]!;
    if (args.length === 1) {
      const found = table().filter((a) => a.alias === name);
      if (found.length === 0) throw new CommandError(`alias does not exist: ${name}`);
      return { aliases: found };
    }
    if (hasCommand(name)) throw new CommandError(`${name} is a command: an alias cannot take its name`);
    if (!/^[^\s|>]+$/.test(name)) throw new CommandError(`${JSON.stringify(name)} cannot be an alias`);
    const command = args.slice(1).join(' ');
    state.aliases.set(name, command);
    return { aliases: [{ origin: 'runtime', alias: name, command }] };
  },
  text(r, ctx) {
    let out = 'ORIGIN   ALIAS    COMMAND\n';
    // crash's layout, to the blank after the command
    for (const a of r.aliases) out += `${a.origin.padEnd(8)} ${a.alias.padEnd(8)} ${a.command} \n`;
    ctx.out(out);
  },
};
