/**
 * C types and values printed the way crash shows them (through gdb): type
 * declarations (`struct list_head *next;`, `int (*init)(void);`), struct and
 * union definitions with crash's 4-space indentation and its `struct -o`
 * offset column, and gdb's pretty value print (`next = 0xffff...,`).
 */
import { type Obj, strip } from '../../program/object.js';
import type { CType } from '../../symbols/dwarf/types.js';
import { hostCharset, printable, stringElements } from './locale.js';
import {
  type IntValue,
  type MemberModel,
  type PointerValue,
  PRINT_ELEMENTS,
  readValue,
  type Spelling,
  type TypeModel,
  typeModel,
  type Value,
} from './value.js';

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

function enumBody(values: readonly (readonly [string, bigint | number])[]): string {
  let expect = 0n;
  const parts = values.map(([n, v]) => {
    const b = BigInt(v);
    const s = b === expect ? n : `${n} = ${b}`;
    expect = b + 1n;
    return s;
  });
  return `{${parts.join(', ')}}`;
}

/** A member's declaration as a struct body shows it: an anonymous enum with its body. */
function memberDecl(t: CType, name: string): string {
  return decl(t, name, (x) => (x.kind === 'enum' && !x.name ? `enum ${enumBody(x.values)}` : leafName(x)));
}

const SPELLING: Spelling = { type: (t) => decl(t, ''), member: memberDecl };

/** The model of the type a definition shows (struct NAME, whatis): the struct, union or enum a typedef names. */
export function definitionModel(t: CType): TypeModel {
  const s = strip(t);
  return typeModel(s.kind === 'struct' || s.kind === 'union' || s.kind === 'enum' ? s : t, SPELLING);
}

/** The model of the type ptype shows: a typedef resolved. */
export function ptypeModel(t: CType): TypeModel {
  return typeModel(t.kind === 'typedef' ? strip(t) : t, SPELLING);
}

/** The member lines of a struct/union body at `depth` (1 = directly inside the outermost braces). */
function bodyLines(
  members: readonly MemberModel[],
  depth: number,
  opts: LayoutOptions,
  showOffsets: boolean,
  out: string[],
): void {
  const width = opts.width ?? 0;
  const ind = '    '.repeat(opts.offsets ? depth - 1 : depth);
  const col = (off: number | undefined): string =>
    opts.offsets ? `${(off === undefined ? '' : `[${off}]`).padStart(width)} ` : '';
  for (const m of members) {
    if (m.inline) {
      out.push(`${col(undefined)}${ind}${m.inline} {`);
      // Members of an anonymous member are members of the outer struct (they get offsets); those of a named
      // member of an anonymous type do not (crash prints its offset on the closing line instead).
      bodyLines(m.members ?? [], depth + 1, opts, showOffsets && !m.name, out);
      out.push(`${col(m.name && showOffsets ? m.offset : undefined)}${ind}}${m.name ? ` ${m.name}` : ''};`);
      continue;
    }
    const bits = m.bitSize !== undefined ? ` : ${m.bitSize}` : '';
    out.push(`${col(showOffsets ? m.offset : undefined)}${ind}${m.declaration}${bits};`);
  }
}

/** crash's `struct NAME` / `struct -o NAME` / `union NAME` text: the definition and `SIZE: n`. */
export function typeDefinition(t: CType, opts: LayoutOptions = {}): string {
  return definitionText(definitionModel(t), opts);
}

