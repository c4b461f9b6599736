/**
 * C types from DWARF, built lazily from DIE offsets and cached; named types
 * are found through the name index (name-index.ts) that DebugInfo gives it.
 */
import { LookupError } from '../../core/errors.js';
import { DW_AT, DW_TAG } from './forms.js';
import type { Die, DwarfReader } from './reader.js';

/** A struct or union member: its name (undefined for an anonymous one), type, byte offset and bitfield position. */
export interface Member {
  name?: string;
  offset: number; // bytes
  bitSize?: number;
  /** Bit offset from the start of the containing struct (little-endian numbering), for bitfields. */
  bitOffset?: number;
  type: CType;
}

/**
 * A C type from the debug info: base, pointer, struct/union, array, enum, typedef, function, qualified (const,
 * volatile).
 */
export type CType =
  | { kind: 'base'; name: string; size: number }
  | { kind: 'void' }
  | { kind: 'pointer'; target: CType; size: number }
  | { kind: 'struct' | 'union'; name?: string; size: number; members: Member[]; declaration?: boolean; offset: number }
  | { kind: 'enum'; name?: string; size: number; values: [string, bigint | number][] }
  | { kind: 'typedef'; name: string; target: CType }
  | { kind: 'array'; element: CType; counts: (number | undefined)[] }
  | { kind: 'function'; ret: CType; params: CType[]; variadic: boolean }
  | { kind: 'qualified'; qualifier: 'const' | 'volatile' | 'restrict' | '_Atomic'; target: CType };

export class DwarfTypes {
  readonly reader: DwarfReader;
  private index: (name: string) => number | undefined = () => undefined;
  private readonly cache = new Map<number, CType>();

  constructor(reader: DwarfReader) {
    this.reader = reader;
  }

  /** How type names are looked up: DebugInfo's name index or its search (symbols/dwarf/name-index.ts). */
  setLookup(index: (name: string) => number | undefined): void {
    this.index = index;
  }

  /** `struct task_struct`, `union thread_union`, `enum pid_type`, or a typedef/base name. */
  lookup(name: string): CType {
    const off = this.index(name.trim().replace(/\s+/g, ' '));
    if (off === undefined) throw new LookupError(`no type named ${name} in the debug info`);
    return this.typeAt(off);
  }

  typeAt(offset: number): CType {
    const hit = this.cache.get(offset);
    if (hit) return hit;
    const d = this.reader.readDie(offset);
    if (!d) throw new LookupError(`no DIE at 0x${offset.toString(16)}`);
    return this.build(d);
  }

  private ref(d: Die): CType {
    const t = d.attrs.get(DW_AT.type);
    return typeof t === 'number' ? this.typeAt(t) : { kind: 'void' };
  }

  private num(d: Die, at: number): number | undefined {
    const v = d.attrs.get(at);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  }

  /**
   * An incomplete struct, union or enum (a declaration): its size, members and values are the definition's,
   * looked up by name the first time one is read (as gdb and drgn complete opaque types); while there is no
   * definition it stays a declaration with none.
   */
  private declared(d: Die, key: string): CType {
    const kind = d.tag === DW_TAG.structure_type ? 'struct' : d.tag === DW_TAG.union_type ? 'union' : 'enum';
    const t = { kind, name: d.attrs.get(DW_AT.name) as string, offset: d.offset } as CType & { offset: number };
    this.cache.set(d.offset, t);
    let full: CType | undefined | null = null;
    const resolve = (): CType | undefined => {
      if (full === null) {
        full = undefined;
        const off = this.index(key);
        if (off !== undefined && off !== d.offset) {
          const f = this.typeAt(off);
          if (f.kind === kind && !(f as { declaration?: boolean }).declaration) full = f;
        }
      }
      return full;
    };
    const props: PropertyDescriptorMap = {
      size: { get: () => (resolve() as { size?: number } | undefined)?.size ?? 0, enumerable: true },
      declaration: { get: () => (resolve() ? undefined : true), enumerable: true },
    };
    if (kind === 'enum')
      props.values = { get: () => (resolve() as { values?: unknown[] } | undefined)?.values ?? [], enumerable: true };
    else
      props.members = {
        get: () => (resolve() as { members?: unknown[] } | undefined)?.members ?? [],
        enumerable: true,
      };
    Object.defineProperties(t, props);
    return t;
  }

