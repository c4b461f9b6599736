/**
 * crash's numbers and two-operand expressions (its eval, and its --kaslr OFFSET): a number is decimal when it is
 * all decimal digits, else hexadecimal when it is all hexadecimal digits (a leading 0x optional, at most 16
 * digits), optionally followed by k, m or g (KiB, MiB, GiB) and preceded by ~ (one's complement); an expression is
 * `x OP y` with one operator of + - & | ^ * / % << >> # (power), x and y numbers or symbols, in 64-bit unsigned
 * arithmetic. The rules are crash's (tools.c: calculate, eval_common, stol), written here from their behaviour.
 */

const MASK64 = (1n << 64n) - 1n;

/** A symbol's value, or undefined (crash looks every operand up as a symbol first). */
export type SymbolLookup = (name: string) => bigint | undefined;

/** Why a number or expression could not be read. */
export class CalcError extends Error {
  override name = 'CalcError';
}

/** x / 0 and x % 0 (crash's compiled C takes a SIGFPE there). */
export class DivisionByZero extends Error {
  override name = 'DivisionByZero';
  constructor() {
    super('division by zero');
  }
}

function isDecimal(s: string): boolean {
  return /^[0-9 ]*$/.test(s) && /[0-9]/.test(s);
}

/** crash's hexadecimal(): hex digits and x/X anywhere, a space only as the last character. */
function isHex(s: string): boolean {
  return /^[0-9a-fA-FxX]* ?$/.test(s) && /[0-9a-fA-F]/.test(s);
}

/** crash's stol without a hexadecimal bias: decimal first, then hexadecimal. */
function stol(s: string): bigint {
  s = s.replace(/\s+$/, '');
  if (isDecimal(s)) {
    const t = s.replace(/^ +/, '');
    if (!/^[0-9]+$/.test(t)) throw new CalcError(`${s}: " " is not a digit 0 - 9`);
    const v = BigInt(t);
    // sscanf's %lu saturates.
    return v > MASK64 ? MASK64 : v;
  }
  if (isHex(s)) {
    const t = /^0[xX]/.test(s) ? s.slice(2) : s;
    if (t.length > 16) throw new CalcError(`input string too large: "${t}" (${t.length} vs 16)`);
    // htol skips x and X wherever they are.
    const digits = t.replace(/[xX ]/g, '');
    return digits ? BigInt(`0x${digits}`) : 0n;
  }
  throw new CalcError(`not a valid number: ${s}`);
}

const FACTORS: Record<string, bigint> = { k: 1n << 10n, m: 1n << 20n, g: 1n << 30n };

/** crash's calculate(): a symbol, or a number with an optional k/m/g factor, optionally preceded by ~. */
export function calculate(text: string, lookup?: SymbolLookup): bigint {
  let s = text;
  const complement = s.startsWith('~');
  if (complement) s = s.slice(1);
  const flip = (v: bigint): bigint => (complement ? ~v & MASK64 : v & MASK64);
  const sym = lookup?.(s);
  if (sym !== undefined) return flip(sym);
  let factor = 1n;
  const last = s.slice(-1).toLowerCase();
  if (last in FACTORS) {
    s = s.slice(0, -1);
    if (!isDecimal(s) && !isHex(s)) throw new CalcError(`not a number: ${text}`);
    factor = FACTORS[last]!;
  } else if (!isDecimal(s) && !isHex(s)) throw new CalcError(`not a number: ${text}`);
  return flip(stol(s) * factor);
}

function power(base: bigint, exp: bigint): bigint {
  // crash's power(long, int): the exponent is an int; base * base ... exp times, in 64 bits.
  let e = Number(BigInt.asIntN(32, exp));
  let r = 1n;
  let b = base & MASK64;
  while (e > 0) {
    if (e & 1) r = (r * b) & MASK64;
    b = (b * b) & MASK64;
    e = Math.floor(e / 2);
  }
  return r;
}

/**
 * crash's eval_common: `(x OP y)`, `x OP y`, or a single value; undefined when malformed (crash's "invalid
 * expression"); a division by zero throws DivisionByZero.
 */
export function evalExpression(text: string, lookup?: SymbolLookup): bigint | undefined {
  let work = text;
  if (text.includes('(') || text.includes(')')) {
    if (!text.startsWith('(') || !text.endsWith(')') || text.indexOf(')') !== text.length - 1) return undefined;
    work = text.slice(1, -1);
    if (work.includes('(') || work.includes(')')) return undefined;
  }
  if (work.startsWith('-')) work = `0${work}`;
  const at = work.search(/[#><+\-&|*/%^]/);
  const attempt = (f: () => bigint): bigint | undefined => {
    try {
      return f();
    } catch (e) {
      // crash prints why a number is bad (too many digits) and then that the expression is invalid: the latter.
      if (e instanceof CalcError) return undefined;
      throw e;
    }
  };
  if (at < 0) return attempt(() => calculate(work, lookup));
  const op = work[at]!;
  if ((op === '<' || op === '>') && work[at + 1] !== op) return undefined;
  const left = work.slice(0, at).trim();
  const right = work.slice(at + (op === '<' || op === '>' ? 2 : 1)).trim();
  if (!left || !right) return undefined;
  const a = lookup?.(left) ?? attempt(() => calculate(left, lookup));
  if (a === undefined) return undefined;
  const b = lookup?.(right) ?? attempt(() => calculate(right, lookup));
  if (b === undefined) return undefined;
  let r: bigint;
  switch (op) {
    case '+':
      r = a + b;
      break;
    case '-':
      r = a - b;
      break;
    case '&':
      r = a & b;
      break;
    case '|':
      r = a | b;
      break;
    case '^':
      r = a ^ b;
      break;
    case '*':
      r = a * b;
      break;
    case '/':
      if (b === 0n) throw new DivisionByZero();
      r = a / b;
      break;
    case '%':
      if (b === 0n) throw new DivisionByZero();
      r = a % b;
      break;
    // x86-64's shifts take the count modulo 64, as crash's compiled C does.
    case '<':
      r = a << (b & 63n);
      break;
    case '>':
      r = a >> (b & 63n);
      break;
    default:
      r = power(a, b);
  }
  return r & MASK64;
}

/**
 * crash's parse_line for the words after the command: split at blanks, except that a word starting with `(`
 * runs to the blank after its matching `)` (to the end of the line when there is none).
 */
export function crashWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  const blank = (c: string | undefined): boolean => c === ' ' || c === '\t';
  while (i < n) {
    while (i < n && blank(line[i])) i++;
    if (i >= n) break;
    const start = i;
    if (line[i] === '(') {
      let depth = 1;
      while (depth > 0 && ++i < n) {
        if (line[i] === '(') depth++;
        else if (line[i] === ')') depth--;
      }
      if (i >= n) {
        words.push(line.slice(start));
        break;
      }
      i++;
    }
    while (i < n && !blank(line[i])) i++;
    words.push(line.slice(start, i));
  }
  return words;
}
