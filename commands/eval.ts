import { loadModuleSymbols } from '../helpers/modules.js';
import { CommandError } from '../program/index.js';
import { crashWords, DivisionByZero, evalExpression } from './lib/calc.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

/** eval: the value of an expression (64 bits), and with -b the bit positions set in it (highest first). */
export interface EvalResult {
  value: Hex;
  bits?: number[];
}

const KB = 1n << 10n;
const MB = 1n << 20n;
const GB = 1n << 30n;
const HDR = '   bits set: ';

/** crash's print_number for a 64-bit value. */
export function evalText(r: EvalResult): string {
  const v = r.value;
  let unit = '';
  if (v >= KB) {
    if (v % GB === 0n) unit = `(${v / GB}GB)`;
    else if (v % MB === 0n) unit = `(${v / MB}MB)`;
    else if (v % KB === 0n) unit = `(${v / KB}KB)`;
  }
  const signed = BigInt.asIntN(64, v);
  let out =
    `hexadecimal: ${v.toString(16)}  ${unit}\n` +
    `    decimal: ${v}  ${signed < 0n ? `(${signed})` : ''}\n` +
    `      octal: ${v.toString(8)}\n` +
    `     binary: ${v.toString(2).padStart(64, '0')}\n`;
  if (!r.bits) return out;
  out += HDR;
  let col = HDR.length;
  for (const b of r.bits) {
    const w = `${b} `;
    out += w;
    col += w.length;
    if (col >= 77) {
      out += `\n${' '.repeat(HDR.length)}`;
      col = HDR.length;
    }
  }
  return `${out}\n`;
}

const USAGE = 'usage: eval [-b][-l] (expression) | value';

export const evalCommand: Command<EvalResult> = {
  name: 'eval',
  resultType: 'EvalResult',
  usesTypes: false,
  summary: 'evaluate an expression: hexadecimal, decimal, octal and binary',
  help: `NAME
  eval - evaluate

SYNOPSIS
  eval [-b][-l] (expression) | value

DESCRIPTION
  This command evaluates an expression or numeric value, and displays its
  result in hexadecimal, decimal, octal and binary. If the resultant value
  is an integral number of gigabytes, megabytes, or kilobytes, a short-hand
  translation of the number is also shown next to the hexadecimal value.
  If the most significant bit is set, the decimal display shows both the
  unsigned and the signed (negative) value. Expressions are of the form
  (x operator y), where x and y are numeric values or symbols. The operators
  are:

                     +  -  &  |  ^  *  %  /  <<  >>

  Enclosing the expression within parentheses is optional except when the
  "|", "<<" or ">>" operators are used (without them the session takes | as
  a pipe and > as a redirection). The single "value" argument may be a
  number or a symbol. Numbers are decimal when they are all decimal digits,
  else hexadecimal; a leading "0x" makes a number hexadecimal. Numbers may
  be followed by k or K, m or M, g or G, which multiply the value by 1024,
  1 megabyte or 1 gigabyte. A number may be preceded by the one's
  complement operator ~. Arithmetic is 64-bit unsigned.

    -b  Show which bit positions of the result are set.
    -l  64-bit values (the default on x86_64: accepted, changes nothing).

  The -b and -l options must precede the expression or value.

EXAMPLES
    crash> eval 128m
    hexadecimal: 8000000  (128MB)
        decimal: 134217728
          octal: 1000000000
         binary: 0000000000000000000000000000000000001000000000000000000000000000

    crash> eval -b 41dc065
    hexadecimal: 41dc065
        decimal: 69058661
          octal: 407340145
         binary: 0000000000000000000000000000000000000100000111011100000001100101
       bits set: 26 20 19 18 16 15 14 6 5 2 0
`,
  async run(ctx, args): Promise<EvalResult> {
    // crash reads the options by hand (not getopt), so that a minus sign is not taken for one.
    let i = 0;
    let bits = false;
    const a0 = args[0];
    if (a0 === '-lb' || a0 === '-bl') {
      bits = true;
      i = 1;
    } else if (a0 === '-l') {
      i = 1;
      if (args[1] === '-b' && args[2] !== undefined) {
        bits = true;
        i = 2;
      }
    } else if (a0 === '-b') {
      if (args[1] === '-l') {
        if (args[2] === undefined) throw new CommandError(USAGE);
        bits = true;
        i = 2;
      } else if (args[1] !== undefined) {
        bits = true;
        i = 1;
      }
    }
    if (args[i] === undefined) throw new CommandError(USAGE);
    // The words as crash's parse_line makes them: a parenthesized expression is one word.
    const words = crashWords(args.slice(i).join(' '));
    const paren = words.find((w) => w.startsWith('('));
    const text = paren ?? `(${words.slice(0, words.length).join(' ').trim()})`;
    const prog = ctx.program;
    const st = prog.symbols;
    const lookup = (name: string): bigint | undefined => {
      if (!/^[A-Za-z_.$][\w.$]*$/.test(name)) return undefined;
      return st.lookup(name)?.address;
    };
    // Module symbols (read through struct module, with the debug info) only when a name is not the kernel's.
    const names = text.match(/[A-Za-z_$][\w.$]*/g) ?? [];
    if (names.some((n) => /[g-jl-zG-JL-Z_$.]/.test(n) && lookup(n.replace(/^~/, '')) === undefined)) {
      if (prog.vmlinux && prog.hasDump && !prog.noModules) {
        try {
          await prog.loadDebugInfo();
          loadModuleSymbols(prog);
        } catch {
          // Without module symbols the name is simply not a symbol.
        }
      }
    }
    let value: bigint | undefined;
    try {
      value = evalExpression(text, lookup);
    } catch (e) {
      if (e instanceof DivisionByZero) throw new CommandError(`division by zero: ${text}`);
      throw e;
    }
    if (value === undefined) throw new CommandError(`invalid expression: ${text}`);
    const r: EvalResult = { value };
    if (bits) {
      r.bits = [];
      for (let b = 63; b >= 0; b--) if ((value >> BigInt(b)) & 1n) r.bits.push(b);
    }
    return r;
  },
  text(r, ctx) {
    ctx.out(evalText(r));
  },
};