  private build(d: Die): CType {
    const name = d.attrs.get(DW_AT.name) as string | undefined;
    const size = this.num(d, DW_AT.byte_size) ?? 0;
    // A declaration standing for a type in a type unit (DWARF 4 skeleton): the type itself.
    const sig = d.attrs.get(AT_signature);
    if (typeof sig === 'number' && sig !== d.offset) {
      const t = this.typeAt(sig);
      this.cache.set(d.offset, t);
      return t;
    }
    const prefix = d.tag === DW_TAG.structure_type ? 'struct' : d.tag === DW_TAG.union_type ? 'union' : 'enum';
    if (
      d.attrs.get(DW_AT.declaration) === true &&
      name !== undefined &&
      (d.tag === DW_TAG.structure_type || d.tag === DW_TAG.union_type || d.tag === DW_TAG.enumeration_type)
    ) {
      // `struct foo;` in this unit: completed, when first looked into, from the definition the index names.
      return this.declared(d, `${prefix} ${name}`);
    }
    switch (d.tag) {
      case DW_TAG.base_type: {
        const t: CType = { kind: 'base', name: name ?? '?', size };
        this.cache.set(d.offset, t);
        return t;
      }
      case DW_TAG.pointer_type: {
        const t = { kind: 'pointer', size: size || 8 } as Extract<CType, { kind: 'pointer' }>;
        this.cache.set(d.offset, t);
        const ref = d.attrs.get(DW_AT.type);
        if (typeof ref !== 'number') t.target = { kind: 'void' };
        else {
          // Built when first looked at: a struct's pointers reach most of the kernel's types, and a lookup
          // (whatis, a member path) needs only a few of them.
          Object.defineProperty(t, 'target', {
            configurable: true,
            enumerable: true,
            get: () => {
              const target = this.typeAt(ref);
              Object.defineProperty(t, 'target', {
                value: target,
                configurable: true,
                enumerable: true,
                writable: true,
              });
              return target;
            },
          });
        }
        return t;
      }
      case DW_TAG.structure_type:
      case DW_TAG.union_type: {
        const t: Extract<CType, { kind: 'struct' | 'union' }> = {
          kind: d.tag === DW_TAG.union_type ? 'union' : 'struct',
          name,
          size,
          members: [],
          declaration: d.attrs.get(DW_AT.declaration) === true || undefined,
          offset: d.offset,
        };
        this.cache.set(d.offset, t);
        for (const c of this.reader.childrenOf(d)) {
          if (c.tag !== DW_TAG.member) continue;
          const loc = c.attrs.get(DW_AT.data_member_location);
          let offset = typeof loc === 'number' ? loc : 0;
          const m: Member = { name: c.attrs.get(DW_AT.name) as string | undefined, offset, type: this.ref(c) };
          const bitSize = this.num(c, DW_AT.bit_size);
          if (bitSize !== undefined) {
            m.bitSize = bitSize;
            const dbo = this.num(c, DW_AT.data_bit_offset);
            if (dbo !== undefined) {
              m.bitOffset = dbo;
              offset = Math.floor(dbo / 8);
            } else {
              // DWARF 2/3: DW_AT_bit_offset counts from the most significant bit of the storage unit.
              const storage = this.num(c, DW_AT.byte_size) ?? sizeOf(m.type);
              const bo = this.num(c, DW_AT.bit_offset) ?? 0;
              m.bitOffset = offset * 8 + storage * 8 - bo - bitSize;
            }
            m.offset = offset;
          }
          t.members.push(m);
        }
        return t;
      }
      case DW_TAG.enumeration_type: {
        const t: Extract<CType, { kind: 'enum' }> = { kind: 'enum', name, size, values: [] };
        this.cache.set(d.offset, t);
        for (const c of this.reader.childrenOf(d)) {
          if (c.tag === DW_TAG.enumerator) {
            const v = c.attrs.get(DW_AT.const_value);
            t.values.push([c.attrs.get(DW_AT.name) as string, typeof v === 'bigint' || typeof v === 'number' ? v : 0]);
          }
        }
        return t;
      }
      case DW_TAG.typedef: {
        const t = { kind: 'typedef', name: name ?? '?' } as Extract<CType, { kind: 'typedef' }>;
        this.cache.set(d.offset, t);
        t.target = this.ref(d);
        return t;
      }
      case DW_TAG.array_type: {
        const t = { kind: 'array', counts: [] as (number | undefined)[] } as Extract<CType, { kind: 'array' }>;
        this.cache.set(d.offset, t);
        t.element = this.ref(d);
        for (const c of this.reader.childrenOf(d)) {
          if (c.tag !== DW_TAG.subrange_type) continue;
          const count = this.num(c, DW_AT.count);
          const ub = this.num(c, DW_AT.upper_bound);
          t.counts.push(count ?? (ub !== undefined ? ub + 1 : undefined));
        }
        return t;
      }
      case DW_TAG.subroutine_type: {
        const t = { kind: 'function', params: [] as CType[], variadic: false } as Extract<CType, { kind: 'function' }>;
        this.cache.set(d.offset, t);
        t.ret = this.ref(d);
        for (const c of this.reader.childrenOf(d)) {
          if (c.tag === DW_TAG.formal_parameter) t.params.push(this.ref(c));
          else if (c.tag === DW_TAG.unspecified_parameters) t.variadic = true;
        }
        return t;
      }
      case DW_TAG.const_type:
      case DW_TAG.volatile_type:
      case DW_TAG.restrict_type:
      case DW_TAG.atomic_type: {
        const q =
          d.tag === DW_TAG.const_type
            ? 'const'
            : d.tag === DW_TAG.volatile_type
              ? 'volatile'
              : d.tag === DW_TAG.restrict_type
                ? 'restrict'
                : '_Atomic';
        const t = { kind: 'qualified', qualifier: q } as Extract<CType, { kind: 'qualified' }>;
        this.cache.set(d.offset, t);
        t.target = this.ref(d);
        return t;
      }
      default:
        throw new LookupError(`DIE 0x${d.offset.toString(16)} (tag 0x${d.tag.toString(16)}) is not a type`);
    }
  }
}

const AT_signature = 0x69;

export function sizeOf(t: CType, depth = 0): number {
  // Corrupt DWARF can make a typedef or qualifier chain loop: give up on it instead of recursing forever.
  if (depth > 64) return 0;
  switch (t.kind) {
    case 'base':
    case 'pointer':
    case 'struct':
    case 'union':
    case 'enum':
      return t.size;
    case 'typedef':
    case 'qualified':
      return sizeOf(t.target, depth + 1);
    case 'array':
      return t.counts.reduce<number>((n, c) => n * (c ?? 0), sizeOf(t.element, depth + 1));
    default:
      return 0;
  }
}

/** The members of a struct or union, flattened through anonymous struct/union members (as C sees them). */
export function flatMembers(t: CType, base = 0): { name: string; offset: number; member: Member }[] {
  if (t.kind !== 'struct' && t.kind !== 'union') return [];
  const out: { name: string; offset: number; member: Member }[] = [];
  for (const m of t.members) {
    if (m.name) out.push({ name: m.name, offset: base + m.offset, member: m });
    else {
      let inner = m.type;
      while (inner.kind === 'typedef' || inner.kind === 'qualified') inner = inner.target;
      out.push(...flatMembers(inner, base + m.offset));
    }
  }
  return out;
}
