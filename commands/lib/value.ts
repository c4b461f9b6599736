/**
 * Values and types as data: the value tree of an object in the dump (what struct, p and task return) and the
 * model of a type (what struct with no address, whatis and ptype return). c-format.ts renders both in gdb's
 * layout; these hold what a script wants: members with their names, types and offsets, integers and addresses
 * as bigint, strings as the dump's bytes.
 */
import { FaultError } from '../../core/errors.js';
import { Obj, strip } from '../../program/object.js';
import type { Program } from '../../program/program.js';
import { type CType, type Member, sizeOf } from '../../symbols/dwarf/types.js';
import type { Hex } from '../result.js';

/** An integer (a base type or a bitfield); `size` is its type's size in bytes. */
export interface IntValue {
  kind: 'int';
  value: Hex;
  size: number;
  /** gdb prints a bool as true/false and a char with its character. */
  style?: 'bool' | 'char';
}

export interface EnumValue {
  kind: 'enum';
  value: Hex;
  /** The enumerator's name, when the value has one. */
  name?: string;
}

/** A pointer: the address it holds, the kernel-image symbol there, and for a `char *` the string it points to. */
export interface PointerValue {
  kind: 'pointer';
  address: Hex;
  target?: 'char' | 'function';
  /** `schedule+4`: the kernel image's symbol at the address. */
  symbol?: string;
  /** A `char *`'s NUL-terminated string (at most 200 bytes), as the dump's bytes. */
  string?: string;
  /** A `char *` whose string could not be read. */
  unreadable?: boolean;
}

/** A char array, as the dump's bytes. */
export interface CharsValue {
  kind: 'chars';
  bytes: string;
}

/** An array: its element count and the elements read (at most gdb's 256). */
export interface ArrayValue {
  kind: 'array';
  count: number;
  elements: Value[];
}

/** A flexible array member (no count): where it starts, and for chars the string there. */
export interface FlexArrayValue {
  kind: 'flex';
  address: Hex;
  symbol?: string;
  string?: string;
}

export interface MemberValue {
  /** Absent for an anonymous struct or union member. */
  name?: string;
  /** The member's type as C spells it. */
  type: string;
  /** Bytes from the start of the containing struct or union. */
  offset: number;
  bitSize?: number;
  /** Bits from the start of the containing struct or union (little-endian numbering). */
  bitOffset?: number;
  value: Value;
}

export interface AggregateValue {
  kind: 'struct' | 'union';
  members: MemberValue[];
}

export interface FunctionValue {
  kind: 'function';
  type: string;
  address: Hex;
  symbol?: string;
}

export interface VoidValue {
  kind: 'void';
}

/** Memory the value needs is not in the dump. */
export interface ErrorValue {
  kind: 'error';
  address: Hex;
}

export type Value =
  | IntValue
  | EnumValue
  | PointerValue
  | CharsValue
  | ArrayValue
  | FlexArrayValue
  | AggregateValue
  | FunctionValue
  | VoidValue
  | ErrorValue;

/** crash's gdb `print elements` limit: at most 256 array elements (or string characters) are printed. */
export const PRINT_ELEMENTS = 256;

const imageRanges = new WeakMap<Program, [bigint, bigint]>();

/** gdb names addresses of the kernel image (its minimal symbols) as sym+off; not heap, per-cpu or module ones. */
export function imageSymbol(prog: Program, v: bigint): string | undefined {
  let r = imageRanges.get(prog);
  if (!r) {
    const lo = prog.symbols.lookup('_text')?.address ?? 0n;
    const hi = prog.symbols.lookup('_end')?.address ?? 0n;
    r = [lo, hi];
    imageRanges.set(prog, r);
  }
  if (v < r[0] || v >= r[1]) return undefined;
  const hit = prog.symbols.symbolize(v);
  if (!hit) return undefined;
  return `${hit.symbol.name}${hit.offset ? `+${hit.offset}` : ''}`;
}

