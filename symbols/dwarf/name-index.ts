/**
 * The name index of a vmlinux's DWARF: every unit-level named type, variable,
 * function and enumerator → the offset of its DIE. The scan (name-scan.ts)
 * gives records of names as string offsets; here they are merged, in unit
 * order, as one pass over every unit would have (the first definition wins; a
 * located variable replaces a declaration; variables named through
 * DW_AT_specification after the direct names), into tables that hold each name
 * as where its bytes are (deduplicated by a hash of the bytes, no string made).
 * The maps of names are built from the tables on first use, and the on-disk
 * cache (name-cache.ts, keyed by build-id) is written from the tables' bytes.
 */
import { BadDataError } from '../../core/errors.js';
import { type DamagedUnit, K, type ScanResult, SRC, scanNames } from './name-scan.js';
import type { DwarfReader, Unit } from './reader.js';

export type { DamagedUnit, ScanResult } from './name-scan.js';

export interface NameIndex {
  /** 'struct x', 'union x', 'enum x', and typedef and base type names. */
  types: Map<string, number>;
  variables: Map<string, number>;
  functions: Map<string, number>;
  /** Enumerator name → [enumerator DIE, its enumeration_type DIE]. */
  enumerators: Map<string, [number, number]>;
  /** The units skipped because they could not be decoded (none in an intact file). */
  damaged?: DamagedUnit[];
  /** A merged index's maps in their on-disk form, made from the tables without building the maps. */
  stored?: () => StoredMaps;
}

/** A map on disk: the names (NUL between them) and their DIE offsets (enumerators: and their enum's). */
export interface StoredMap {
  names: Uint8Array;
  offs: Float64Array;
  extra?: Float64Array;
}
export type StoredMaps = Record<'types' | 'variables' | 'functions' | 'enumerators', StoredMap>;

/** The C prefix of each type kind (K.struct, K.union, K.enum, K.type). */
const TYPE_PREFIX = ['struct ', 'union ', 'enum ', ''];
const PREFIX_BYTES = TYPE_PREFIX.map((p) => Buffer.from(p, 'latin1'));

/** A scan's index plus the variables it saw only declared (a later chunk's definition replaces them). */
export interface PartialIndex extends NameIndex {
  declaredOnly: Set<string>;
  /** [DIE, specification, located] of definitions whose declaration is in a unit this scan did not hold. */
  unresolved: number[];
  /** Units whose DIEs could not be decoded (a damaged file): skipped, the names before the damage kept. */
  damaged: DamagedUnit[];
}

/**
 * The index of the units one scan covers (all of the reader's, or `units`), as maps. With
 * `deferSpecifications`, variables named through a specification are left in `unresolved` (a merge of scans
 * names them after every scan's direct names).
 */
export function buildNameIndex(
  r: DwarfReader,
  opts: { deferSpecifications?: boolean /** Only these units (the targeted search's). */; units?: Unit[] } = {},
): PartialIndex {
  const scan = scanNames(r, { units: opts.units });
  const m = new Merge(r, [scan]);
  m.direct(scan);
  const unresolved: number[] = [];
  if (opts.deferSpecifications) {
    const s = scan.specs;
    for (let i = 0; i < s.length; i += 5) unresolved.push(s[i + 2]!, s[i + 4]!, s[i + 3]!);
  } else
    m.specifications(
      scan,
      (die) => {
        try {
          return nameOfDie(r, die);
        } catch (e) {
          // A specification in a unit this scan does not hold: resolved by a merge.
          if (!(e instanceof BadDataError)) throw e;
          return null;
        }
      },
      unresolved,
    );
  const idx = m.index();
  return {
    types: idx.types,
    variables: idx.variables,
    functions: idx.functions,
    enumerators: idx.enumerators,
    declaredOnly: m.declaredOnly(),
    unresolved,
    damaged: scan.damaged,
  };
}

/** A DIE's DW_AT_name when it is a string (read through the reader). */
function nameOfDie(r: DwarfReader, die: number): string | undefined {
  const n = r.readDie(die)?.attrs.get(0x03);
  return typeof n === 'string' ? n : undefined;
}

/** Merge the scans of consecutive runs of units, in unit order, as one scan of them all would have built it. */
export function mergeScans(parts: ScanResult[], r: DwarfReader): NameIndex {
  const m = new Merge(r, parts);
  for (const p of parts) m.direct(p);
  for (const p of parts) m.specifications(p, (die) => nameOfDie(r, die));
  const idx = m.index();
  const damaged = parts.flatMap((p) => p.damaged);
  if (damaged.length) idx.damaged = damaged;
  return idx;
}

