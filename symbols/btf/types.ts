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

/** What a name names, in the tables below: a struct, union or enum tag, a typedef/base type, a FUNC, a VAR. */
const CAT = { struct: 0, union: 1, enum: 2, plain: 3, func: 4, var: 5, enumerator: 6 } as const;
const PREFIX = ['struct ', 'union ', 'enum ', '', '', '', ''];

function hashName(b: Uint8Array, start: number, end: number, cat: number): number {
  let h = 0x811c9dc5 ^ cat;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Names to ids without a string a name: an open-addressing table over the names' bytes in the string section
 * (100,000 types: no Map of 100,000 strings). An entry: its category, name offset, id and (enumerators) index.
 */
class NameTable {
  private slots: Int32Array;
  private cat: Uint8Array;
  private off: Uint32Array;
  private ids: Int32Array;
  private aux: Int32Array;
  private count = 0;
  /** span()'s answer: the bytes, and the name's start and end in them. */
  private sb: Uint8Array = new Uint8Array(0);
  private ss = 0;
  private st = 0;

  constructor(
    private readonly btf: Btf,
    expected: number,
  ) {
    let n = 512;
    while (n < expected) n *= 2;
    this.slots = new Int32Array(n * 2).fill(-1);
    this.cat = new Uint8Array(n);
    this.off = new Uint32Array(n);
    this.ids = new Int32Array(n);
    this.aux = new Int32Array(n);
  }

  private span(off: number): void {
    const owner = this.btf.strOwner(off);
    this.sb = owner.bytes;
    this.ss = owner.strPos(off);
    this.st = owner.bytes.indexOf(0, this.ss);
  }

  private grow(): void {
    const n = this.cat.length * 2;
    const more = <T extends Uint8Array | Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.cat = more(this.cat, (k) => new Uint8Array(k));
    this.off = more(this.off, (k) => new Uint32Array(k));
    this.ids = more(this.ids, (k) => new Int32Array(k));
    this.aux = more(this.aux, (k) => new Int32Array(k));
    this.slots = new Int32Array(n * 2).fill(-1);
    for (let e = 0; e < this.count; e++) {
      this.span(this.off[e]!);
      let h = hashName(this.sb, this.ss, this.st, this.cat[e]!) & (this.slots.length - 1);
      while (this.slots[h]! >= 0) h = (h + 1) & (this.slots.length - 1);
      this.slots[h] = e;
    }
  }

  /** The entry of (category, name bytes), or -1. */
  private find(cat: number, b: Uint8Array, s: number, t: number): number {
    const mask = this.slots.length - 1;
    for (let h = hashName(b, s, t, cat) & mask; ; h = (h + 1) & mask) {
      const e = this.slots[h]!;
      if (e < 0) return -1;
      if (this.cat[e] !== cat) continue;
      this.span(this.off[e]!);
      const eb = this.sb;
      const es = this.ss;
      if (this.st - es !== t - s) continue;
      let same = true;
      for (let i = 0; same && i < t - s; i++) same = eb[es + i] === b[s + i];
      if (same) return e;
    }
  }

  /** Add (category, name at off) → id; an entry there already stays unless `replace(its id)` says otherwise. */
  add(cat: number, off: number, id: number, aux: number, replace?: (prev: number) => boolean): void {
    this.span(off);
    const b = this.sb;
    const s = this.ss;
    const t = this.st;
    const e = this.find(cat, b, s, t);
    if (e >= 0) {
      if (replace?.(this.ids[e]!)) {
        this.ids[e] = id;
        this.aux[e] = aux;
      }
      return;
    }
    if (this.count === this.cat.length) this.grow();
    const k = this.count++;
    this.cat[k] = cat;
    this.off[k] = off;
    this.ids[k] = id;
    this.aux[k] = aux;
    const mask = this.slots.length - 1;
    let h = hashName(b, s, t, cat) & mask;
    while (this.slots[h]! >= 0) h = (h + 1) & mask;
    this.slots[h] = k;
  }

  /** The id (and index) of a name in a category. */
  get(cat: number, name: string): [number, number] | undefined {
    const key = Buffer.from(name, 'latin1');
    const e = this.find(cat, key, 0, key.length);
    return e < 0 ? undefined : [this.ids[e]!, this.aux[e]!];
  }

  /** Every name of these categories, spelled as lookups spell them (`struct foo`, `pid_t`). */
  *names(cats: readonly number[]): Generator<string> {
    for (let e = 0; e < this.count; e++) {
      const c = this.cat[e]!;
      if (!cats.includes(c)) continue;
      this.span(this.off[e]!);
      const b = this.sb;
      yield `${PREFIX[c]}${Buffer.from(b.buffer, b.byteOffset + this.ss, this.st - this.ss).toString('latin1')}`;
    }
  }
}

/** A C spelling of a type's name as a category and a name: `struct foo` → struct, foo. */
function typeKey(key: string): [number, string] {
  if (key.startsWith('struct ')) return [CAT.struct, key.slice(7)];
  if (key.startsWith('union ')) return [CAT.union, key.slice(6)];
  if (key.startsWith('enum ')) return [CAT.enum, key.slice(5)];
  return [CAT.plain, key];
}

/** One pass over the ids: each kind's names (the first definition of a name wins over declarations). */
interface NameIndex {
  types: { get(key: string): number | undefined; has(key: string): boolean; keys(): Iterable<string> };
  functions: { get(key: string): number | undefined };
  variables: { get(key: string): number | undefined };
  /** Enumerator name → the enum's id and the enumerator's index. */
  enumerators: { get(key: string): [number, number] | undefined };
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
    const b = this.btf;
    const t = new NameTable(b, b.endId - b.firstId);
    // A split BTF's own names: the base's are the base's index.
    for (let id = b.firstId; id < b.endId; id++) {
      const kind = b.kind(id);
      const off = b.nameOff(id);
      const unnamed = off === 0 || b.strOwner(off).bytes[b.strPos(off)] === 0;
      if (unnamed && kind !== K.ENUM && kind !== K.ENUM64) continue;
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
            for (let j = 0; j < vlen; j++) t.add(CAT.enumerator, b.word(id, j * per), id, j);
            if (unnamed) break;
          }
          const cat =
            kind === K.STRUCT
              ? CAT.struct
              : kind === K.UNION
                ? CAT.union
                : isEnum
                  ? CAT.enum
                  : b.kindFlag(id)
                    ? CAT.union
                    : CAT.struct;
          const declaration = kind === K.FWD || (isEnum && b.vlen(id) === 0);
          t.add(cat, off, id, 0, (prev) => !declaration && b.kind(prev) === K.FWD);
          break;
        }
        case K.TYPEDEF:
        case K.INT:
        case K.FLOAT:
          t.add(CAT.plain, off, id, 0);
          break;
        case K.FUNC:
          t.add(CAT.func, off, id, 0);
          break;
        case K.VAR:
          t.add(CAT.var, off, id, 0);
          break;
        default:
          break;
      }
    }
    const one = (cat: number) => ({ get: (key: string) => t.get(cat, key)?.[0] });
    this.index = {
      types: {
        get: (key) => {
          const [cat, name] = typeKey(key);
          return t.get(cat, name)?.[0];
        },
        has: (key) => {
          const [cat, name] = typeKey(key);
          return t.get(cat, name) !== undefined;
        },
        keys: () => t.names([CAT.struct, CAT.union, CAT.enum, CAT.plain]),
      },
      functions: one(CAT.func),
      variables: one(CAT.var),
      enumerators: { get: (key) => t.get(CAT.enumerator, key) },
    };
    return this.index;
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
