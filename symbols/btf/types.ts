/**
 * C types from BTF, as the DWARF types give them (symbols/dwarf/types.ts's CType): built lazily from type
 * ids and cached; names found through an index made, on the first lookup, in one pass over the ids.
 *
 * What differs from DWARF and how it is carried over:
 *  - multi-dimensional arrays are arrays of arrays in BTF: merged into one array with several counts;
 *  - bitfields: with the struct's kind_flag, the member's offset word holds the bit size (top 8 bits) and bit
 *    offset; without it, the member's INT type holds them (its encoding's offset and bits);
 *  - TYPE_TAG (clang's btf_type_tag) is not a C type: it stands for its target;
 *  - FWD is a declaration, completed from the definition of the same name when one is looked into.
 */
import { LookupError } from '../../core/errors.js';
import type { CType, Member } from '../dwarf/types.js';
import { type Btf, BTF_KIND as K } from './format.js';

type Kind = 'types' | 'functions' | 'variables' | 'enumerators';

/** One pass over the ids: each kind's names (the first definition of a name wins over declarations). */
interface NameIndex {
  types: Map<string, number>;
  functions: Map<string, number>;
  variables: Map<string, number>;
  /** Enumerator name → the enum's id and the enumerator's index. */
  enumerators: Map<string, [number, number]>;
}

/** The kinds a bitfield's INT is reached through. */
const TRANSPARENT = new Set<number>([K.TYPEDEF, K.CONST, K.VOLATILE, K.RESTRICT, K.TYPE_TAG]);

export class BtfTypes {
  private readonly cache = new Map<number, CType>();
  private index: NameIndex | undefined;

  /**
   * @param base the types of the BTF this one is split on (a module's: the kernel's), which keep the base's
   * ids; @param complete where a declaration's definition is looked for when this BTF has none.
   */
  constructor(
    readonly btf: Btf,
    readonly base?: BtfTypes,
    private readonly complete?: (key: string) => CType | undefined,
  ) {}

  /** The number of types (with the base's). */
  get count(): number {
    return this.btf.endId - 1;
  }

  names(): NameIndex {
    if (this.index) return this.index;
    const idx: NameIndex = { types: new Map(), functions: new Map(), variables: new Map(), enumerators: new Map() };
    const b = this.btf;
    // A split BTF's own names: the base's are the base's index.
    for (let id = b.firstId; id < b.endId; id++) {
      const kind = b.kind(id);
      const name = b.name(id);
      if (!name && kind !== K.ENUM && kind !== K.ENUM64) continue;
      switch (kind) {
        case K.STRUCT:
        case K.UNION:
        case K.ENUM:
        case K.ENUM64:
        case K.FWD: {
          const isEnum = kind === K.ENUM || kind === K.ENUM64;
          if (isEnum) {
            const vlen = b.vlen(id);
            const per = kind === K.ENUM ? 2 : 3;
            for (let j = 0; j < vlen; j++) {
              const n = b.str(b.word(id, j * per));
              if (!idx.enumerators.has(n)) idx.enumerators.set(n, [id, j]);
            }
            if (!name) break;
          }
          const prefix =
            kind === K.STRUCT
              ? 'struct'
              : kind === K.UNION
                ? 'union'
                : isEnum
                  ? 'enum'
                  : b.kindFlag(id)
                    ? 'union'
                    : 'struct';
          const key = `${prefix} ${name}`;
          const prev = idx.types.get(key);
          const declaration = kind === K.FWD || (isEnum && b.vlen(id) === 0);
          if (prev === undefined || (!declaration && b.kind(prev) === K.FWD)) idx.types.set(key, id);
          break;
        }
        case K.TYPEDEF:
        case K.INT:
        case K.FLOAT:
          if (!idx.types.has(name)) idx.types.set(name, id);
          break;
        case K.FUNC:
          if (!idx.functions.has(name)) idx.functions.set(name, id);
          break;
        case K.VAR:
          if (!idx.variables.has(name)) idx.variables.set(name, id);
          break;
        default:
          break;
      }
    }
    this.index = idx;
    return idx;
  }