export function isCharType(t: CType): boolean {
  const s = strip(t);
  return s.kind === 'base' && /^(unsigned |signed )?char$/.test(s.name);
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function pointerValue(prog: Program, o: Obj): PointerValue {
  const v = o.value();
  const p: PointerValue = { kind: 'pointer', address: v };
  const target = strip(strip(o.type).kind === 'pointer' ? (strip(o.type) as { target: CType }).target : o.type);
  if (target.kind === 'function') p.target = 'function';
  else if (isCharType(target)) p.target = 'char';
  if (v === 0n) return p;
  if (p.target === 'char') {
    try {
      p.string = prog.memory.readCString(v, 200);
    } catch (e) {
      if (!(e instanceof FaultError)) throw e;
      p.unreadable = true;
      return p;
    }
  }
  p.symbol = imageSymbol(prog, v);
  return p;
}

/**
 * The value tree of an object, as gdb reads it for `print`: a member or element whose memory is not in the
 * dump is an error node and its siblings are still read. `maxElements` bounds the elements of an array read.
 */
export function readValue(o: Obj, declOf: (t: CType) => string, maxElements = PRINT_ELEMENTS): Value {
  const prog = o.prog;
  const s = strip(o.type);
  try {
    switch (s.kind) {
      case 'struct':
      case 'union':
        return {
          kind: s.kind,
          members: s.members.map((m: Member): MemberValue => {
            const child = m.name ? o.member(m.name) : anonMember(o, m);
            const mv: MemberValue = { name: m.name, type: declOf(m.type), offset: m.offset, value: Value0 };
            if (m.bitSize !== undefined) {
              mv.bitSize = m.bitSize;
              mv.bitOffset = m.bitOffset;
            }
            mv.value = readValue(child, declOf, maxElements);
            return mv;
          }),
        };
      case 'array': {
        const count = s.counts[0];
        if (count === undefined || count === 0) {
          // A flexible array member: gdb shows its address (and, for chars, the string there).
          const a = o.address ?? 0n;
          const f: FlexArrayValue = { kind: 'flex', address: a, symbol: imageSymbol(prog, a) };
          if (s.counts.length === 1 && isCharType(s.element)) f.string = prog.memory.readCString(a, 200);
          return f;
        }
        if (s.counts.length === 1 && isCharType(s.element)) return { kind: 'chars', bytes: latin1(o.bytes()) };
        const limit = Math.min(count, maxElements);
        const elements: Value[] = [];
        for (let i = 0; i < limit; i++) elements.push(readValue(o.index(i), declOf, maxElements));
        return { kind: 'array', count, elements };
      }
      case 'pointer':
        return pointerValue(prog, o);
      case 'enum': {
        const v = o.value();
        return { kind: 'enum', value: v, name: o.enumName() };
      }
      case 'base': {
        const iv: IntValue = { kind: 'int', value: o.value(), size: s.size };
        if (s.name === '_Bool' || s.name === 'bool') iv.style = 'bool';
        else if (isCharType(o.type)) iv.style = 'char';
        return iv;
      }
      case 'function': {
        const fv: FunctionValue = { kind: 'function', type: declOf(s), address: o.address ?? 0n };
        if (o.address !== undefined) fv.symbol = imageSymbol(prog, o.address);
        return fv;
      }
      default:
        return { kind: 'void' };
    }
  } catch (e) {
    if (e instanceof FaultError) return { kind: 'error', address: e.address ?? 0n };
    throw e;
  }
}

const Value0: Value = { kind: 'void' };

function anonMember(o: Obj, m: Member): Obj {
  return Obj.at(o.prog, m.type, (o.address as bigint) + BigInt(m.offset), o.expr);
}

// ---------------------------------------------------------------------------------------------------------
// Types.

/** A member of a struct or union type. */
export interface MemberModel {
  /** Absent for an anonymous struct or union member. */
  name?: string;
  /** Bytes from the start of the outermost type (members of anonymous members included). */
  offset: number;
  size: number;
  /** The member's type as C spells it (`struct list_head *`). */
  type: string;
  /** The member's declaration as gdb prints it (`struct list_head *next`; an anonymous enum with its body). */
  declaration: string;
  bitSize?: number;
  /** Bits from the start of the containing struct or union (little-endian numbering). */
  bitOffset?: number;
  /** A struct or union type written inline (one with no name): its kind and members. */
  inline?: 'struct' | 'union';
  members?: MemberModel[];
}

/** A type: kind, name, size, its C spelling; a struct or union's members, an enum's enumerators. */
export interface TypeModel {
  kind: CType['kind'];
  name?: string;
  size: number;
  type: string;
  members?: MemberModel[];
  enumerators?: { name: string; value: Hex }[];
}

/** How a type model spells types (`struct list_head *`) and member declarations (`struct list_head *next`). */
export interface Spelling {
  type(t: CType): string;
  member(t: CType, name: string): string;
}

function memberModels(t: Extract<CType, { kind: 'struct' | 'union' }>, base: number, spell: Spelling): MemberModel[] {
  return t.members.map((m): MemberModel => {
    const off = base + m.offset;
    const mt = m.type;
    const r: MemberModel = {
      name: m.name,
      offset: off,
      size: sizeOf(mt),
      type: spell.type(mt),
      declaration: spell.member(mt, m.name ?? ''),
    };
    if (m.bitSize !== undefined) {
      r.bitSize = m.bitSize;
      r.bitOffset = m.bitOffset;
    }
    if ((mt.kind === 'struct' || mt.kind === 'union') && !mt.name) {
      r.inline = mt.kind;
      r.members = memberModels(mt, off, spell);
    }
    return r;
  });
}

/** The model of a type (not stripped: a typedef is a typedef). */
export function typeModel(t: CType, spell: Spelling): TypeModel {
  const r: TypeModel = { kind: t.kind, size: sizeOf(t), type: spell.type(t) };
  if ('name' in t && t.name) r.name = t.name;
  if (t.kind === 'struct' || t.kind === 'union') r.members = memberModels(t, 0, spell);
  if (t.kind === 'enum') r.enumerators = t.values.map(([name, value]) => ({ name, value: BigInt(value) }));
  return r;
}
