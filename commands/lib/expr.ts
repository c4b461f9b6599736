/**
 * C expressions as crash's `p` and `struct` take them: variables, numbers,
 * enumerators, `.` and `->`, `[i]`, unary `&` and `*`, casts
 * (`(struct task_struct *)0xffff...`), `sizeof(type|expr)`, and + - * / on
 * integers and pointers. Evaluated to an Obj of the program.
 */
import { CommandError, LookupError } from '../../program/index.js';
import { Obj, pointerTo, strip } from '../../program/object.js';
import type { Program } from '../../program/program.js';
import { type CType, sizeOf } from '../../symbols/dwarf/types.js';

const MASK64 = (1n << 64n) - 1n;
/** The deepest nesting an expression may have (gdb's own parser has a stack of about ten thousand). */
const MAX_DEPTH = 1000;

type Tok = { k: 'id' | 'num' | 'op'; v: string };

function lex(s: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(0[xX][0-9a-fA-F]+|\d+)|([A-Za-z_$][A-Za-z0-9_$]*)|(->|<<|>>|[-+*/&.()[\]~!,:]))/y;
  let i = 0;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m) {
      if (/^\s*$/.test(s.slice(i))) break;
      throw new CommandError(`cannot parse "${s}" at "${s.slice(i)}"`);
    }
    if (m[1] !== undefined) out.push({ k: 'num', v: m[1] });
    else if (m[2] !== undefined) out.push({ k: 'id', v: m[2] });
    else out.push({ k: 'op', v: m[3]! });
    i = re.lastIndex;
  }
  return out;
}

const TYPE_WORDS = new Set([
  'struct',
  'union',
  'enum',
  'unsigned',
  'signed',
  'const',
  'volatile',
  'char',
  'short',
  'int',
  'long',
  'void',
  '_Bool',
]);

export interface EvalResult {
  obj?: Obj;
  /** sizeof and other plain numbers. */
  number?: bigint;
}

export class ExprParser {
  private toks: Tok[];
  private i = 0;