const FNV = 0x01000193;

/**
 * One map's entries in insertion order: [name source, name offset, DIE, extra, declared-only, type kind (its
 * prefix; K.type, none, outside the types)] each,
 * found by name through open addressing on a hash of the name's bytes.
 */
class Table {
  e: Float64Array;
  n = 0;
  /** Each entry's hash (kept for growing the slots). */
  private hashes: Int32Array;
  private slots: Int32Array;

  constructor(
    private readonly bytes: (src: number) => Uint8Array,
    /** About how many entries are coming. */
    expect: number,
  ) {
    const cap = Math.max(256, expect);
    this.e = new Float64Array(6 * cap);
    this.hashes = new Int32Array(cap);
    this.slots = new Int32Array(2 ** Math.ceil(Math.log2(cap * 2 + 1)));
  }

  /** FNV-1a of a name's bytes up to its NUL, seeded with the type kind. */
  hash(kind: number, src: number, ref: number): number {
    const b = this.bytes(src);
    let h = 0x811c9dc5 ^ kind;
    for (let i = ref; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0) break;
      h = Math.imul(h ^ c, FNV);
    }
    return h;
  }

  private same(e: number, kind: number, src: number, ref: number): boolean {
    const E = this.e;
    if (E[e * 6 + 5] !== kind) return false;
    const a = this.bytes(E[e * 6]!);
    const b = this.bytes(src);
    let i = E[e * 6 + 1]!;
    let j = ref;
    for (;;) {
      const x = i < a.length ? a[i]! : 0;
      const y = j < b.length ? b[j]! : 0;
      if (x !== y) return false;
      if (x === 0) return true;
      i++;
      j++;
    }
  }

  /** The entry with this name (and type kind), or -1. */
  find(h: number, kind: number, src: number, ref: number): number {
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      if (this.same(v - 1, kind, src, ref)) return v - 1;
    }
  }

  add(h: number, kind: number, src: number, ref: number, die: number, extra: number, declared: number): void {
    if ((this.n + 1) * 6 > this.e.length) {
      const g = new Float64Array(this.e.length * 2);
      g.set(this.e);
      this.e = g;
      const hs = new Int32Array(this.hashes.length * 2);
      hs.set(this.hashes);
      this.hashes = hs;
    }
    this.hashes[this.n] = h;
    const o = this.n * 6;
    const E = this.e;
    E[o] = src;
    E[o + 1] = ref;
    E[o + 2] = die;
    E[o + 3] = extra;
    E[o + 4] = declared;
    E[o + 5] = kind;
    this.n++;
    if (this.n * 2 > this.slots.length) this.rehash();
    else this.place(h, this.n);
  }

  private place(h: number, v: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = v;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let i = 0; i < this.n; i++) this.place(this.hashes[i]!, i + 1);
  }
}

/** The tables built from scan records, each name's bytes hashed once per string offset and kind. */
class Merge {
  private readonly types: Table;
  private readonly variables: Table;
  private readonly functions: Table;
  private readonly enumerators: Table;
  private str: Uint8Array | undefined;
  private lineStr: Uint8Array | undefined;
  /** Names not in a string section (DW_FORM_string, or named through the reader), NUL after each. */
  private extra = new Uint8Array(1024);
  private extraLen = 0;
  /** Per string offset, the kinds already applied (bit 7: a located variable): a repeat needs no hashing. */
  private strDone: Uint8Array | undefined;
  private lineDone: Uint8Array | undefined;

  constructor(
    private readonly r: DwarfReader,
    /** The scans to merge (their records say how large the tables grow). */
    parts: ScanResult[],
  ) {
    // Records per kind, an upper bound of each table's entries.
    const count = new Int32Array(8);
    for (const p of parts) for (let i = 0; i < p.recs.length; i += 4) count[p.recs[i]! & 7]!++;
    const bytes = (src: number): Uint8Array => {
      if (src === SRC.str) {
        this.str ??= this.r.str;
        return this.str;
      }
      if (src === SRC.lineStr) {
        this.lineStr ??= this.r.lineStr;
        return this.lineStr;
      }
      return this.extra;
    };
    this.types = new Table(bytes, count[K.struct]! + count[K.union]! + count[K.enum]! + count[K.type]!);
    this.variables = new Table(bytes, count[K.variable]! + (parts[0]?.specs.length ?? 0) / 5);
    this.functions = new Table(bytes, count[K.function]!);
    this.enumerators = new Table(bytes, count[K.enumerator]!);
  }

