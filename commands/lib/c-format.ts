/**
 * C types and values printed the way crash shows them (through gdb): type
 * declarations (`struct list_head *next;`, `int (*init)(void);`), struct and
 * union definitions with crash's 4-space indentation and its `struct -o`
 * offset column, and gdb's pretty value print (`next = 0xffff...,`).
 */
import { FaultError } from '../../core/errors.js';
import { Obj, strip } from '../../program/object.js';
import type { Program } from '../../program/program.js';
import { type CType, type Member, sizeOf } from '../../symbols/dwarf/types.js';
import { hostCharset, printable, stringElements } from './locale.js';

/** How crash spells gcc's DWARF base type names. */
const BASE_SPELLING: Record<string, string> = {
  'long unsigned int': 'unsigned long',
  'long int': 'long',
  'long long unsigned int': 'unsigned long long',
  'long long int': 'long long',
  'short unsigned int': 'unsigned short',
  'short int': 'short',
};

export function baseName(name: string): string {
  return BASE_SPELLING[name] ?? name;
}

/** The leaf spelling of a type (its name, without declarator parts). */
function leafName(t: CType): string {
  switch (t.kind) {
    case 'base':
      return baseName(t.name);
    case 'void':
      return 'void';
    case 'typedef':
      return t.name;
    case 'struct':
    case 'union':
      return t.name ? `${t.kind} ${t.name}` : `${t.kind} {...}`;
    case 'enum':
      return t.name ? `enum ${t.name}` : 'enum {...}';
    default:
      return '?';
  }
}

/**
 * `decl(type, name)`: a C declaration as gdb prints it: `struct list_head *next`, `char comm[16]`,
 * `unsigned long (*fn)(struct file *, unsigned long)`, `const char **p`; with name '' an abstract type name.
 * `leaf` overrides the leaf spelling (an inline struct body).
 */
export function decl(t: CType, name: string, leaf?: (t: CType) => string): string {
  let inner = name;
  let cur = t;
  const leafOf = leaf ?? leafName;
  for (let guard = 0; guard < 64; guard++) {
    switch (cur.kind) {
      case 'pointer': {
        const target = cur.target;
        const tk = strip(target).kind;
        const paren = (tk === 'array' || tk === 'function') && target.kind !== 'typedef';
        inner = paren ? `(*${inner})` : `*${inner}`;
        cur = target;
        continue;
      }
      case 'array':
        inner = `${inner}${cur.counts.map((c) => `[${c ?? ''}]`).join('')}`;
        cur = cur.element;
        continue;
      case 'function': {
        const params = cur.params.map((p) => decl(p, ''));
        if (cur.variadic) params.push('...');
        inner = `${inner}(${params.length ? params.join(', ') : 'void'})`;
        cur = cur.ret;
        continue;
      }
      case 'qualified': {
        const target = cur.target;
        if (target.kind === 'pointer') {
          // A qualified pointer: `char * const p`.
          inner = ` ${cur.qualifier}${inner ? ` ${inner}` : ''}`;
          cur = target;
          continue;
        }
        const base = decl(target, inner, leafOf);
        return `${cur.qualifier} ${base}`;
      }
      default: {
        const l = leafOf(cur);
        if (!inner) return l;
        return inner.startsWith(' ') ? `${l}${inner}` : `${l} ${inner}`;
      }
    }
  }
  return `? ${name}`;
}

export interface LayoutOptions {
  /** struct -o: the offset column. */
  offsets?: boolean;
  /** Width of the offset column (crash: digits of the struct's size + 4). */
  width?: number;
}

function enumBody(t: Extract<CType, { kind: 'enum' }>): string {
  let expect = 0n;
  const parts = t.values.map(([n, v]) => {
    const b = BigInt(v);
    const s = b === expect ? n : `${n} = ${b}`;
    expect = b + 1n;
    return s;
  });
  return `{${parts.join(', ')}}`;
}

