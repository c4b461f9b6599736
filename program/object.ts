/**
 * Obj: a typed value of the crashed kernel, drgn-style. Either an lvalue (a
 * type at a kernel virtual address, read when asked) or a computed value (an
 * address taken, a cast pointer, a constant). Every read names what it reads,
 * so a fault says which object and member could not be read.
 */
import { LookupError, TscrashError } from '../core/errors.js';
import { type CType, type Member, sizeOf } from '../symbols/dwarf/types.js';
import type { Program } from './program.js';

const MASK64 = (1n << 64n) - 1n;

/** The type with typedefs and qualifiers removed. */
export function strip(t: CType): CType {
  let x = t;
  for (let i = 0; i < 64 && (x.kind === 'typedef' || x.kind === 'qualified'); i++) x = x.target;
  return x;
}

/** A short C spelling of a type, for messages and simple output. */
export function typeName(t: CType): string {
  switch (t.kind) {
    case 'base':
      return t.name;
    case 'void':
      return 'void';
    case 'pointer':
      return `${typeName(t.target)} *`;
    case 'struct':
    case 'union':
    case 'enum':
      return `${t.kind} ${t.name ?? '{...}'}`;
    case 'typedef':
      return t.name;
    case 'array':
      return `${typeName(t.element)} ${t.counts.map((c) => `[${c ?? ''}]`).join('')}`;
    case 'function':
      return `${typeName(t.ret)} (${t.params.map(typeName).join(', ')}${t.variadic ? ', ...' : ''})`;
    case 'qualified':
      return `${t.qualifier} ${typeName(t.target)}`;
  }
}

/** The type `T *` of a pointer to `target`. */
export function pointerTo(target: CType): CType {
  return { kind: 'pointer', target, size: 8 };
}

function isSigned(t: CType): boolean {
  const s = strip(t);
  if (s.kind === 'base') return !/unsigned|_Bool|bool/.test(s.name);
  if (s.kind === 'enum') return s.values.some(([, v]) => BigInt(v) < 0n);
  return false;
}

/** One step of a member path: `.name` or `[index]`. */
type PathStep = { member: string } | { index: number };

export function parseMemberPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  const re = /\s*(?:(->|\.)?\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*\])/y;
  let i = 0;
  const s = path.trim();
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || (steps.length > 0 && m[2] !== undefined && m[1] === undefined)) {
      throw new LookupError(`bad member path "${path}" at "${s.slice(i)}"`);
    }
    if (m[2] !== undefined) steps.push({ member: m[2] });
    else steps.push({ index: Number(m[3]) });
    i = re.lastIndex;
  }
  return steps;
}

/** Find a member by name, looking through anonymous struct/union members; offset is from the start of `t`. */
export function findMember(t: CType, name: string): { offset: number; member: Member } | undefined {
  const s = strip(t);
  if (s.kind !== 'struct' && s.kind !== 'union') return undefined;
  for (const m of s.members) {
    if (m.name === name) return { offset: m.offset, member: m };
  }
  for (const m of s.members) {
    if (m.name) continue;
    const inner = findMember(m.type, name);
    if (inner) return { offset: m.offset + inner.offset, member: inner.member };
  }
  return undefined;
}

/** Byte offset of a member path (`a.b[2].c`) in a struct type; pointers are not followed. */
export function offsetOf(t: CType, path: string): { offset: number; type: CType; member?: Member } {
  let cur = t;
  let off = 0;
  let last: Member | undefined;
  for (const step of parseMemberPath(path)) {
    const s = strip(cur);
    if ('member' in step) {
      const f = findMember(s, step.member);
      if (!f) throw new LookupError(`${typeName(cur)} has no member ${step.member}`);
      off += f.offset;
      cur = f.member.type;
      last = f.member;
    } else {
      if (s.kind !== 'array') throw new LookupError(`${typeName(cur)} is not an array`);
      const elem = s.counts.length > 1 ? { ...s, counts: s.counts.slice(1) } : s.element;
      off += step.index * sizeOf(elem);
      cur = elem;
      last = undefined;
    }
  }
  return { offset: off, type: cur, member: last };
}

/** Where a bitfield member lies in its object. */
export interface BitField {
  /** Bit position from the start of the object's address (little-endian numbering). */
  bitOffset: number;
  bitSize: number;
}

/**
 * A value of the program (drgn's Object): an lvalue at an address, or a computed value, with its C type. `member`,
 * `index`, `deref`, `cast`, `containerOf` give other objects; `value`, `num`, `string`, `bytes` read it.
 */
export class Obj {
  constructor(
    readonly prog: Program,
    readonly type: CType,
    /** Where the value lives, for an lvalue. */
    readonly address?: bigint,
    /** The value itself, for a computed scalar (pointer or integer). */
    private readonly computed?: bigint,
    readonly bitField?: BitField,
    /** What this object is, for messages: `init_task.tasks.next`. */
    readonly expr = '',
  ) {}

