import { loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { parseAddress } from './address.js';
import { disassemble, type Instruction } from './lib/x86-disasm.js';
import type { Command } from './registry.js';

const MAX_INSN = 15;

function where(prog: Program, a: bigint): string {
  const r = prog.symbols.symbolize(a);
  if (!r) return '';
  return ` <${r.symbol.name}${r.offset ? `+${r.offset}` : ''}>`;
}

function line(prog: Program, i: Instruction, first: boolean): string {
  let ops = i.operands;
  if (i.target !== undefined && !i.targetIsMemory) ops += where(prog, i.target);
  let text = `${i.mnemonic.padEnd(6)} ${ops}`;
  if (i.target !== undefined && i.targetIsMemory)
    text += `        # 0x${i.target.toString(16)}${where(prog, i.target)}`;
  // crash marks the 5-byte nop ftrace patches at a function's start.
  if (first && i.mnemonic === 'nopl' && i.size === 5) text += ' [FTRACE NOP]';
  return `0x${i.address.toString(16)}${where(prog, i.address)}:\t${text}\n`;
}

export const dis: Command = {
  name: 'dis',
  summary: 'disassemble',
  help: `NAME
  dis - disassemble

SYNOPSIS
  dis [-l] [-r] (address | symbol) [count]

DESCRIPTION
  Disassembles kernel (or module) code from the dump's memory in gdb's AT&T
  syntax, as crash does: each instruction with its address and symbol+offset,
  call and jump targets named. A symbol with no count is disassembled whole.

    -l   the source file and line before each line's instructions
    -r   from the start of the function up to and including the address
    count  the number of instructions (default: the whole function for a
           symbol, one instruction for an address)

EXAMPLES
  dis panic
  dis -l schedule 10
  dis -r ffffffff967ccf4d
`,
  async run(ctx, args) {
    const prog = ctx.program;
    loadModuleSymbols(prog);
    let lines = false;
    let reverse = false;
    const rest: string[] = [];
    for (const a of args) {
      if (/^-[lr]+$/.test(a)) {
        if (a.includes('l')) lines = true;
        if (a.includes('r')) reverse = true;
      } else if (a.startsWith('-') && !/^-\d/.test(a)) throw new CommandError(`dis: unsupported option ${a}`);
      else rest.push(a);
    }
    if (rest.length === 0 || rest.length > 2) throw new CommandError('usage: dis [-l] [-r] address|symbol [count]');
    const addr = parseAddress(prog, rest[0]!);
    const sym = prog.symbols.symbolize(addr);
    let start = addr;
    let count: number;
    let end: bigint | undefined;
    if (reverse) {
      if (!sym) throw new CommandError(`dis -r: no function contains 0x${addr.toString(16)}`);
      start = sym.symbol.address;
      end = addr;
      count = Number.POSITIVE_INFINITY;
    } else if (rest[1] !== undefined) {
      count = Number(rest[1]);
      if (!Number.isInteger(count) || count <= 0) throw new CommandError(`dis: invalid count ${rest[1]}`);
    } else if (sym && sym.offset === 0n && sym.symbol.size > 0 && /^[A-Za-z_]/.test(rest[0]!)) {
      end = sym.symbol.address + BigInt(sym.symbol.size) - 1n;
      count = Number.POSITIVE_INFINITY;
    } else count = 1;
    const bytes = end !== undefined ? Number(end - start) + MAX_INSN : Math.min(count, 100_000) * MAX_INSN;
    const code = prog.memory.readVirt(start, Math.min(bytes, 1 << 20), 'code');
    let insns = await disassemble(code, start, count);
    if (end !== undefined) insns = insns.filter((i) => i.address <= end!);
    let out = '';
    let lastLine = '';
    for (const i of insns) {
      if (lines) {
        const l = prog.lineFor(i.address);
        const text = l ? `${l.file}: ${l.line}` : '';
        if (text && text !== lastLine) out += `${text}\n`;
        lastLine = text;
      }
      const s = prog.symbols.symbolize(i.address);
      out += line(prog, i, s?.offset === 0n);
    }
    ctx.out(out);
  },
};
