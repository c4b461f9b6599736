import {
  defaultModuleDirs,
  listModules,
  loadModuleDebug,
  loadModuleSymbols,
  type ModuleInfo,
  moduleFilesUnder,
  unloadModuleDebug,
} from '../helpers/modules.js';
import { CommandError, InterruptedError, type Program, TscrashError } from '../program/index.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

const HEADER = '     MODULE       NAME                    BASE          SIZE  OBJECT FILE\n';

/** A loaded module as mod lists it. */
export interface ModRow {
  /** The struct module's address. */
  module: Hex;
  name: string;
  base: Hex;
  size: number;
  /** The object file whose debug info is loaded (mod -s / -S). */
  objectFile?: string;
}

/** mod: the module table (null for -d and -D, which print nothing); `missing`: names asked for, not loaded. */
export interface ModResult {
  table: ModRow[] | null;
  missing?: string[];
}

function row(prog: Program, m: ModuleInfo): ModRow {
  return {
    module: m.address,
    name: m.name,
    base: m.base,
    size: Number(m.size),
    objectFile: prog.modulesWithDebug.get(m.name)?.path,
  };
}

function line(r: ModRow): string {
  // crash ends a loaded module's line with a space after the path.
  const obj = r.objectFile !== undefined ? `${r.objectFile} ` : '(not loaded)  [CONFIG_KALLSYMS]';
  return `${r.module.toString(16)}  ${r.name.padEnd(16)}  ${r.base.toString(16)}  ${String(r.size).padStart(6)}  ${obj}\n`;
}

export const mod: Command<ModResult> = {
  resultType: 'ModResult',
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
                       /lib/modules/RELEASE, then from the debuginfod servers
                       in DEBUGINFOD_URLS by its build-id (into their cache).
                       Each section is placed where the loaded module has it
                       (from its sysfs section attributes in memory).
  -S [directory]       Load every loaded module's debug info found under the
                       directory (by default the places above; debuginfod's
                       for the modules not found there).
  -d module            Drop a module's debug info.
  -D                   Drop every module's debug info.

  TSCRASH_DEBUG_ROOT replaces /usr/lib/debug.
`,
  async run(ctx, args): Promise<ModResult> {
    const prog = ctx.program;
    if (prog.noModules) throw new CommandError('no kernel module access: tscrash was started with --no_modules');
    loadModuleSymbols(prog);
    const all = listModules(prog).sort((a, b) => (a.address < b.address ? -1 : 1));
    const byName = (n: string): ModuleInfo => {
      const m = all.find((x) => x.name === n || x.name === n.replace(/-/g, '_'));
      if (!m) throw new CommandError(`${n}: not loaded`);
      return m;
    };
    const opt = args[0];
    if (opt === '-s') {
      if (!args[1] || args.length > 3) throw new CommandError('usage: mod -s module [objfile]');
      const m = byName(args[1]);
      try {
        await loadModuleDebug(prog, m, args[2]);
      } catch (e) {
        if (e instanceof TscrashError && !(e instanceof InterruptedError)) throw new CommandError(e.message);
        throw e;
      }
      return { table: [row(prog, m)] };
    }
    if (opt === '-S') {
      if (args.length > 2) throw new CommandError('usage: mod -S [directory]');
      const files = moduleFilesUnder(args[1] ? [args[1]] : defaultModuleDirs(prog));
      const errors: string[] = [];
      for (const m of all) {
        try {
          if (!prog.modulesWithDebug.has(m.name)) await loadModuleDebug(prog, m, undefined, files);
        } catch (e) {
          if (!(e instanceof TscrashError) || e instanceof InterruptedError) throw e;
          errors.push(`mod: ${m.name}: ${e.message}`);
        }
      }
      if (errors.length && errors.length === all.length) throw new CommandError(errors.join('\n'));
      return { table: all.map((m) => row(prog, m)) };
    }
    if (opt === '-d') {
      if (!args[1]) throw new CommandError('usage: mod -d module');
      const m = byName(args[1]);
      if (!unloadModuleDebug(prog, m)) throw new CommandError(`${m.name}: no debug info loaded`);
      return { table: null };
    }
    if (opt === '-D') {
      for (const m of all) unloadModuleDebug(prog, m);
      return { table: null };
    }
    if (opt?.startsWith('-')) throw new CommandError(`option ${opt} is not supported (mod -s, -S, -d, -D)`);
    const mods = args.length ? all.filter((m) => args.includes(m.name)) : all;
    return { table: mods.map((m) => row(prog, m)), missing: args.length && !mods.length ? args : undefined };
  },
  text(r, ctx) {
    if (r.table === null) return;
    if (r.table.length === 0) {
      ctx.out(r.missing ? `mod: ${r.missing.join(' ')}: not loaded\n` : 'no modules installed\n');
      return;
    }
    ctx.out(HEADER + r.table.map(line).join(''));
  },
};
