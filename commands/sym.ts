import { loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import type { SymbolEntry } from '../symbols/symtab.js';
import type { Command, CommandContext } from './registry.js';
import type { Hex } from './result.js';

const h = (v: bigint): string => v.toString(16);

/** One symbol sym shows: for an address, the symbol containing it and the offset. */
export interface SymRecord {
  /** The symbol's address, or the address asked about. */
  address: Hex;
  /** System.map's letter: T t D d B b R r ... (lower case: local). */
  letter: string;
  name: string;
  /** The address asked about, past the symbol's start. */
  offset?: number;
  module?: string;
  /** The source file and line (kernel text; module text with the module's debug info). */
  file?: string;
  line?: number;
}

/** sym: the symbols of names or addresses (with `-q`, every symbol whose name contains the string). */
export interface SymResult {
  query?: string;
  symbols: SymRecord[];
}

/** The source line crash shows for a text symbol (module text only with the module's debug info, mod -s). */
function record(prog: Program, e: SymbolEntry, addr: bigint, offset?: bigint): SymRecord {
  const r: SymRecord = { address: addr, letter: e.letter, name: e.name };
  if (offset) r.offset = Number(offset);
  if (e.module) r.module = e.module;
  if (/^[TtWw]$/.test(e.letter) && (!e.module || prog.modulesWithDebug.has(e.module))) {
    const l = prog.lineFor(addr);
    if (l) {
      r.file = l.file;
      r.line = l.line;
    }
  }
  return r;
}

/** crash's suffix: ` [module]` for module symbols (a space left for the line it has none), ` FILE: LINE`. */
function where(r: SymRecord): string {
  const l = r.file !== undefined ? `${r.file}: ${r.line}` : '';
  if (r.module) return ` [${r.module}] ${l}`;
  return l ? ` ${l}` : '';
}

function symText(r: SymResult, ctx: CommandContext): void {
  let out = '';
  for (const e of r.symbols)
    out +=
      r.query !== undefined
        ? `${h(e.address)} (${e.letter}) ${e.name}\n`
        : `${h(e.address)} (${e.letter}) ${e.name}${e.offset ? `+${e.offset}` : ''}${where(e)}\n`;
  ctx.out(out);
}

export const sym: Command<SymResult> = {
  resultType: 'SymResult',
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
  async run(ctx, args): Promise<SymResult> {
    const st = ctx.program.symbols;
    if (args.length === 0) throw new CommandError('usage: sym symbol|address ... | sym -q string');
    if (args[0] === '-q') {
      const s = args[1];
      if (!s) throw new CommandError('sym -q needs a string');
      const symbols: SymRecord[] = [];
      for (const e of st.entries())
        if (e.name.includes(s)) {
          const r: SymRecord = { address: e.address, letter: e.letter, name: e.name };
          if (e.module) r.module = e.module;
          symbols.push(r);
        }
      return { query: s, symbols };
    }
    const symbols: SymRecord[] = [];
    const prog = ctx.program;
    // Module symbols come from the modules' kallsyms, read through struct module (debug info): only when needed.
    const withModules = async (): Promise<void> => {
      if (!prog.hasDump || !prog.canLoadTypes) return;
      await prog.loadTypes();
      loadModuleSymbols(prog);
    };
    // A name not found ends the command; in a text session the symbols found before it are printed first.
    const fail = (message: string): never => {
      if (symbols.length && ctx.format === 'text') symText({ symbols }, ctx);
      throw new CommandError(message);
    };
    for (const a of args) {
      if (/^(0x)?[0-9a-f]+$/i.test(a) && !st.lookup(a)) {
        const addr = BigInt(a.toLowerCase().startsWith('0x') ? a : `0x${a}`);
        let r = st.symbolize(addr);
        if (!r) {
          await withModules();
          r = st.symbolize(addr);
        }
        if (!r) return fail(`invalid address: ${a}`);
        symbols.push(record(prog, r.symbol, addr, r.offset));
      } else {
        let all = st.lookupAll(a);
        if (all.length === 0) {
          await withModules();
          all = st.lookupAll(a);
        }
        if (all.length === 0) return fail(`${a}: symbol not found`);
        for (const e of all) symbols.push(record(prog, e, e.address));
      }
    }
    return { symbols };
  },
  text: symText,
};
