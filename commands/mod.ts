import { listModules, loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import type { Command } from './registry.js';

export const mod: Command = {
  name: 'mod',
  summary: 'module information',
  help: `NAME
  mod - module information

SYNOPSIS
  mod [name]

DESCRIPTION
  Lists the loaded kernel modules from the dump's memory, as crash does: the
  struct module address, the name, the base and size of the module's core
  allocation, and its object file. Module symbols come from each module's
  in-memory kallsyms, so bt, sym and dis name module functions as
  "function [module]" without any file.
`,
  run(ctx, args) {
    const prog = ctx.program;
    if (args.some((a) => a.startsWith('-')))
      throw new CommandError(
        `mod: option ${args.find((a) => a.startsWith('-'))} is not supported (module debug info from .ko files is not loaded yet)`,
      );
    loadModuleSymbols(prog);
    let mods = listModules(prog).sort((a, b) => (a.address < b.address ? -1 : 1));
    if (args.length) mods = mods.filter((m) => args.includes(m.name));
    if (mods.length === 0) {
      ctx.out(args.length ? `mod: ${args.join(' ')}: not loaded\n` : 'no modules installed\n');
      return;
    }
    let text = '     MODULE       NAME                    BASE          SIZE  OBJECT FILE\n';
    for (const m of mods) {
      text += `${m.address.toString(16)}  ${m.name.padEnd(16)}  ${m.base.toString(16)}  ${String(m.size).padStart(6)}  (not loaded)  [CONFIG_KALLSYMS]\n`;
    }
    ctx.out(text);
  },
};