  /** The object of `type` at `address`. */
  static at(prog: Program, type: CType, address: bigint, expr = ''): Obj {
    return new Obj(prog, type, address & MASK64, undefined, undefined, expr);
  }

  /** A computed object of `type` (a pointer or an integer) holding `value`. */
  static value(prog: Program, type: CType, value: bigint, expr = ''): Obj {
    return new Obj(prog, type, undefined, value & MASK64, undefined, expr);
  }

  get size(): number {
    return sizeOf(this.type);
  }

  get kind(): CType['kind'] {
    return strip(this.type).kind;
  }

  private what(suffix = ''): string {
    return (this.expr || `(${typeName(this.type)})`) + suffix;
  }

  private needAddress(op: string): bigint {
    if (this.address === undefined)
      throw new TscrashError(`${this.what()}: cannot ${op} a value that is not in memory`);
    return this.address;
  }

  /** The raw bytes of an lvalue. */
  bytes(): Uint8Array {
    const a = this.needAddress('read the bytes of');
    return this.prog.memory.readVirt(a, this.size, this.what());
  }

  /** An integer, pointer, enum or bitfield as an unsigned (or, for signed types, signed) bigint. */
  value(): bigint {
    if (this.computed !== undefined) return this.signExtend(this.computed, this.size * 8);
    const a = this.needAddress('read');
    const s = strip(this.type);
    if (s.kind === 'struct' || s.kind === 'union' || s.kind === 'array' || s.kind === 'function' || s.kind === 'void') {
      throw new TscrashError(`${this.what()}: a ${s.kind} has no scalar value`);
    }
    if (this.bitField) {
      const { bitOffset, bitSize } = this.bitField;
      const first = Math.floor(bitOffset / 8);
      const nbytes = Math.ceil((bitOffset + bitSize) / 8) - first;
      const b = this.prog.memory.readVirt(a + BigInt(first), nbytes, this.what());
      let v = 0n;
      for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
      v = (v >> BigInt(bitOffset - first * 8)) & ((1n << BigInt(bitSize)) - 1n);
      return this.signExtend(v, bitSize);
    }
    const n = this.size;
    const m = this.prog.memory;
    let v: bigint;
    switch (n) {
      case 1:
        v = BigInt(m.readU8(a, this.what()));
        break;
      case 2:
        v = BigInt(m.readU16(a, this.what()));
        break;
      case 4:
        v = BigInt(m.readU32(a, this.what()));
        break;
      case 8:
        v = m.readU64(a, this.what());
        break;
      default: {
        if (n <= 0 || n > 16) throw new TscrashError(`${this.what()}: cannot read a ${n}-byte scalar`);
        const b = m.readVirt(a, n, this.what());
        v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
      }
    }
    return this.signExtend(v, n * 8);
  }

  private signExtend(v: bigint, bits: number): bigint {
    if (bits <= 0 || !isSigned(this.type)) return v;
    const top = 1n << BigInt(bits - 1);
    return v & top ? v - (1n << BigInt(bits)) : v;
  }

  /** `value()` as a number (for counts, PIDs, sizes: exact up to 2^53). */
  num(): number {
    return Number(this.value());
  }

  /** Whether the value is non-zero. */
  bool(): boolean {
    return this.value() !== 0n;
  }

  /** Whether a pointer is NULL (or an integer zero). */
  isNull(): boolean {
    return this.value() === 0n;
  }

  /** `.name`, `->name` or `[i]` steps; pointers to structs are followed on the way, as drgn's member_ does. */
  member(path: string): Obj {
    let cur: Obj = this;
    for (const step of parseMemberPath(path)) {
      if ('index' in step) {
        cur = cur.index(step.index);
        continue;
      }
      let s = strip(cur.type);
      if (s.kind === 'pointer') {
        cur = cur.deref();
        s = strip(cur.type);
      }
      if (s.kind !== 'struct' && s.kind !== 'union') {
        throw new LookupError(`${cur.what()}: ${typeName(cur.type)} has no members (looking for ${step.member})`);
      }
      const f = findMember(s, step.member);
      if (!f) throw new LookupError(`${cur.what()}: ${typeName(cur.type)} has no member ${step.member}`);
      const base = cur.needAddress(`take member ${step.member} of`);
      const expr = `${cur.expr}.${step.member}`;
      const m = f.member;
      if (m.bitSize !== undefined) {
        // Bit offset relative to the containing struct; make it relative to the byte address of the member's unit.
        const containerBit = (f.offset - m.offset) * 8 + (m.bitOffset ?? m.offset * 8);
        cur = new Obj(cur.prog, m.type, base, undefined, { bitOffset: containerBit, bitSize: m.bitSize }, expr);
      } else {
        cur = new Obj(cur.prog, m.type, (base + BigInt(f.offset)) & MASK64, undefined, undefined, expr);
      }
    }
    return cur;
  }