/** The text of a definitionModel. */
export function definitionText(s: TypeModel, opts: LayoutOptions = {}): string {
  if (s.kind === 'struct' || s.kind === 'union') {
    const out: string[] = [`${s.kind} ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    const width = String(s.size).length + 4;
    bodyLines(s.members ?? [], 1, { ...opts, width }, true, out);
    out.push('}', `SIZE: ${s.size}`);
    return `${out.join('\n')}\n`;
  }
  if (s.kind === 'enum') {
    const values = s.enumerators ?? [];
    const lines = [`enum ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    for (const [i, { name, value }] of values.entries())
      lines.push(`  ${name} = ${value}${i < values.length - 1 ? ',' : ''}`);
    lines.push('};', `SIZE: ${s.size}`);
    return `${lines.join('\n')}\n`;
  }
  return `${s.type};\nSIZE: ${s.size}\n`;
}

/** gdb's ptype text of a type: the definition of a struct/union/enum, else the declaration. */
export function ptypeText(t: CType): string {
  return ptypeModelText(ptypeModel(t));
}

/** The text of a ptypeModel. */
export function ptypeModelText(s: TypeModel): string {
  if (s.kind === 'struct' || s.kind === 'union') {
    const out: string[] = [`type = ${s.kind} ${s.name ?? ''}${s.name ? ' ' : ''}{`];
    bodyLines(s.members ?? [], 1, {}, false, out);
    out.push('}');
    return `${out.join('\n')}\n`;
  }
  if (s.kind === 'enum')
    return `type = enum ${s.name ? `${s.name} ` : ''}${enumBody((s.enumerators ?? []).map((e) => [e.name, e.value] as const))}\n`;
  return `type = ${s.type}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Values, as gdb's `print` with `set print pretty on` shows them (what crash's struct and p commands show).

export interface ValueOptions {
  radix?: 10 | 16;
  /** gdb's `print elements` limit (200). */
  maxElements?: number;
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

function intText(v: IntValue, opts: ValueOptions): string {
  if (v.style === 'bool') return v.value ? 'true' : 'false';
  if (opts.radix === 16) {
    const u = v.value < 0n ? v.value + (1n << BigInt(v.size * 8)) : v.value;
    return `0x${u.toString(16)}`;
  }
  if (v.style === 'char') return `${v.value} '${charEscape(Number(v.value < 0n ? v.value + 256n : v.value), "'")}'`;
  return v.value.toString();
}

const sym = (s: string | undefined): string => (s ? ` <${s}>` : '');

function pointerText(p: PointerValue): string {
  const hex = `0x${p.address.toString(16)}`;
  if (p.address === 0n) return hex;
  if (p.unreadable) return `${hex} <error: Cannot access memory at address ${hex}>`;
  if (p.string !== undefined) return `${hex}${sym(p.symbol)} ${cStringText(p.string)}`;
  return `${hex}${sym(p.symbol)}`;
}

/** The value tree of an object (see value.ts), read as gdb's print reads it. */
export function valueTree(o: Obj, opts: ValueOptions = {}): Value {
  return readValue(o, (t) => decl(t, ''), opts.maxElements ?? PRINT_ELEMENTS);
}

/** gdb's text of a value; nested aggregates indented by `indent` (2 spaces a level). */
export function valueText(o: Obj, opts: ValueOptions = {}, indent = 0): string {
  return renderValue(valueTree(o, opts), opts, indent);
}

/** gdb's text of a value tree (`set print pretty on`); nested aggregates indented by `indent` (2 spaces a level). */
export function renderValue(v: Value, opts: ValueOptions = {}, indent = 0): string {
  const pad = '  '.repeat(indent + 1);
  switch (v.kind) {
    case 'struct':
    case 'union': {
      const members = v.members;
      if (members.length === 0) return '{<No data fields>}';
      const lines = members.map(
        (m, i) =>
          `${pad}${m.name ? `${m.name} = ` : ''}${renderValue(m.value, opts, indent + 1)}${i < members.length - 1 ? ',' : ''}`,
      );
      return `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
    }
    case 'flex': {
      const head = `0x${v.address.toString(16)}${sym(v.symbol)}`;
      return v.string !== undefined ? `${head} ${charArrayText(Buffer.from(`${v.string}\0`, 'latin1'))}` : head;
    }
    case 'chars':
      return charArrayText(Buffer.from(v.bytes, 'latin1'), opts.maxElements ?? PRINT_ELEMENTS);
    case 'array':
      // crash turns gdb's repeat blocks off: every element is printed.
      return `{${v.elements.map((e) => renderValue(e, opts, indent + 1)).join(', ')}${v.elements.length < v.count ? '...' : ''}}`;
    case 'pointer':
      return pointerText(v);
    case 'enum':
      // gdb shows unknown values as numbers.
      return v.name ?? v.value.toString();
    case 'int':
      return intText(v, opts);
    case 'function':
      return `{${v.type}} 0x${v.address.toString(16)}${sym(v.symbol)}`;
    case 'error':
      return `<error: Cannot access memory at address 0x${v.address.toString(16)}>`;
    default:
      return 'void';
  }
}