  constructor(
    private readonly prog: Program,
    private readonly text: string,
  ) {
    this.toks = lex(text);
  }

  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw new CommandError(`unexpected end of expression: ${this.text}`);
    return t;
  }
  private isOp(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t?.k === 'op' && t.v === v;
  }
  private expect(v: string): void {
    const t = this.next();
    if (t.k !== 'op' || t.v !== v) throw new CommandError(`expected "${v}" in ${this.text}`);
  }

  parse(): Obj {
    const o = this.additive();
    if (this.i < this.toks.length) throw new CommandError(`unexpected "${this.peek()!.v}" in ${this.text}`);
    return o;
  }

  private long(v: bigint): Obj {
    return Obj.value(this.prog, { kind: 'base', name: 'long', size: 8 }, v, v.toString());
  }

  private additive(): Obj {
    let l = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().v;
      const r = this.multiplicative();
      const lk = strip(l.type).kind;
      if (lk === 'pointer' || lk === 'array') {
        const target =
          lk === 'pointer'
            ? (strip(l.type) as { target: CType }).target
            : (strip(l.type) as { element: CType }).element;
        const base = lk === 'pointer' ? l.value() : (l.address as bigint);
        const sz = BigInt(strip(target).kind === 'void' ? 1 : sizeOf(target));
        const v = op === '+' ? base + r.value() * sz : base - r.value() * sz;
        l = Obj.value(this.prog, pointerTo(target), v, `${l.expr} ${op} ${r.expr}`);
      } else {
        l = this.long(op === '+' ? l.value() + r.value() : l.value() - r.value());
      }
    }
    return l;
  }

  private multiplicative(): Obj {
    let l = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = this.next().v;
      const r = this.unary();
      if (op === '/' && r.value() === 0n) throw new CommandError('division by zero');
      l = this.long(op === '*' ? l.value() * r.value() : l.value() / r.value());
    }
    return l;
  }

  /** A type name at the cursor (for casts and sizeof): returns undefined (cursor unchanged) if there is none. */
  private tryType(): CType | undefined {
    const start = this.i;
    const words: string[] = [];
    const tagged = (w: string | undefined): boolean => w === 'struct' || w === 'union' || w === 'enum';
    while (this.peek()?.k === 'id') {
      const w = this.peek()!.v;
      const prev = words[words.length - 1];
      if (tagged(prev)) {
        words.push(w);
        this.i++;
        break;
      }
      if (TYPE_WORDS.has(w)) {
        words.push(w);
        this.i++;
        continue;
      }
      if (words.length === 0 || words.every((x) => x === 'const' || x === 'volatile')) {
        words.push(w); // a typedef name
        this.i++;
      }
      break;
    }
    if (!words.length) return undefined;
    let stars = '';
    while (this.isOp('*')) {
      stars += '*';
      this.i++;
    }
    const spelling = `${words.join(' ')}${stars ? ` ${stars}` : ''}`;
    const t = this.isOp(')') ? this.prog.debug.findType(spelling) : undefined;
    if (t) return t;
    this.i = start;
    return undefined;
  }

  /** How deep the parse is nested (parentheses, unary operators): bounded, so a hostile line cannot exhaust the stack. */
  private depth = 0;

  private unary(): Obj {
    if (++this.depth > MAX_DEPTH) {
      throw new CommandError(
        `expression nested too deeply (more than ${MAX_DEPTH} levels of parentheses or unary operators)`,
      );
    }
    try {
      return this.unaryAt();
    } finally {
      this.depth--;
    }
  }

  private unaryAt(): Obj {
    if (this.isOp('&')) {
      this.next();
      return this.unary().addressOf();
    }
    if (this.isOp('*')) {
      this.next();
      return this.unary().deref();
    }
    if (this.isOp('-')) {
      this.next();
      return this.long(-this.unary().value());
    }
    if (this.peek()?.k === 'id' && this.peek()!.v === 'sizeof') {
      this.next();
      this.expect('(');
      const t = this.tryType();
      let n: number;
      if (t) n = sizeOf(t);
      else n = this.additive().size;
      this.expect(')');
      return Obj.value(this.prog, { kind: 'base', name: 'unsigned long', size: 8 }, BigInt(n), 'sizeof');
    }
    if (this.isOp('(')) {
      const save = this.i;
      this.next();
      const t = this.tryType();
      if (t && this.isOp(')')) {
        this.next();
        return this.unary().cast(t);
      }
      this.i = save;
    }
    return this.postfix();
  }

  private postfix(): Obj {
    let o = this.primary();
    for (;;) {
      if (this.isOp('.') || this.isOp('->')) {
        this.next();
        const id = this.next();
        if (id.k !== 'id') throw new CommandError(`expected a member name in ${this.text}`);
        o = o.member(id.v);
      } else if (this.isOp('[')) {
        this.next();
        const idx = this.additive();
        this.expect(']');
        o = o.index(idx.value());
      } else return o;
    }
  }

  private primary(): Obj {
    const t = this.next();
    if (t.k === 'num') {
      const v = BigInt(t.v);
      // gdb's words for a literal wider than its widest type (unsigned long long).
      if (v > MASK64) throw new CommandError('Numeric constant too large.');
      // One that does not fit a long is an unsigned long, as gdb types it.
      if (v > 0x7fffffffffffffffn)
        return Obj.value(this.prog, { kind: 'base', name: 'unsigned long', size: 8 }, v, t.v);
      return this.long(v);
    }
    if (t.k === 'op' && t.v === '(') {
      const o = this.additive();
      this.expect(')');
      return o;
    }
    if (t.k === 'id') return resolveName(this.prog, t.v);
    throw new CommandError(`unexpected "${t.v}" in ${this.text}`);
  }
}

/** A name: a variable, a function, an enumerator, or a symbol without debug info. */
export function resolveName(prog: Program, name: string): Obj {
  const v = prog.debug.findVariable(name);
  const addr = prog.symbolAddress(name);
  if (v && addr !== undefined) return prog.variable(name);
  const f = prog.debug.findFunction(name);
  if (f && addr !== undefined) return Obj.at(prog, f.type, addr, name);
  const e = prog.debug.findEnumerator(name);
  if (e) return Obj.value(prog, e.type, e.value, name);
  if (addr !== undefined) {
    // gdb: <data variable, no debug info>; treat it as an int-sized datum as gdb does.
    return Obj.at(prog, { kind: 'base', name: 'int', size: 4 }, addr, name);
  }
  throw new LookupError(`No symbol "${name}" in current context.`);
}

export function evaluate(prog: Program, text: string): Obj {
  return new ExprParser(prog, text).parse();
}