/** The member lines of a struct/union body at `depth` (1 = directly inside the outermost braces). */
function bodyLines(
  t: Extract<CType, { kind: 'struct' | 'union' }>,
  depth: number,
  base: number,
  opts: LayoutOptions,
  showOffsets: boolean,
  out: string[],
): void {
  const width = opts.width ?? 0;
  const ind = '    '.repeat(opts.offsets ? depth - 1 : depth);
  const col = (off: number | undefined): string =>
    opts.offsets ? `${(off === undefined ? '' : `[${off}]`).padStart(width)} ` : '';
  for (const m of t.members) {
    const off = base + m.offset;
    const mt = m.type;
    const inline = (mt.kind === 'struct' || mt.kind === 'union') && !mt.name;
    if (inline) {
      const s = mt as Extract<CType, { kind: 'struct' | 'union' }>;
      out.push(`${col(undefined)}${ind}${s.kind} {`);
      // Members of an anonymous member are members of the outer struct (they get offsets); those of a named
      // member of an anonymous type do not (crash prints its offset on the closing line instead).
      bodyLines(s, depth + 1, off, opts, showOffsets && !m.name, out);
      out.push(`${col(m.name && showOffsets ? off : undefined)}${ind}}${m.name ? ` ${m.name}` : ''};`);
      continue;
    }
    const d = decl(mt, m.name ?? '', (x) => (x.kind === 'enum' && !x.name ? `enum ${enumBody(x)}` : leafName(x)));
    const bits = m.bitSize !== undefined ? ` : ${m.bitSize}` : '';
    out.push(`${col(showOffsets ? off : undefined)}${ind}${d}${bits};`);
  }
}