  /** A name not in a string section, copied into `extra`: its offset there. */
  private keep(name: string): number {
    const need = this.extraLen + name.length + 1;
    if (need > this.extra.length) {
      const g = new Uint8Array(Math.max(need, this.extra.length * 2));
      g.set(this.extra);
      this.extra = g;
    }
    const at = this.extraLen;
    Buffer.from(this.extra.buffer, this.extra.byteOffset, this.extra.byteLength).write(name, at, 'latin1');
    this.extra[at + name.length] = 0;
    this.extraLen = need;
    return at;
  }

  private checkRef(src: number, ref: number): void {
    const len = src === SRC.str ? this.r.str.length : this.r.lineStr.length;
    if (ref >= len)
      throw new BadDataError(
        `${src === SRC.str ? '.debug_str' : '.debug_line_str'}: string offset 0x${ref.toString(16)} outside the section`,
        this.r.elf.path,
        ref,
      );
  }

  private done(src: number): Uint8Array {
    if (src === SRC.str) {
      this.strDone ??= new Uint8Array(this.r.sectionSize('.debug_str') + 1);
      return this.strDone;
    }
    this.lineDone ??= new Uint8Array(this.r.sectionSize('.debug_line_str') + 1);
    return this.lineDone;
  }

  /** A variable named directly: the first wins, a located one replaces a declaration. */
  private variable(src: number, ref: number, die: number, located: boolean): void {
    const t = this.variables;
    const h = t.hash(K.type, src, ref);
    const e = t.find(h, K.type, src, ref);
    if (e < 0) t.add(h, K.type, src, ref, die, 0, located ? 0 : 1);
    else if (located && t.e[e * 6 + 4] === 1) {
      t.e[e * 6 + 2] = die;
      t.e[e * 6 + 4] = 0;
    }
  }

  /** A scan's direct names, after those of the scans before it. */
  direct(p: ScanResult): void {
    const a = p.recs;
    for (let i = 0; i < a.length; i += 4) {
      const kind = a[i]! & 7;
      let src = a[i]! >> 3;
      let ref = a[i + 1]!;
      const die = a[i + 2]!;
      const extra = a[i + 3]!;
      let done: Uint8Array | undefined;
      let f = 0;
      if (src === SRC.inline) {
        ref = this.keep(p.inline[ref]!);
        src = SRC.inline;
      } else {
        done = this.done(src);
        if (ref >= done.length - 1) this.checkRef(src, ref);
        f = done[ref]!;
      }
      if (kind === K.variable) {
        if (f & 0x80) continue;
        if (done && extra === 1) done[ref] = f | 0x80 | (1 << K.variable);
        this.variable(src, ref, die, extra === 1);
        continue;
      }
      const bit = 1 << kind;
      if (f & bit) continue;
      if (done) done[ref] = f | bit;
      const t = kind === K.function ? this.functions : kind === K.enumerator ? this.enumerators : this.types;
      // The type kind picks the prefix; the other tables have none (K.type's).
      const tk = Math.min(kind, K.type);
      const h = t.hash(tk, src, ref);
      if (t.find(h, tk, src, ref) < 0) t.add(h, tk, src, ref, die, kind === K.enumerator ? extra : 0, 0);
    }
  }

  /**
   * A scan's variables named through their specification: the first located definition in unit order wins,
   * and a declaration only stands while there is no definition. `nameAt` names those the scan could not
   * (null: not here either, kept in `unresolved` as [DIE, specification, located]).
   */
  specifications(p: ScanResult, nameAt: (die: number) => string | undefined | null, unresolved?: number[]): void {
    const s = p.specs;
    const t = this.variables;
    for (let i = 0; i < s.length; i += 5) {
      let src = s[i]!;
      let ref = s[i + 1]!;
      if (src === SRC.unresolved) {
        const n = nameAt(s[i + 4]!);
        if (n === null) unresolved?.push(s[i + 2]!, s[i + 4]!, s[i + 3]!);
        if (typeof n !== 'string') continue;
        src = SRC.inline;
        ref = this.keep(n);
      } else if (src === SRC.inline) {
        src = SRC.inline;
        ref = this.keep(p.inline[ref]!);
      } else this.checkRef(src, ref);
      const die = s[i + 2]!;
      const located = s[i + 3] === 1;
      const h = t.hash(K.type, src, ref);
      const e = t.find(h, K.type, src, ref);
      if (e < 0) t.add(h, K.type, src, ref, die, 0, located ? 0 : 1);
      else if (located && (t.e[e * 6 + 4] === 1 || die < t.e[e * 6 + 2]!)) {
        t.e[e * 6 + 2] = die;
        t.e[e * 6 + 4] = 0;
      }
    }
  }