  /** A name's id: this BTF's own, else the base's. */
  lookup(kind: Kind, key: string): number | [number, number] | undefined {
    return this.names()[kind].get(key) ?? this.base?.lookup(kind, key);
  }

  /** An enumerator's value by the enum's id and the enumerator's index. */
  enumValue(id: number, j: number): bigint {
    const b = this.btf;
    if (b.kind(id) === K.ENUM64) {
      const lo = BigInt(b.word(id, j * 3 + 1));
      const hi = BigInt(b.word(id, j * 3 + 2));
      const v = (hi << 32n) | lo;
      return b.kindFlag(id) ? BigInt.asIntN(64, v) : v;
    }
    const w = b.word(id, j * 2 + 1);
    return BigInt(b.kindFlag(id) ? w | 0 : w);
  }

  typeAt(id: number): CType {
    if (id === 0) return { kind: 'void' };
    if (this.base && id < this.btf.firstId) return this.base.typeAt(id);
    const hit = this.cache.get(id);
    if (hit) return hit;
    return this.build(id);
  }

  /** A function's type from its FUNC (or FUNC_PROTO) id. */
  functionType(id: number): CType {
    const b = this.btf;
    return this.typeAt(b.kind(id) === K.FUNC ? b.sizeOrType(id) : id);
  }

  /** Build a type; one that fails part-built (its target is damaged) is not left in the cache to be found again. */
  private build(id: number): CType {
    try {
      return this.buildType(id);
    } catch (e) {
      this.cache.delete(id);
      throw e;
    }
  }

