/**
 * Name lookups before the name index exists: the first lookups of a session
 * with no cached index are answered by searching .debug_info for the bytes
 * that must be in the DIE that defines the name, then indexing only the units
 * those bytes are in.
 *
 * A unit-level DIE named N holds, in its DW_AT_name, either a .debug_str (or
 * .debug_line_str) offset of a string "N" (DW_FORM_strp / line_strp) or the
 * string itself (DW_FORM_string). The linker merges .debug_str, so "N" may be
 * the tail of a longer string: every place "N\0" ends in .debug_str gives one
 * candidate offset. A located variable's DIE holds DW_OP_addr and its address,
 * which the ELF symbol table gives. Searching for those byte strings
 * (Buffer.indexOf, a few milliseconds per candidate over the whole section),
 * in file order, finds the units that can define the name; each is indexed
 * with the same scan the full index uses (name-index.ts), so an answer is the
 * one the full index gives: the first definition in unit order.
 *
 * Used only where that reasoning holds, checked once over .debug_abbrev:
 * names only in strp, line_strp or string forms (not strx), no partial or type
 * units, no references to another unit from a specification, 32-bit DWARF,
 * .debug_info stored plainly. Otherwise (and when the searches have cost more
 * than indexing would) DebugInfo builds the full index.
 */

import type { ElfFile } from '../elf.js';
import { DW_AT, DW_FORM, DW_TAG } from './forms.js';
import { buildNameIndex, type PartialIndex } from './name-index.js';
import type { DwarfReader, Unit } from './reader.js';

const AT_specification = 0x47;
const AT_abstract_origin = 0x31;
const FORM_implicit_const = 0x21;
const OP_addr = 0x03;
const CHUNK = 8 << 20;

/** A byte string to search for; `whole` when it is a whole string (not the tail of a longer one). */
type Needle = Uint8Array & { whole?: boolean };

export type NameKind = 'types' | 'variables' | 'functions' | 'enumerators';

/** Whether the targeted search can answer for this file: reasons it cannot, or undefined when it can. */
export function searchUnsupported(elf: ElfFile, units: readonly Unit[]): string | undefined {
  if (elf.section('.debug_types')) return 'the file has .debug_types';
  const info = elf.section('.debug_info');
  if (!info || !elf.readSectionInto(info, 0, new Uint8Array(0))) return '.debug_info is compressed or relocatable';
  for (const u of units) {
    if (u.offsetSize !== 4) return '64-bit DWARF units';
    if (u.unitType !== 1) return `a unit of type ${u.unitType} at 0x${u.offset.toString(16)}`;
  }
  const abbrevSec = elf.section('.debug_abbrev');
  if (!abbrevSec) return 'no .debug_abbrev';
  const a = elf.sectionData(abbrevSec);
  let pos = 0;
  const uleb = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      if (pos >= a.length) throw new RangeError('abbrev');
      const b = a[pos++]!;
      r += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return r;
      shift += 7;
      if (shift > 63) throw new RangeError('abbrev');
    }
  };
  try {
    while (pos < a.length) {
      const code = uleb();
      if (code === 0) continue; // end of one unit's table
      const tag = uleb();
      if (tag === DW_TAG.partial_unit || tag === DW_TAG.type_unit || tag === 0x3d /* imported_unit */)
        return 'partial or imported units';
      pos++; // children flag
      for (;;) {
        const at = uleb();
        const form = uleb();
        if (at === 0 && form === 0) break;
        if (form === FORM_implicit_const) uleb();
        if (at === DW_AT.name && form !== DW_FORM.strp && form !== DW_FORM.string && form !== 0x1f /* line_strp */)
          return `names in form 0x${form.toString(16)}`;
        if ((at === AT_specification || at === AT_abstract_origin) && form === DW_FORM.ref_addr)
          return 'references between units';
      }
    }
  } catch {
    return '.debug_abbrev could not be read as a whole';
  }
  return undefined;
}