  private bytesOf(src: number): Uint8Array {
    return src === SRC.str ? this.r.str : src === SRC.lineStr ? this.r.lineStr : this.extra;
  }

  /** An entry's name (with its type prefix). */
  private text(t: Table, i: number): string {
    const E = t.e;
    const b = this.bytesOf(E[i * 6]!);
    const ref = E[i * 6 + 1]!;
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const end = buf.indexOf(0, ref);
    return TYPE_PREFIX[E[i * 6 + 5]!]! + buf.toString('latin1', ref, end < 0 ? b.length : end);
  }

  /** The variables left with only a declaration. */
  declaredOnly(): Set<string> {
    const out = new Set<string>();
    const t = this.variables;
    for (let i = 0; i < t.n; i++) if (t.e[i * 6 + 4] === 1) out.add(this.text(t, i));
    return out;
  }

  /** The maps (each built on first use) and their on-disk form. */
  index(): NameIndex {
    const idx = {} as NameIndex;
    const map = (t: Table): Map<string, number> => {
      const m = new Map<string, number>();
      for (let i = 0; i < t.n; i++) m.set(this.text(t, i), t.e[i * 6 + 2]!);
      return m;
    };
    const lazy = <Key extends 'types' | 'variables' | 'functions' | 'enumerators'>(
      key: Key,
      build: () => NameIndex[Key],
    ): void => {
      Object.defineProperty(idx, key, {
        configurable: true,
        enumerable: true,
        get() {
          const value = build();
          Object.defineProperty(idx, key, { value, enumerable: true, writable: true });
          return value;
        },
      });
    };
    lazy('types', () => map(this.types));
    lazy('variables', () => map(this.variables));
    lazy('functions', () => map(this.functions));
    lazy('enumerators', () => {
      const m = new Map<string, [number, number]>();
      const t = this.enumerators;
      for (let i = 0; i < t.n; i++) m.set(this.text(t, i), [t.e[i * 6 + 2]!, t.e[i * 6 + 3]!]);
      return m;
    });
    Object.defineProperty(idx, 'stored', {
      enumerable: false,
      value: (): StoredMaps => ({
        types: this.store(this.types, false),
        variables: this.store(this.variables, false),
        functions: this.store(this.functions, false),
        enumerators: this.store(this.enumerators, true),
      }),
    });
    return idx;
  }

  /** A table as names joined by NUL (copied from the string sections) and DIE offsets. */
  private store(t: Table, withExtra: boolean): StoredMap {
    const E = t.e;
    const ends = new Int32Array(t.n);
    const bufs = [SRC.str, SRC.lineStr, SRC.inline].map((src) => {
      const b = this.bytesOf(src);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    });
    let total = 0;
    for (let i = 0; i < t.n; i++) {
      const b = bufs[E[i * 6]!]!;
      const ref = E[i * 6 + 1]!;
      // Names are short: a loop finds the NUL sooner than a call to indexOf.
      let e = ref;
      while (e < b.length && b[e] !== 0) e++;
      ends[i] = e;
      total += PREFIX_BYTES[E[i * 6 + 5]!]!.length + (e - ref) + (i > 0 ? 1 : 0);
    }
    const out = Buffer.allocUnsafeSlow(total);
    const offs = new Float64Array(t.n);
    const extra = withExtra ? new Float64Array(t.n) : undefined;
    let p = 0;
    for (let i = 0; i < t.n; i++) {
      if (i > 0) out[p++] = 0;
      const pre = PREFIX_BYTES[E[i * 6 + 5]!]!;
      if (pre.length) p += pre.copy(out, p);
      p += bufs[E[i * 6]!]!.copy(out, p, E[i * 6 + 1]!, ends[i]!);
      offs[i] = E[i * 6 + 2]!;
      if (extra) extra[i] = E[i * 6 + 3]!;
    }
    const names = new Uint8Array(out.buffer, out.byteOffset, total);
    return extra ? { names, offs, extra } : { names, offs };
  }
}
