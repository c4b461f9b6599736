import {
  defaultModuleDirs,
  listModules,
  loadModuleDebug,
  loadModuleSymbols,
  type ModuleInfo,
  moduleFilesUnder,
  unloadModuleDebug,
} from '../helpers/modules.js';
import { CommandError, type Program, TscrashError } from '../program/index.js';
import type { Command } from './registry.js';

const HEADER = '     MODULE       NAME                    BASE          SIZE  OBJECT FILE\n';

function line(prog: Program, m: ModuleInfo): string {
  const loaded = prog.modulesWithDebug.get(m.name);
  // crash ends a loaded module's line with a space after the path.
  const obj = loaded ? `${loaded.path} ` : '(not loaded)  [CONFIG_KALLSYMS]';
  return `${m.address.toString(16)}  ${m.name.padEnd(16)}  ${m.base.toString(16)}  ${String(m.size).padStart(6)}  ${obj}\n`;
}

export const mod: Command = {
  name: 'mod',
  summary: 'module information and debug info',
  help: `NAME
  mod - module information and loading of module debug info

SYNOPSIS
  mod [name ...]
  mod -s module [objfile]
  mod -S [directory]
  mod -d module
  mod -D

DESCRIPTION
  Lists the loaded kernel modules from the dump's memory, as crash does: the
  struct module address, the name, the base and size of the module's core
  allocation, and its object file. Module symbols come from each module's
  in-memory kallsyms, so bt, sym and dis name module functions as
  "function [module]" without any file.

  -s module [objfile]  Load the module's debug info: its types, variables and
                       line numbers join the vmlinux's (struct, p, whatis,
                       sym and bt -l then know them). Without objfile, the
                       file is found by the module's build-id under
                       /usr/lib/debug/.build-id, then as module.ko or
                       module.ko.debug ('_' and '-' alike) under
                       /usr/lib/debug/lib/modules/RELEASE and
                       /lib/modules/RELEASE. Each section is placed where the
                       loaded module has it (from its sysfs section
                       attributes in memory).
  -S [directory]       Load every loaded module's debug info found under the
                       directory (by default the places above).
  -d module            Drop a module's debug info.
  -D                   Drop every module's debug info.

  TSCRASH_DEBUG_ROOT replaces /usr/lib/debug.
`,
  async run(ctx, args) {
    const prog = ctx.program;
    loadModuleSymbols(prog);
    const all = listModules(prog).sort((a, b) => (a.address < b.address ? -1 : 1));
    const byName = (n: string): ModuleInfo => {
      const m = all.find((x) => x.name === n || x.name === n.replace(/-/g, '_'));
      if (!m) throw new CommandError(`mod: ${n}: not loaded`);
      return m;
    };
    const opt = args[0];
    if (opt === '-s') {
      if (!args[1] || args.length > 3) throw new CommandError('usage: mod -s module [objfile]');
      const m = byName(args[1]);
      try {
        await loadModuleDebug(prog, m, args[2]);
      } catch (e) {
        if (e instanceof TscrashError) throw new CommandError(`mod: ${e.message}`);
        throw e;
      }
      ctx.out(HEADER + line(prog, m));
      return;
    }
    if (opt === '-S') {
      if (args.length > 2) throw new CommandError('usage: mod -S [directory]');
      const files = moduleFilesUnder(args[1] ? [args[1]] : defaultModuleDirs(prog));
      let text = HEADER;
      const errors: string[] = [];
      for (const m of all) {
        try {
          if (!prog.modulesWithDebug.has(m.name)) await loadModuleDebug(prog, m, undefined, files);
        } catch (e) {
          if (!(e instanceof TscrashError)) throw e;
          errors.push(`mod: ${m.name}: ${e.message}`);
        }
        text += line(prog, m);
      }
      ctx.out(text);
      if (errors.length && errors.length === all.length) throw new CommandError(errors.join('\n'));
      return;
    }
    if (opt === '-d') {
      if (!args[1]) throw new CommandError('usage: mod -d module');
      const m = byName(args[1]);
      if (!unloadModuleDebug(prog, m)) throw new CommandError(`mod: ${m.name}: no debug info loaded`);
      return;
    }
    if (opt === '-D') {
      for (const m of all) unloadModuleDebug(prog, m);
      return;
    }
    if (opt?.startsWith('-')) throw new CommandError(`mod: option ${opt} is not supported (mod -s, -S, -d, -D)`);
    const mods = args.length ? all.filter((m) => args.includes(m.name)) : all;
    if (mods.length === 0) {
      ctx.out(args.length ? `mod: ${args.join(' ')}: not loaded\n` : 'no modules installed\n');
      return;
    }
    ctx.out(HEADER + mods.map((m) => line(prog, m)).join(''));
  },
};
