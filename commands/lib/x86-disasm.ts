/**
 * x86-64 disassembly for `dis`: Capstone (the @alexaltea/capstone-js WebAssembly build) decodes, and the
 * text is put into the AT&T spelling gdb (and so crash) prints: no operand-size suffix where a register
 * operand fixes the size, no space after commas, 64-bit immediates unsigned, explicit 0x0 displacements and
 * scale 1 in nops, call and jump targets as absolute addresses.
 */
import { createRequire } from 'node:module';

interface CsInsn {
  address: number | bigint;
  size: number;
  mnemonic: string;
  op_str: string;
}
interface CsDecoder {
  option(opt: number, value: number): void;
  disasm(code: number[] | Uint8Array, offset: number, count?: number): CsInsn[];
  close(): void;
}
interface CsModule {
  Capstone: new (arch: number, mode: number) => CsDecoder;
  ARCH_X86: number;
  MODE_64: number;
  OPT_SYNTAX: number;
  OPT_SYNTAX_ATT: number;
}

let decoder: Promise<CsDecoder> | undefined;

function getDecoder(): Promise<CsDecoder> {
  decoder ??= (async () => {
    const require = createRequire(import.meta.url);
    const factory = require('@alexaltea/capstone-js') as () => Promise<CsModule>;
    const cs = await factory();
    const d = new cs.Capstone(cs.ARCH_X86, cs.MODE_64);
    d.option(cs.OPT_SYNTAX, cs.OPT_SYNTAX_ATT);
    return d;
  })();
  return decoder;
}

export interface Instruction {
  address: bigint;
  size: number;
  bytes: Uint8Array;
  mnemonic: string;
  operands: string;
  /** Absolute address a call/jump goes to, or a RIP-relative operand refers to. */
  target?: bigint;
  /** The target is a memory operand (gdb prints it as a `# 0x... <sym>` comment). */
  targetIsMemory?: boolean;
}

const MASK64 = (1n << 64n) - 1n;

/** Mnemonics whose size suffix gdb leaves out when a register operand gives the size. */
const SUFFIXED = new Set([
  'mov',
  'push',
  'pop',
  'add',
  'sub',
  'and',
  'or',
  'xor',
  'cmp',
  'test',
  'lea',
  'inc',
  'dec',
  'neg',
  'not',
  'shl',
  'shr',
  'sar',
  'sal',
  'rol',
  'ror',
  'imul',
  'mul',
  'div',
  'idiv',
  'xchg',
  'adc',
  'sbb',
  'bt',
  'bts',
  'btr',
  'btc',
  'cmpxchg',
  'xadd',
  'bsf',
  'bsr',
  'popcnt',
  'lzcnt',
  'tzcnt',
  'movbe',
]);
const BRANCHES = /^(call|jmp|j[a-z]+|loop\w*|jrcxz|jecxz|xbegin)q?$/;

function regWidth(ops: string): number | undefined {
  const regs = [...ops.replace(/\([^)]*\)/g, '').matchAll(/%([a-z0-9]+)/g)].map((m) => m[1]!);
  for (const r of regs.reverse()) {
    if (/^r(ax|bx|cx|dx|si|di|sp|bp|\d+)$/.test(r)) return 64;
    if (/^(e(ax|bx|cx|dx|si|di|sp|bp)|r\d+d)$/.test(r)) return 32;
    if (/^((ax|bx|cx|dx|si|di|sp|bp)|r\d+w)$/.test(r)) return 16;
    if (/^([abcd][lh]|sil|dil|spl|bpl|r\d+b)$/.test(r)) return 8;
  }
  return undefined;
}

/** Put one Capstone instruction into gdb's spelling. */
function gdbSpelling(
  mn: string,
  ops: string,
  next: bigint,
  high: bigint,
): Omit<Instruction, 'address' | 'size' | 'bytes'> {
  // Prefixes (lock, rep, notrack ...) stay in front; the rules below apply to the instruction itself.
  const words = mn.split(' ');
  const prefix = words.slice(0, -1).join(' ');
  const r = spell(words[words.length - 1]!, ops, next, high);
  return { ...r, mnemonic: prefix ? `${prefix} ${r.mnemonic}` : r.mnemonic };
}