  private buildType(id: number): CType {
    const b = this.btf;
    const kind = b.kind(id);
    const name = b.name(id) || undefined;
    const set = <T extends CType>(t: T): T => {
      this.cache.set(id, t);
      return t;
    };
    switch (kind) {
      case K.INT:
      case K.FLOAT:
        return set({ kind: 'base', name: name ?? '?', size: b.sizeOrType(id) });
      case K.PTR: {
        const t = set({ kind: 'pointer', size: 8 } as Extract<CType, { kind: 'pointer' }>);
        const ref = b.sizeOrType(id);
        Object.defineProperty(t, 'target', {
          configurable: true,
          enumerable: true,
          get: () => {
            const target = this.typeAt(ref);
            Object.defineProperty(t, 'target', { value: target, configurable: true, enumerable: true, writable: true });
            return target;
          },
        });
        return t;
      }
      case K.ARRAY: {
        const t = set({ kind: 'array', counts: [] as (number | undefined)[] } as Extract<CType, { kind: 'array' }>);
        // C's T x[a][b] is BTF's array of a arrays of b: one array with both counts, as DWARF has it.
        let cur = id;
        for (let i = 0; i < 64 && b.kind(cur) === K.ARRAY; i++) {
          // A flexible array member (`x[]`) and a zero-length one (`x[0]`) are both 0: taken as the first.
          const n = b.word(cur, 2);
          t.counts.push(n === 0 ? undefined : n);
          cur = b.word(cur, 0);
        }
        t.element = this.typeAt(cur);
        return t;
      }
      case K.STRUCT:
      case K.UNION: {
        const t = set({
          kind: kind === K.UNION ? 'union' : 'struct',
          name,
          size: b.sizeOrType(id),
          members: [] as Member[],
          offset: id,
        } as Extract<CType, { kind: 'struct' | 'union' }>);
        const vlen = b.vlen(id);
        const kflag = b.kindFlag(id);
        for (let j = 0; j < vlen; j++) {
          const mname = b.str(b.word(id, j * 3)) || undefined;
          const mtype = b.word(id, j * 3 + 1);
          const word = b.word(id, j * 3 + 2);
          let bitOffset = kflag ? word & 0xffffff : word;
          let bitSize = kflag ? word >>> 24 : 0;
          if (!kflag) {
            // The INT's own encoding carries a bitfield's size and its offset within the member's place.
            let r = mtype;
            for (let i = 0; i < 64 && TRANSPARENT.has(b.kind(r)); i++) r = b.sizeOrType(r);
            if (r !== 0 && b.kind(r) === K.INT) {
              const enc = b.word(r, 0);
              const bits = enc & 0xff;
              const off = (enc >>> 16) & 0xff;
              if (off !== 0 || bits !== b.sizeOrType(r) * 8) {
                bitSize = bits;
                bitOffset += off;
              }
            }
          }
          const m: Member = { name: mname, offset: Math.floor(bitOffset / 8), type: this.typeAt(mtype) };
          if (bitSize) {
            m.bitSize = bitSize;
            m.bitOffset = bitOffset;
          }
          t.members.push(m);
        }
        return t;
      }
      case K.ENUM:
      case K.ENUM64: {
        const t = set({ kind: 'enum', name, size: b.sizeOrType(id), values: [] } as Extract<CType, { kind: 'enum' }>);
        const per = kind === K.ENUM ? 2 : 3;
        for (let j = 0; j < b.vlen(id); j++) {
          const v = this.enumValue(id, j);
          t.values.push([b.str(b.word(id, j * per)), v >= -(1n << 31n) && v < 1n << 31n ? Number(v) : v]);
        }
        return t;
      }
      case K.FWD:
        return this.declared(id, b.kindFlag(id) ? 'union' : 'struct', name ?? '');
      case K.TYPEDEF: {
        const t = set({ kind: 'typedef', name: name ?? '?' } as Extract<CType, { kind: 'typedef' }>);
        t.target = this.typeAt(b.sizeOrType(id));
        return t;
      }
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT: {
        const qualifier = kind === K.CONST ? 'const' : kind === K.VOLATILE ? 'volatile' : 'restrict';
        const t = set({ kind: 'qualified', qualifier } as Extract<CType, { kind: 'qualified' }>);
        t.target = this.typeAt(b.sizeOrType(id));
        return t;
      }
      case K.TYPE_TAG: {
        const t = this.typeAt(b.sizeOrType(id));
        return set(t);
      }
      case K.FUNC:
        return set(this.typeAt(b.sizeOrType(id)));
      case K.FUNC_PROTO: {
        const t = set({ kind: 'function', params: [] as CType[], variadic: false } as Extract<
          CType,
          { kind: 'function' }
        >);
        t.ret = this.typeAt(b.sizeOrType(id));
        const vlen = b.vlen(id);
        for (let j = 0; j < vlen; j++) {
          const pt = b.word(id, j * 2 + 1);
          // A last parameter of type void with no name is `...`.
          if (pt === 0 && j === vlen - 1) t.variadic = true;
          else t.params.push(this.typeAt(pt));
        }
        return t;
      }
      case K.VAR:
        return set(this.typeAt(b.sizeOrType(id)));
      default:
        throw new LookupError(`BTF type ${id} (kind ${kind}) is not a C type`);
    }
  }

  /** `struct foo;`: completed from the definition of that name when first looked into, as DWARF's. */
  private declared(id: number, kind: 'struct' | 'union', name: string): CType {
    const t = { kind, name, offset: id } as CType;
    this.cache.set(id, t);
    let full: CType | undefined | null = null;
    const resolve = (): CType | undefined => {
      if (full === null) {
        full = undefined;
        const def = this.names().types.get(`${kind} ${name}`) ?? this.base?.names().types.get(`${kind} ${name}`);
        if (def !== undefined && def !== id && this.btf.kind(def) !== K.FWD) full = this.typeAt(def);
        else {
          const other = this.complete?.(`${kind} ${name}`);
          if (other && other.kind === kind && !(other as { declaration?: boolean }).declaration) full = other;
        }
      }
      return full;
    };
    Object.defineProperties(t, {
      size: { get: () => (resolve() as { size?: number } | undefined)?.size ?? 0, enumerable: true },
      declaration: { get: () => (resolve() ? undefined : true), enumerable: true },
      members: { get: () => (resolve() as { members?: unknown[] } | undefined)?.members ?? [], enumerable: true },
    });
    return t;
  }
}
