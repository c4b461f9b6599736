/**
 * The name index of a vmlinux's DWARF: every unit-level named type, variable,
 * function and enumerator → the offset of its DIE. The scan (name-scan.ts)
 * gives records of names as string offsets; here they become the maps, in unit
 * order, as one pass over every unit would have made them (the first definition
 * wins; a located variable replaces a declaration; variables named through
 * DW_AT_specification after the direct names). Persisted on disk keyed by
 * build-id (see name-cache.ts).
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
}

/** The C prefix of each type kind (K.struct, K.union, K.enum, K.type). */
const TYPE_PREFIX = ['struct ', 'union ', 'enum ', ''];

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
  const m = new Merge(r);
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
  return { ...m.idx, declaredOnly: m.declared, unresolved, damaged: scan.damaged };
}

/** A DIE's DW_AT_name when it is a string (read through the reader). */
function nameOfDie(r: DwarfReader, die: number): string | undefined {
  const n = r.readDie(die)?.attrs.get(0x03);
  return typeof n === 'string' ? n : undefined;
}

/** Merge the scans of consecutive runs of units, in unit order, as one scan of them all would have built it. */
export function mergeScans(parts: ScanResult[], r: DwarfReader): NameIndex {
  const m = new Merge(r);
  for (const p of parts) m.direct(p);
  for (const p of parts) m.specifications(p, (die) => nameOfDie(r, die));
  const damaged = parts.flatMap((p) => p.damaged);
  if (damaged.length) m.idx.damaged = damaged;
  return m.idx;
}

/** The maps built from scan records, names decoded once per string offset and kind. */
class Merge {
  readonly idx: NameIndex = { types: new Map(), variables: new Map(), functions: new Map(), enumerators: new Map() };
  readonly declared = new Set<string>();
  private str: Buffer | undefined;
  private lineStr: Buffer | undefined;
  /** Per string offset, the kinds already applied (bit 7: a located variable): a repeat needs no string. */
  private strDone: Uint8Array | undefined;
  private lineDone: Uint8Array | undefined;

  constructor(private readonly r: DwarfReader) {}

  private text(src: number, ref: number, inline: string[]): string {
    if (src === SRC.inline) return inline[ref]!;
    let b: Buffer;
    if (src === SRC.str) {
      if (!this.str) {
        const s = this.r.str;
        this.str = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
      }
      b = this.str;
    } else {
      if (!this.lineStr) {
        const s = this.r.lineStr;
        this.lineStr = Buffer.from(s.buffer, s.byteOffset, s.byteLength);
      }
      b = this.lineStr;
    }
    if (ref >= b.length)
      throw new BadDataError(
        `${src === SRC.str ? '.debug_str' : '.debug_line_str'}: string offset 0x${ref.toString(16)} outside the section`,
        this.r.elf.path,
        ref,
      );
    const end = b.indexOf(0, ref);
    return b.toString('latin1', ref, end < 0 ? b.length : end);
  }

  private done(src: number): Uint8Array {
    if (src === SRC.str) {
      this.strDone ??= new Uint8Array(this.r.sectionSize('.debug_str') + 1);
      return this.strDone;
    }
    this.lineDone ??= new Uint8Array(this.r.sectionSize('.debug_line_str') + 1);
    return this.lineDone;
  }

  /** A scan's direct names, after those of the scans before it. */
  direct(p: ScanResult): void {
    const { types, variables, functions, enumerators } = this.idx;
    const declared = this.declared;
    const a = p.recs;
    for (let i = 0; i < a.length; i += 4) {
      const kind = a[i]! & 7;
      const src = a[i]! >> 3;
      const ref = a[i + 1]!;
      const die = a[i + 2]!;
      const extra = a[i + 3]!;
      const done = src === SRC.inline ? undefined : this.done(src);
      const f = done && ref < done.length ? done[ref]! : 0;
      if (kind === K.variable) {
        if (f & 0x80) continue;
        const n = this.text(src, ref, p.inline);
        const located = extra === 1;
        if (done && located) done[ref] = f | 0x80;
        const prev = variables.get(n);
        if (prev === undefined) {
          variables.set(n, die);
          if (!located) declared.add(n);
        } else if (located && declared.has(n)) {
          variables.set(n, die);
          declared.delete(n);
        }
        continue;
      }
      const bit = 1 << kind;
      if (f & bit) continue;
      if (done) done[ref] = f | bit;
      const n = this.text(src, ref, p.inline);
      if (kind === K.function) {
        if (!functions.has(n)) functions.set(n, die);
      } else if (kind === K.enumerator) {
        if (!enumerators.has(n)) enumerators.set(n, [die, extra]);
      } else {
        const key = TYPE_PREFIX[kind]! + n;
        if (!types.has(key)) types.set(key, die);
      }
    }
  }

  /**
   * A scan's variables named through their specification; `nameAt` names those the scan could not (null: not
   * here either, kept in `unresolved` as [DIE, specification, located]).
   */
  specifications(p: ScanResult, nameAt: (die: number) => string | undefined | null, unresolved?: number[]): void {
    const s = p.specs;
    for (let i = 0; i < s.length; i += 5) {
      const src = s[i]!;
      const n = src === SRC.unresolved ? nameAt(s[i + 4]!) : this.text(src, s[i + 1]!, p.inline);
      if (n === null) unresolved?.push(s[i + 2]!, s[i + 4]!, s[i + 3]!);
      else if (n !== undefined) addResolved(this.idx.variables, this.declared, n, s[i + 2]!, s[i + 3] === 1);
    }
  }
}

/**
 * A variable named through its specification, added after the direct names: the first located definition in
 * unit order (that is, by DIE offset) wins, and a declaration only stands while there is no definition.
 */
function addResolved(
  vars: Map<string, number>,
  declared: Set<string>,
  name: string,
  off: number,
  located: boolean,
): void {
  const prev = vars.get(name);
  if (prev === undefined) {
    vars.set(name, off);
    if (!located) declared.add(name);
  } else if (located && (declared.has(name) || off < prev)) {
    vars.set(name, off);
    declared.delete(name);
  }
}