function spell(mn: string, ops: string, next: bigint, high: bigint): Omit<Instruction, 'address' | 'size' | 'bytes'> {
  let mnemonic = mn;
  let operands = ops.replace(/, /g, ',');
  let target: bigint | undefined;
  let targetIsMemory = false;
  const width = regWidth(operands);
  // Branches: absolute target (Capstone computed it from our low 32-bit origin).
  if (BRANCHES.test(mnemonic)) {
    mnemonic = mnemonic.replace(/q$/, '');
    const m = /^0x([0-9a-f]+)$/.exec(operands);
    if (m) {
      target = (high + BigInt(`0x${m[1]}`)) & MASK64;
      operands = `0x${target.toString(16)}`;
    }
  } else if (/^(ret|leave|iret|sysret|lret)[lq]?$/.test(mnemonic)) {
    mnemonic = mnemonic.replace(/q$/, '');
  } else if (width !== undefined && mnemonic.length > 1) {
    const base = mnemonic.slice(0, -1);
    if (/[bwlq]$/.test(mnemonic) && SUFFIXED.has(base)) mnemonic = base;
  }
  // Small numbers Capstone writes in decimal: gdb writes every immediate and displacement in hex.
  operands = operands.replace(
    /\$(-?)(\d+)(?![x\d])/g,
    (_, sign: string, n: string) => `$${sign}0x${BigInt(n).toString(16)}`,
  );
  operands = operands.replace(
    /(^|[,*\s])(-?)(\d+)\(/g,
    (_, pre: string, sign: string, n: string) => `${pre}${sign}0x${BigInt(n).toString(16)}(`,
  );
  // Negative immediates: gdb shows them as unsigned numbers of the operand's width.
  operands = operands.replace(/\$-0x([0-9a-f]+)/g, (_, h: string) => {
    const bits = BigInt(width ?? 64);
    return `$0x${((1n << bits) - BigInt(`0x${h}`)).toString(16)}`;
  });
  // String instructions: gdb writes the segments, and leaves out the suffix next to a register.
  if (/^(stos|lods|scas|movs|cmps|ins|outs)[bwlq]$/.test(mnemonic)) {
    operands = operands.replace(/(^|,)\(%rdi\)/g, '$1%es:(%rdi)').replace(/(^|,)\(%rsi\)/g, '$1%ds:(%rsi)');
    if (/^(stos|lods|scas)/.test(mnemonic) && regWidth(operands) !== undefined) mnemonic = mnemonic.slice(0, -1);
  }
  // [rbp] and [r13] have no encoding without a displacement: the 0x0 is there, gdb shows it.
  operands = operands.replace(/(^|[,*\s])\((%rbp|%r13)([,)])/g, '$10x0($2$3');
  // Memory operands: gdb always writes the scale of an index, and the (explicit) 0x0 displacement of nops.
  operands = operands.replace(/\((%[a-z0-9]+),(%[a-z0-9]+)\)/g, '($1,$2,1)');
  if (mnemonic.startsWith('nop')) operands = operands.replace(/(^|[,\s])\(/g, '$10x0(');
  // RIP-relative operands point somewhere gdb names in a comment.
  const rip = /(-?0x[0-9a-f]+)\(%rip\)/.exec(operands);
  if (rip) {
    const disp = rip[1]!.startsWith('-') ? -BigInt(rip[1]!.slice(1)) : BigInt(rip[1]!);
    target = (next + disp) & MASK64;
    targetIsMemory = true;
  }
  return { mnemonic, operands, target, targetIsMemory };
}

/** Disassemble `code` located at `address`; at most `count` instructions. */
export async function disassemble(
  code: Uint8Array,
  address: bigint,
  count = Number.POSITIVE_INFINITY,
): Promise<Instruction[]> {
  const d = await getDecoder();
  // Capstone.js keeps addresses in doubles: decode at the low 32 bits and add the high part back.
  const low = address & 0xffffffffn;
  const high = address - low;
  const out: Instruction[] = [];
  let off = 0;
  while (off < code.length && out.length < count) {
    const chunk = code.subarray(off);
    let list: CsInsn[];
    try {
      list = d.disasm(
        Array.from(chunk.subarray(0, Math.min(chunk.length, 16 * 64))),
        Number(low) + off,
        Math.min(64, count - out.length),
      );
    } catch {
      list = []; // Capstone.js throws when it decodes nothing
    }
    if (list.length === 0) {
      // An undecodable byte: gdb prints "(bad)".
      out.push({
        address: address + BigInt(off),
        size: 1,
        bytes: chunk.subarray(0, 1),
        mnemonic: '(bad)',
        operands: '',
      });
      off += 1;
      continue;
    }
    for (const i of list) {
      const a = address + BigInt(off);
      const next = a + BigInt(i.size);
      out.push({
        address: a,
        size: i.size,
        bytes: code.subarray(off, off + i.size),
        ...gdbSpelling(i.mnemonic, i.op_str, next, high),
      });
      off += i.size;
      if (out.length >= count) break;
    }
  }
  return out;
}
