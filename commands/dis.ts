import { loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import type { Program } from '../program/program.js';
import { parseAddress } from './address.js';
import { disassemble, type Instruction } from './lib/x86-disasm.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

const MAX_INSN = 15;
/** The most code one dis reads (a count larger than this many bytes can hold stops there). */
const MAX_CODE = 1 << 20;
/** The code decoded at a time: in a text session, the lines of each window are written before the next. */
const WINDOW = 16 << 10;

/** One instruction: where it is, its bytes, gdb's AT&T text, what it refers to; with -l its source line. */
export interface DisInstruction {
  address: Hex;
  /** `schedule+4`. */
  symbol?: string;
  /** The instruction's bytes, in hex. */
  bytes: string;
  mnemonic: string;
  operands: string;
  /** The address a call or jump goes to, or a RIP-relative operand refers to, and the symbol there. */
  target?: Hex;
  targetSymbol?: string;
  /** The target is a memory operand (gdb names it in a `# 0x... <sym>` comment). */
  targetIsMemory?: boolean;
  /** The 5-byte nop ftrace patches at a function's start (crash marks it `[FTRACE NOP]`). */
  ftraceNop?: boolean;
  /** -l: the instruction's source file and line. */
  file?: string;
  line?: number;
}

/** dis: the instructions disassembled; `lines` (-l): the text view shows each new source line before its code. */
export interface DisResult {
  lines: boolean;
  instructions: DisInstruction[];
}

function symbolAt(prog: Program, a: bigint): string | undefined {
  const r = prog.symbols.symbolize(a);
  if (!r) return undefined;
  return `${r.symbol.name}${r.offset ? `+${r.offset}` : ''}`;
}

const sym = (s: string | undefined): string => (s ? ` <${s}>` : '');

function lineText(i: DisInstruction): string {
  let ops = i.operands;
  if (i.target !== undefined && !i.targetIsMemory) ops += sym(i.targetSymbol);
  let text = `${i.mnemonic.padEnd(6)} ${ops}`;
  if (i.target !== undefined && i.targetIsMemory) text += `        # 0x${i.target.toString(16)}${sym(i.targetSymbol)}`;
  if (i.ftraceNop) text += ' [FTRACE NOP]';
  return `0x${i.address.toString(16)}${sym(i.symbol)}:\t${text}\n`;
}

function record(prog: Program, i: Instruction, lines: boolean): DisInstruction {
  const s = prog.symbols.symbolize(i.address);
  const r: DisInstruction = {
    address: i.address,
    symbol: s ? `${s.symbol.name}${s.offset ? `+${s.offset}` : ''}` : undefined,
    bytes: Buffer.from(i.bytes.buffer, i.bytes.byteOffset, i.bytes.byteLength).toString('hex'),
    mnemonic: i.mnemonic,
    operands: i.operands,
  };
  if (i.target !== undefined) {
    r.target = i.target;
    r.targetSymbol = symbolAt(prog, i.target);
    if (i.targetIsMemory) r.targetIsMemory = true;
  }
  // crash marks the 5-byte nop ftrace patches at a function's start.
  if (s?.offset === 0n && i.mnemonic === 'nopl' && i.size === 5) r.ftraceNop = true;
  if (lines) {
    const l = prog.lineFor(i.address);
    if (l) {
      r.file = l.file;
      r.line = l.line;
    }
  }
  return r;
}

export const dis: Command<DisResult> = {
  resultType: 'DisResult',
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
  async run(ctx, args): Promise<DisResult | undefined> {
    const prog = ctx.program;
    loadModuleSymbols(prog);
    let lines = false;
    let reverse = false;
    const rest: string[] = [];
    for (const a of args) {
      if (/^-[lr]+$/.test(a)) {
        if (a.includes('l')) lines = true;
        if (a.includes('r')) reverse = true;
      } else if (a.startsWith('-') && !/^-\d/.test(a)) throw new CommandError(`unsupported option ${a}`);
      else rest.push(a);
    }
    if (rest.length === 0 || rest.length > 2) throw new CommandError('usage: dis [-l] [-r] address|symbol [count]');
    const addr = parseAddress(prog, rest[0]!);
    const sym = prog.symbols.symbolize(addr);
    let start = addr;
    let count: number;
    let end: bigint | undefined;
    if (reverse) {
      if (!sym) throw new CommandError(`-r: no function contains 0x${addr.toString(16)}`);
      start = sym.symbol.address;
      end = addr;
      count = Number.POSITIVE_INFINITY;
    } else if (rest[1] !== undefined) {
      count = Number(rest[1]);
      if (!Number.isInteger(count) || count <= 0) throw new CommandError(`invalid count ${rest[1]}`);
    } else if (sym && sym.offset === 0n && sym.symbol.size > 0 && /^[A-Za-z_]/.test(rest[0]!)) {
      end = sym.symbol.address + BigInt(sym.symbol.size) - 1n;
      count = Number.POSITIVE_INFINITY;
    } else count = 1;
    const bytes = end !== undefined ? Number(end - start) + MAX_INSN : Math.min(count, 100_000) * MAX_INSN;
    const code = prog.memory.readVirt(start, Math.min(bytes, MAX_CODE), 'code');
    // The code is decoded a window at a time: in a text session each window's lines are written as they are made
    // (a large count streams, and holds no more than a window's records); a JSON result gathers them.
    const gathered: DisInstruction[] = [];
    const stream = ctx.format === 'text';
    const state = { lastLine: '' };
    let off = 0;
    let left = count;
    while (off < code.length && left > 0) {
      const window = code.subarray(off, Math.min(code.length, off + WINDOW + MAX_INSN));
      const last = off + WINDOW >= code.length;
      let insns = await disassemble(window, start + BigInt(off), left);
      // An instruction that starts past the window is decoded again with the next one (its bytes whole).
      if (!last) insns = insns.filter((i) => i.address < start + BigInt(off + WINDOW));
      if (insns.length === 0) break;
      const stop = end !== undefined ? insns.findIndex((i) => i.address > end!) : -1;
      if (stop >= 0) insns = insns.slice(0, stop);
      const records = insns.map((i) => record(prog, i, lines));
      if (stream) ctx.out(disText(records, lines, state));
      else gathered.push(...records);
      left -= insns.length;
      const tail = insns[insns.length - 1];
      if (stop >= 0 || !tail) break;
      off = Number(tail.address - start) + tail.size;
    }
    if (stream) return undefined;
    return { lines, instructions: gathered };
  },
  text(r, ctx) {
    ctx.out(disText(r.instructions, r.lines, { lastLine: '' }));
  },
};

/** Instructions as crash prints them (`-l`: a file and line before each line's instructions). */
function disText(instructions: DisInstruction[], lines: boolean, state: { lastLine: string }): string {
  let out = '';
  for (const i of instructions) {
    if (lines) {
      const text = i.file !== undefined ? `${i.file}: ${i.line}` : '';
      if (text && text !== state.lastLine) out += `${text}\n`;
      state.lastLine = text;
    }
    out += lineText(i);
  }
  return out;
}