  /** Whether the (possibly pointed-to) struct has this member: feature detection. */
  hasMember(name: string): boolean {
    let s = strip(this.type);
    if (s.kind === 'pointer') s = strip(s.target);
    return findMember(s, name) !== undefined;
  }

  /** Element `i` of an array, or of the array a pointer points into (`p[i]`). */
  index(i: number | bigint): Obj {
    const s = strip(this.type);
    const idx = BigInt(i);
    if (s.kind === 'array') {
      const elem: CType = s.counts.length > 1 ? { ...s, counts: s.counts.slice(1) } : s.element;
      const base = this.needAddress('index');
      return Obj.at(this.prog, elem, base + idx * BigInt(sizeOf(elem)), `${this.expr}[${i}]`);
    }
    if (s.kind === 'pointer') {
      const t = s.target;
      const sz = strip(t).kind === 'void' ? 1 : sizeOf(t);
      return Obj.at(this.prog, t, this.value() + idx * BigInt(sz), `${this.expr}[${i}]`);
    }
    throw new TscrashError(`${this.what()}: ${typeName(this.type)} cannot be indexed`);
  }

  /** The object a pointer points to (`*p`). */
  deref(): Obj {
    const s = strip(this.type);
    if (s.kind === 'pointer') return Obj.at(this.prog, s.target, this.value(), `*${this.expr}`);
    if (s.kind === 'array') return this.index(0);
    throw new TscrashError(`${this.what()}: ${typeName(this.type)} is not a pointer`);
  }

  /** A pointer to this lvalue (`&obj`). */
  addressOf(): Obj {
    if (this.bitField) throw new TscrashError(`${this.what()}: cannot take the address of a bitfield`);
    return Obj.value(this.prog, pointerTo(this.type), this.needAddress('take the address of'), `&${this.expr}`);
  }

  /** Reinterpret: scalars convert by value; anything else keeps its address. */
  cast(type: CType | string): Obj {
    const t = typeof type === 'string' ? this.prog.type(type) : type;
    const to = strip(t).kind;
    const from = strip(this.type).kind;
    const expr = `(${typeName(t)})${this.expr}`;
    if ((to === 'pointer' || to === 'base' || to === 'enum') && from !== 'struct' && from !== 'union') {
      let v = from === 'array' ? this.needAddress('cast') : this.value();
      // A cast to a narrower integer keeps its low bits, as C converts (the sign comes from the type on reading).
      const bits = BigInt(sizeOf(t) * 8);
      if (to !== 'pointer' && bits > 0n && bits < 64n) v &= (1n << bits) - 1n;
      return Obj.value(this.prog, t, v, expr);
    }
    return Obj.at(this.prog, t, this.needAddress('cast'), expr);
  }

  /** The `type` that contains this object (a pointer to, or the lvalue of, its member `memberPath`). */
  containerOf(type: string | CType, memberPath: string): Obj {
    const t = typeof type === 'string' ? this.prog.type(type) : type;
    const a = strip(this.type).kind === 'pointer' ? this.value() : this.needAddress('container_of');
    const { offset } = offsetOf(t, memberPath);
    return Obj.at(
      this.prog,
      t,
      (a - BigInt(offset)) & MASK64,
      `container_of(${this.expr}, ${typeName(t)}, ${memberPath})`,
    );
  }

  /** A char array's or char pointer's string (stops at NUL, at most `max` bytes). */
  string(max = 4096): string {
    const s = strip(this.type);
    if (s.kind === 'array') {
      const n = Math.min(max, this.size || max);
      const b = this.prog.memory.readVirt(this.needAddress('read'), n, this.what());
      const nul = b.indexOf(0);
      return new TextDecoder('latin1').decode(nul >= 0 ? b.subarray(0, nul) : b);
    }
    if (s.kind === 'pointer') {
      const p = this.value();
      if (p === 0n) throw new TscrashError(`${this.what()}: NULL string pointer`);
      return this.prog.memory.readCString(p, max, this.what());
    }
    throw new TscrashError(`${this.what()}: ${typeName(this.type)} is not a string`);
  }

  /** The enumerator name of an enum value, if any. */
  enumName(): string | undefined {
    const s = strip(this.type);
    if (s.kind !== 'enum') return undefined;
    const v = this.value();
    return s.values.find(([, x]) => BigInt(x) === v)?.[0];
  }

  /** `Obj(type @ address)`, for messages. */
  toString(): string {
    return `Obj(${typeName(this.type)}${this.address !== undefined ? ` @ 0x${this.address.toString(16)}` : ''})`;
  }
}