export class NameSearch {
  /** Units indexed so far (by unit number), with what each defines. */
  private readonly scanned = new Map<number, PartialIndex>();
  private readonly chunk = new Uint8Array(CHUNK + 64);
  private readonly size: number;
  /** What the searches have cost, in bytes searched and bytes of units indexed. */
  bytesSearched = 0;
  bytesIndexed = 0;
  private readonly strOccurrences = new Map<string, number[]>();
  private readonly answers = new Map<string, number | [number, number] | undefined>();

  constructor(
    private readonly reader: DwarfReader,
    private readonly elf: ElfFile,
    /** The link-time addresses of the ELF symbols with this name. */
    private readonly addressesOf: (name: string) => bigint[] = () => [],
  ) {
    this.size = elf.section('.debug_info')!.size;
  }

  /** The section's size: the searches are measured against it. */
  get sectionSize(): number {
    return this.size;
  }

  /** Offsets in `sec` where a string equal to `name` (or ending in it, as a merged tail) starts. */
  private stringOffsets(sec: '.debug_str' | '.debug_line_str', name: string): number[] {
    const key = `${sec}\0${name}`;
    const hit = this.strOccurrences.get(key);
    if (hit) return hit;
    const data = sec === '.debug_str' ? this.reader.str : this.reader.lineStr;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const needle = Buffer.from(`${name}\0`, 'latin1');
    const out: number[] = [];
    for (let p = buf.indexOf(needle); p >= 0; p = buf.indexOf(needle, p + 1)) out.push(p);
    this.strOccurrences.set(key, out);
    return out;
  }

  /** The byte strings a DW_AT_name of `name` can be stored as in .debug_info. */
  private nameNeedles(name: string): Needle[] {
    const out: Needle[] = [];
    const u32 = (v: number, sec: Uint8Array): Needle => {
      const b = new Uint8Array(4) as Needle;
      new DataView(b.buffer).setUint32(0, v, true);
      b.whole = v === 0 || sec[v - 1] === 0;
      return b;
    };
    for (const o of this.stringOffsets('.debug_str', name)) out.push(u32(o, this.reader.str));
    if (this.reader.lineStr.length)
      for (const o of this.stringOffsets('.debug_line_str', name)) out.push(u32(o, this.reader.lineStr));
    const inline = new Uint8Array(Buffer.from(`${name}\0`, 'latin1')) as Needle;
    inline.whole = true;
    out.push(inline);
    return out;
  }