/** crash's `struct NAME` / `struct -o NAME` / `union NAME` text: the definition and `SIZE: n`. */
export function typeDefinition(t: CType, opts: LayoutOptions = {}): string {
  const s = strip(t);
  if (s.kind === 'struct' || s.kind === 'union') {
    const out: string[] = [`${s.kind} ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    const width = String(s.size).length + 4;
    bodyLines(s, 1, 0, { ...opts, width }, true, out);
    out.push('}', `SIZE: ${s.size}`);
    return `${out.join('\n')}\n`;
  }
  if (s.kind === 'enum') {
    const lines = [`enum ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    for (const [i, [n, v]] of s.values.entries()) lines.push(`  ${n} = ${v}${i < s.values.length - 1 ? ',' : ''}`);
    lines.push('};', `SIZE: ${s.size}`);
    return `${lines.join('\n')}\n`;
  }
  return `${decl(t, '')};\nSIZE: ${sizeOf(t)}\n`;
}

/** gdb's ptype text of a type: the definition of a struct/union/enum, else the declaration. */
export function ptypeText(t: CType): string {
  const s = t.kind === 'typedef' ? strip(t) : t;
  if (s.kind === 'struct' || s.kind === 'union') {
    const out: string[] = [`type = ${s.kind} ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    bodyLines(s, 1, 0, {}, false, out);
    out.push('}');
    return `${out.join('\n')}\n`;
  }
  if (s.kind === 'enum') return `type = enum ${s.name ? `${s.name} ` : ''}${enumBody(s)}\n`;
  return `type = ${decl(s, '')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Values, as gdb's `print` with `set print pretty on` shows them (what crash's struct and p commands show).

export interface ValueOptions {
  radix?: 10 | 16;
  /** gdb's `print elements` limit (200). */
  maxElements?: number;
}

/** gdb's repeat threshold (crash turns repeats off: every element is printed). */
const REPEAT_THRESHOLD = Number.POSITIVE_INFINITY;
/** crash's gdb `print elements` limit: at most 256 array elements (or string characters) are printed. */
const PRINT_ELEMENTS = 256;

const imageRanges = new WeakMap<Program, [bigint, bigint]>();

/** gdb names addresses of the kernel image (its minimal symbols) as <sym+off>; not heap, per-cpu or module ones. */
function imageSymbol(prog: Program, v: bigint): string {
  let r = imageRanges.get(prog);
  if (!r) {
    const lo = prog.symbols.lookup('_text')?.address ?? 0n;
    const hi = prog.symbols.lookup('_end')?.address ?? 0n;
    r = [lo, hi];
    imageRanges.set(prog, r);
  }
  if (v < r[0] || v >= r[1]) return '';
  const hit = prog.symbols.symbolize(v);
  if (!hit) return '';
  return ` <${hit.symbol.name}${hit.offset ? `+${hit.offset}` : ''}>`;
}

function charEscape(c: number, quote: string): string {
  switch (c) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0b:
      return '\\v';
    case 0x0c:
      return '\\f';
    case 0x0d:
      return '\\r';
    case 0x1b:
      return '\\033';
    case 0x5c:
      return '\\\\';
  }
  if (String.fromCharCode(c) === quote) return `\\${quote}`;
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return `\\${c.toString(8).padStart(3, '0')}`;
}

/**
 * gdb's string text (its generic_printstr) of `bytes[0..end)`: characters in the host charset (see locale.ts), a
 * run of equal ones at a time until `limit` characters (crash's `print elements`) are taken; a printable
 * character is printed as its bytes, others as escapes (named, else each byte in octal), and a digit after an
 * octal escape is escaped too so that it does not read as part of it. `cut` tells whether characters were left.
 */
function stringBody(
  bytes: Uint8Array,
  end: number,
  limit: number,
): { text: string; cut: boolean; incomplete?: string } {
  const charset = hostCharset();
  const elems = stringElements(bytes, end, charset);
  let text = '';
  let needEscape = false;
  let taken = 0;
  let i = 0;
  while (i < elems.length && taken < limit) {
    const e = elems[i]!;
    if (e.incomplete) {
      // gdb closes the string and names the bytes that end inside a character; nothing follows.
      let seq = '';
      for (let b = 0; b < e.length; b++) seq += `\\${bytes[e.start + b]!.toString(8).padStart(3, '0')}`;
      return { text, cut: false, incomplete: seq };
    }
    let run = 1;
    if (e.codePoint !== undefined) while (i + run < elems.length && elems[i + run]!.codePoint === e.codePoint) run++;
    for (let k = 0; k < run; k++) {
      const cp = e.codePoint;
      const digit = cp !== undefined && cp >= 0x30 && cp <= 0x39;
      if (cp !== undefined && printable(cp, charset) && !(needEscape && digit)) {
        text += cp === 0x22 || cp === 0x5c ? `\\${String.fromCharCode(cp)}` : latin1(bytes, e.start, e.length);
        needEscape = false;
      } else if (cp !== undefined && NAMED_ESCAPES.has(cp)) {
        text += NAMED_ESCAPES.get(cp);
        needEscape = false;
      } else {
        for (let b = 0; b < e.length; b++) text += `\\${bytes[e.start + b]!.toString(8).padStart(3, '0')}`;
        needEscape = true;
      }
    }
    taken += run;
    i += run;
  }
  return { text, cut: i < elems.length };
}

const NAMED_ESCAPES = new Map<number, string>([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0b, '\\v'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
]);

function latin1(bytes: Uint8Array, start: number, length: number): string {
  let s = '';
  for (let k = 0; k < length; k++) s += String.fromCharCode(bytes[start + k]!);
  return s;
}

/**
 * gdb's char array: `"swapper/0\000\000"`. As in gdb's printstr, one NUL that ends the array is left out, and
 * "..." marks a string cut at `limit` characters (crash's `print elements`, 256). crash turns repeat blocks off,
 * so runs are printed out.
 */
export function charArrayText(bytes: Uint8Array, limit = PRINT_ELEMENTS): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === 0 ? bytes.length - 1 : bytes.length;
  const { text, cut, incomplete } = stringBody(bytes, end, limit);
  if (incomplete !== undefined) return `${text ? `"${text}", ` : ''}<incomplete sequence ${incomplete}>`;
  return `"${text}"${cut ? '...' : ''}`;
}

/** A NUL-terminated string read through a `char *`, as gdb prints it after the pointer. */
export function cStringText(str: string): string {
  const bytes = Buffer.from(str, 'latin1');
  const { text, incomplete } = stringBody(bytes, bytes.length, Number.MAX_SAFE_INTEGER);
  if (incomplete !== undefined) return `${text ? `"${text}", ` : ''}<incomplete sequence ${incomplete}>`;
  return `"${text}"`;
}

function isCharType(t: CType): boolean {
  const s = strip(t);
  return s.kind === 'base' && /^(unsigned |signed )?char$/.test(s.name);
}

function intText(v: bigint, t: CType, opts: ValueOptions): string {
  const s = strip(t);
  if (s.kind === 'base' && (s.name === '_Bool' || s.name === 'bool')) return v ? 'true' : 'false';
  if (opts.radix === 16) {
    const size = s.kind === 'base' || s.kind === 'enum' ? s.size : 8;
    const u = v < 0n ? v + (1n << BigInt(size * 8)) : v;
    return `0x${u.toString(16)}`;
  }
  if (isCharType(t)) return `${v} '${charEscape(Number(v < 0n ? v + 256n : v), "'")}'`;
  return v.toString();
}

function pointerText(prog: Program, o: Obj): string {
  const v = o.value();
  const hex = `0x${v.toString(16)}`;
  if (v === 0n) return hex;
  const target = strip(strip(o.type).kind === 'pointer' ? (strip(o.type) as { target: CType }).target : o.type);
  if (target.kind === 'function') return `${hex}${imageSymbol(prog, v)}`;
  if (isCharType(target)) {
    try {
      const str = prog.memory.readCString(v, 200);
      return `${hex}${imageSymbol(prog, v)} ${cStringText(str)}`;
    } catch (e) {
      if (e instanceof FaultError) return `${hex} <error: Cannot access memory at address ${hex}>`;
      throw e;
    }
  }
  return `${hex}${imageSymbol(prog, v)}`;
}

/** gdb's text of a value; nested aggregates indented by `indent` (2 spaces a level). */
export function valueText(o: Obj, opts: ValueOptions = {}, indent = 0): string {
  const prog = o.prog;
  const s = strip(o.type);
  const pad = '  '.repeat(indent + 1);
  try {
    switch (s.kind) {
      case 'struct':
      case 'union': {
        const lines: string[] = [];
        const members = s.members;
        if (members.length === 0) return '{<No data fields>}';
        members.forEach((m: Member, i) => {
          const child = m.name ? o.member(m.name) : anonMember(o, m);
          const text = valueText(child, opts, indent + 1);
          lines.push(`${pad}${m.name ? `${m.name} = ` : ''}${text}${i < members.length - 1 ? ',' : ''}`);
        });
        return lines.length ? `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}` : '{}';
      }
      case 'array': {
        const count = s.counts[0];
        if (count === undefined || count === 0) {
          // A flexible array member: gdb shows its address (and, for chars, the string there).
          const a = o.address ?? 0n;
          const head = `0x${a.toString(16)}${imageSymbol(prog, a)}`;
          if (s.counts.length === 1 && isCharType(s.element)) {
            const str = prog.memory.readCString(a, 200);
            return `${head} ${charArrayText(Buffer.from(`${str}\0`, 'latin1'))}`;
          }
          return head;
        }
        const max = opts.maxElements ?? PRINT_ELEMENTS;
        if (s.counts.length === 1 && isCharType(s.element)) return charArrayText(o.bytes(), max);
        const limit = Math.min(count, max);
        const texts: string[] = [];
        for (let i = 0; i < limit; i++) texts.push(valueText(o.index(i), opts, indent + 1));
        // Runs of equal elements: `0 <repeats 16 times>`.
        const parts: string[] = [];
        for (let i = 0; i < texts.length; ) {
          let run = 1;
          while (i + run < texts.length && texts[i + run] === texts[i]) run++;
          if (run > REPEAT_THRESHOLD) {
            parts.push(`${texts[i]} <repeats ${run} times>`);
            i += run;
          } else {
            for (let k = 0; k < run; k++) parts.push(texts[i]!);
            i += run;
          }
        }
        return `{${parts.join(', ')}${limit < count ? '...' : ''}}`;
      }
      case 'pointer':
        return pointerText(prog, o);
      case 'enum': {
        const v = o.value();
        const name = o.enumName();
        if (name) return name;
        // gdb shows flag enums as (A | B) and unknown values as numbers.
        return v.toString();
      }
      case 'base':
        return intText(o.value(), o.type, opts);
      case 'function':
        return `{${decl(s, '')}} 0x${(o.address ?? 0n).toString(16)}${symSuffix(prog, o.address)}`;
      default:
        return 'void';
    }
  } catch (e) {
    if (e instanceof FaultError) return `<error: Cannot access memory at address 0x${(e.address ?? 0n).toString(16)}>`;
    throw e;
  }
}

function symSuffix(prog: Program, a: bigint | undefined): string {
  return a === undefined ? '' : imageSymbol(prog, a);
}

function anonMember(o: Obj, m: Member): Obj {
  return Obj.at(o.prog, m.type, (o.address as bigint) + BigInt(m.offset), o.expr);
}
