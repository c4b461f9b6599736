import { loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import type { SymbolEntry } from '../symbols/symtab.js';
import type { Command } from './registry.js';

const h = (v: bigint): string => v.toString(16);

/** crash's suffix: ` [module]` for module symbols, ` FILE: LINE` for kernel text. */
function where(prog: Program, e: SymbolEntry, addr: bigint): string {
  if (e.module) {
    // With the module's debug info loaded (mod -s), its file:line; else crash leaves a space for it.
    const l = /^[TtWw]$/.test(e.letter) && prog.modulesWithDebug.has(e.module) ? prog.lineFor(addr) : undefined;
    return ` [${e.module}] ${l ? `${l.file}: ${l.line}` : ''}`;
  }
  if (!/^[TtWw]$/.test(e.letter)) return '';
  const l = prog.lineFor(addr);
  return l ? ` ${l.file}: ${l.line}` : '';
}

export const sym: Command = {
  name: 'sym',
  usesTypes: false,
  summary: 'translate a symbol to its address, or an address to its symbol',
  help: `NAME
  sym - translate a symbol to its virtual address, or vice-versa

SYNOPSIS
  sym symbol | address ...
  sym -q string

DESCRIPTION
  With a name, shows its address and type letter (System.map's T, D, B, R...);
  with an address, the symbol containing it and the offset. Addresses of the
  kernel image are shown relocated by the dump's KASLR offset.

    -q string  every symbol whose name contains the string.
`,
  async run(ctx, args) {
    const st = ctx.program.symbols;
    if (args.length === 0) throw new CommandError('usage: sym symbol|address ... | sym -q string');
    if (args[0] === '-q') {
      const s = args[1];
      if (!s) throw new CommandError('sym -q needs a string');
      for (const e of st.entries()) if (e.name.includes(s)) ctx.out(`${h(e.address)} (${e.letter}) ${e.name}\n`);
      return;
    }
    const prog = ctx.program;
    // Module symbols come from the modules' kallsyms, read through struct module (debug info): only when needed.
    const withModules = async (): Promise<void> => {
      if (!prog.vmlinux || !prog.hasDump) return;
      await prog.loadDebugInfo();
      loadModuleSymbols(prog);
    };
    for (const a of args) {
      if (/^(0x)?[0-9a-f]+$/i.test(a) && !st.lookup(a)) {
        const addr = BigInt(a.toLowerCase().startsWith('0x') ? a : `0x${a}`);
        let r = st.symbolize(addr);
        if (!r) {
          await withModules();
          r = st.symbolize(addr);
        }
        if (!r) throw new CommandError(`invalid address: ${a}`);
        ctx.out(
          `${h(addr)} (${r.symbol.letter}) ${r.symbol.name}${r.offset ? `+${r.offset}` : ''}${where(prog, r.symbol, addr)}\n`,
        );
      } else {
        let all = st.lookupAll(a);
        if (all.length === 0) {
          await withModules();
          all = st.lookupAll(a);
        }
        if (all.length === 0) throw new CommandError(`${a}: symbol not found`);
        for (const e of all) ctx.out(`${h(e.address)} (${e.letter}) ${e.name}${where(prog, e, e.address)}\n`);
      }
    }
  },
};