  /** Positions in .debug_info, from `from` up to `to`, where any needle starts; ascending, a chunk at a time. */
  private *search(needles: Uint8Array[], from = 0, to = this.size): Generator<number> {
    if (needles.length === 0) return;
    const maxLen = Math.max(...needles.map((n) => n.length));
    const buf = Buffer.from(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
    const bufs = needles.map((n) => Buffer.from(n.buffer, n.byteOffset, n.byteLength));
    for (let start = from; start < to; start += CHUNK) {
      const len = Math.min(CHUNK, to - start) + Math.min(maxLen - 1, this.size - Math.min(start + CHUNK, to));
      const view = this.chunk.subarray(0, len);
      this.elf.readSectionInto('.debug_info', start, view);
      this.bytesSearched += len;
      const limit = Math.min(CHUNK, to - start);
      const hits: number[] = [];
      const hay = buf.subarray(0, len);
      for (const n of bufs) {
        for (let p = hay.indexOf(n); p >= 0 && p < limit; p = hay.indexOf(n, p + 1)) hits.push(start + p);
      }
      hits.sort((x, y) => x - y);
      for (const h of hits) yield h;
    }
  }

  private unitIndexAt(off: number): number {
    const us = this.reader.units;
    let lo = 0;
    let hi = us.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (us[mid]!.offset <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private indexUnit(i: number): PartialIndex {
    let p = this.scanned.get(i);
    if (!p) {
      const u = this.reader.units[i]!;
      p = buildNameIndex(this.reader, { units: [u] });
      this.bytesIndexed += u.end - u.offset;
      this.scanned.set(i, p);
    }
    return p;
  }

  private static defines(p: PartialIndex, kind: NameKind, key: string): boolean {
    if (kind === 'variables') return p.variables.has(key) && !p.declaredOnly.has(key);
    return p[kind].has(key);
  }

  private static answer(p: PartialIndex, kind: NameKind, key: string): number | [number, number] | undefined {
    return kind === 'variables' ? p.variables.get(key) : p[kind].get(key);
  }

  /**
   * The DIE the full index would give for `key` (a type's C name with its struct/union/enum prefix, or a
   * variable's, function's or enumerator's name): the first unit-level definition in unit order, and for a
   * variable with no located definition its first declaration.
   */
  lookup(kind: NameKind, key: string): number | [number, number] | undefined {
    const k = `${kind}\0${key}`;
    if (this.answers.has(k)) return this.answers.get(k);
    const v = this.find(kind, key);
    this.answers.set(k, v);
    return v;
  }

  private find(kind: NameKind, key: string): number | [number, number] | undefined {
    // The earliest unit already indexed that defines it bounds the search.
    let best = -1;
    for (const [i, p] of this.scanned) if ((best < 0 || i < best) && NameSearch.defines(p, kind, key)) best = i;
    const limit = best >= 0 ? this.reader.units[best]!.offset : this.size;
    if (kind === 'variables') {
      // A located variable's DIE holds DW_OP_addr with its address: the first such DIE in file order whose
      // unit defines the name is the first located definition (every one has a symbol of its own).
      const needles = this.addressesOf(key).map((a) => {
        const b = new Uint8Array(9);
        b[0] = OP_addr;
        new DataView(b.buffer).setBigUint64(1, a, true);
        return b;
      });
      const located = this.firstUnit(needles, limit, (p) => NameSearch.defines(p, kind, key));
      const at = located >= 0 ? located : best;
      if (at >= 0) return NameSearch.answer(this.scanned.get(at)!, kind, key);
      // No located definition: the first declaration (before any unit already known to have one).
      let declared = -1;
      for (const [i, p] of this.scanned) if (p.variables.has(key) && (declared < 0 || i < declared)) declared = i;
      const bound = declared >= 0 ? this.reader.units[declared]!.offset : this.size;
      const first = this.firstUnit(this.nameNeedles(key), bound, (p) => p.variables.has(key));
      const u = first >= 0 ? first : declared;
      return u >= 0 ? this.scanned.get(u)!.variables.get(key) : undefined;
    }
    const name = kind === 'types' ? key.replace(/^(struct|union|enum) /, '') : key;
    const needles = this.nameNeedles(name);
    // When there is a whole string (not the tail of a longer one) it is the usual reference: search with it
    // (and the inline form) first, then with all the candidates only before the unit that first pass found.
    const whole = needles.filter((n) => n.whole);
    let found = -1;
    let bound = limit;
    if (whole.length > 1 && whole.length < needles.length) {
      found = this.firstUnit(whole, limit, (p) => NameSearch.defines(p, kind, key), best);
      if (found >= 0) bound = this.reader.units[found]!.offset;
    }
    const first = this.firstUnit(needles, bound, (p) => NameSearch.defines(p, kind, key), best);
    if (first >= 0) found = first;
    if (found < 0) found = best;
    return found >= 0 ? NameSearch.answer(this.scanned.get(found)!, kind, key) : undefined;
  }

  /**
   * The first unit before `limit`, in file order, with a needle in it and whose names pass `test`, or -1.
   * Units indexed before are skipped (what they hold is known), except `keep`.
   */
  private firstUnit(needles: Needle[], limit: number, test: (p: PartialIndex) => boolean, keep = -1): number {
    for (const h of this.search(needles, 0, limit)) {
      const i = this.unitIndexAt(h);
      if (this.scanned.has(i) && i !== keep) continue;
      if (test(this.indexUnit(i))) return i;
    }
    return -1;
  }
}
