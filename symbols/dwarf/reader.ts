/**
 * A DWARF 4/5 .debug_info reader: unit headers, abbreviation tables (decoded
 * once each), DIEs with their attributes, and a scan of the DIEs directly
 * under each unit that jumps over children with DW_AT_sibling. Type units are
 * read from .debug_info (DWARF 5) and .debug_types (DWARF 4, numbered after
 * .debug_info), and DW_FORM_ref_sig8 resolves to the DIE of the signed type;
 * partial units are units like any other. Every bound is checked; a corrupt
 * section gives BadDataError naming the section and offset.
 */
import { BadDataError } from '../../core/errors.js';
import type { ElfFile } from '../elf.js';
import { DW_AT, DW_FORM, fixedFormSize } from './forms.js';

export interface Abbrev {
  tag: number;
  children: boolean;
  attrs: Uint32Array; // attribute names
  forms: Uint32Array;
  consts: (bigint | undefined)[]; // DW_FORM_implicit_const values
  /** Total size when every form is fixed-size, else -1. */
  fixedSize: number;
  siblingIndex: number;
}

/** A unit: its header (UnitRecord) and its abbreviation table. */
export interface Unit extends UnitRecord {
  abbrevs: Map<number, Abbrev>;
  strOffsetsBase?: number;
}

/**
 * Parse a unit header (DWARF 2-5, 32- or 64-bit) that starts at `at` in `dv` and at `off` in .debug_info.
 */
function parseUnitHeader(
  dv: DataView,
  at: number,
  off: number,
  sectionSize: number,
  fail: (msg: string, off: number) => never,
  /** A DWARF 4 .debug_types unit (its header carries a type signature and offset). */
  typesSection = false,
): UnitRecord & { signature?: bigint; typeOffset?: number } {
  let len = dv.getUint32(at, true);
  let p = 4;
  let offsetSize = 4;
  if (len === 0xffffffff) {
    if (at + 12 > dv.byteLength) fail('64-bit unit length runs past the section', off);
    len = Number(dv.getBigUint64(at + 4, true));
    p = 12;
    offsetSize = 8;
  } else if (len >= 0xfffffff0) fail(`reserved unit length 0x${len.toString(16)}`, off);
  const end = off + p + len;
  // The header's own fields: version, abbreviation offset and address size (DWARF 5: and the unit type).
  if (end > sectionSize || len < offsetSize + 3) fail(`unit length ${len} runs past the section`, off);
  const version = dv.getUint16(at + p, true);
  p += 2;
  if (version < 2 || version > 5) fail(`DWARF version ${version} is not supported`, off + 4);
  if (version >= 5 && len < offsetSize + 4) fail(`unit length ${len} is shorter than its header`, off);
  let unitType = 1; // DW_UT_compile
  let addrSize: number;
  let abbrevOffset: number;
  const readOff = (): number => {
    const v = offsetSize === 8 ? Number(dv.getBigUint64(at + p, true)) : dv.getUint32(at + p, true);
    p += offsetSize;
    return v;
  };
  let signature: bigint | undefined;
  let typeOffset: number | undefined;
  const typeHeader = (): void => {
    if (at + p + 8 + offsetSize > dv.byteLength) fail('type unit header runs past the section', off);
    signature = dv.getBigUint64(at + p, true);
    p += 8;
    typeOffset = readOff();
  };
  if (version >= 5) {
    unitType = dv.getUint8(at + p++);
    addrSize = dv.getUint8(at + p++);
    abbrevOffset = readOff();
    if (unitType === 2 || unitType === 6) typeHeader();
    else if (unitType === 4 || unitType === 5) p += 8; // skeleton / split: dwo_id
  } else {
    abbrevOffset = readOff();
    addrSize = dv.getUint8(at + p++);
    if (typesSection) {
      unitType = 2;
      typeHeader();
    }
  }
  if (off + p > end) fail('unit header runs past the unit', off);
  if (typeOffset !== undefined && (off + typeOffset < off + p || off + typeOffset >= end))
    fail(`type offset 0x${typeOffset.toString(16)} is outside its unit`, off);
  return {
    offset: off,
    dieOffset: off + p,
    end,
    version,
    unitType,
    offsetSize,
    addrSize,
    abbrevOffset,
    signature,
    typeOffset,
  };
}

/**
 * Where a reader's offsets come from: .debug_info, then (DWARF 4 type units) .debug_types, whose units are
 * numbered from the end of .debug_info on, so that every DIE has one offset.
 */
interface Part {
  name: '.debug_info' | '.debug_types';
  base: number;
  size: number;
}

function partsOf(elf: ElfFile): Part[] {
  const info = elf.section('.debug_info');
  if (!info) throw new BadDataError('no .debug_info section: the file has no DWARF debug info', elf.path, 0);
  const parts: Part[] = [{ name: '.debug_info', base: 0, size: info.size }];
  const types = elf.section('.debug_types');
  if (types && types.size > 0) parts.push({ name: '.debug_types', base: info.size, size: types.size });
  return parts;
}

/** A unit header, as saved with the name index (lazy mode needs no pass over .debug_info). */
export interface UnitRecord {
  offset: number;
  /** Offset of the first DIE. */
  dieOffset: number;
  end: number;
  version: number;
  unitType: number;
  offsetSize: number;
  addrSize: number;
  /** Offset of the unit's abbreviation table in .debug_abbrev. */
  abbrevOffset: number;
}

export type AttrValue = number | bigint | string | Uint8Array | boolean;

export interface Die {
  offset: number;
  tag: number;
  children: boolean;
  attrs: Map<number, AttrValue>;
  /** Offset just past this DIE's attributes (its first child, when it has children). */
  next: number;
  unit: Unit;
}

const td = new TextDecoder('latin1');

export class DwarfReader {
  readonly info: Uint8Array;
  readonly units: Unit[] = [];
  private readonly abbrev: Uint8Array;
  /** The .debug_abbrev section's bytes (the name index decodes its own plans from them). */
  get abbrevSection(): Uint8Array {
    return this.abbrev;
  }
  private strBytes: Uint8Array | undefined;
  private lineStrBytes: Uint8Array | undefined;
  private strOffsetsBytes: Uint8Array | undefined;
  /** .debug_str, read on first use. */
  get str(): Uint8Array {
    this.strBytes ??= this.optional('.debug_str');
    return this.strBytes;
  }
  /** .debug_line_str, read on first use. */
  get lineStr(): Uint8Array {
    this.lineStrBytes ??= this.optional('.debug_line_str');
    return this.lineStrBytes;
  }
  /** .debug_str_offsets, read on first use (only DW_FORM_strx names need it). */
  get strOffsets(): Uint8Array {
    this.strOffsetsBytes ??= this.optional('.debug_str_offsets');
    return this.strOffsetsBytes;
  }
  private optional(name: string): Uint8Array {
    const s = this.elf.section(name);
    return s ? this.elf.sectionData(s) : new Uint8Array(0);
  }
  /** The size of a string section without reading it (0 when absent). */
  sectionSize(name: '.debug_str' | '.debug_line_str'): number {
    const s = this.elf.section(name);
    if (!s) return 0;
    return name === '.debug_str'
      ? (this.strBytes?.length ?? this.elf.dataSize(s))
      : (this.lineStrBytes?.length ?? this.elf.dataSize(s));
  }
  private readonly dv: DataView;
  private readonly abbrevCache = new Map<string, Map<number, Abbrev>>();

  private readonly parts: Part[];
  /** Lazy mode: which units' bytes have been read into `info`. */
  private readonly loaded: Set<Unit> | undefined;

  /**
   * With `units` (the unit table saved with the name index), nothing of .debug_info is read up front: `info`
   * is a zero-filled buffer of the section's size (pages the OS only backs when written) and each unit's bytes
   * are read, with its abbreviation table, the first time one of its DIEs is.
   */
  constructor(
    readonly elf: ElfFile,
    opts: { units?: UnitRecord[] } = {},
  ) {
    const need = (name: string): Uint8Array => {
      const s = elf.section(name);
      if (!s) throw new BadDataError(`no ${name} section: the file has no DWARF debug info`, elf.path, 0);
      return elf.sectionData(s);
    };
    this.abbrev = need('.debug_abbrev');
    this.parts = partsOf(elf);
    const total = this.parts.reduce((n, p) => n + p.size, 0);
    if (opts.units) {
      this.info = new Uint8Array(total);
      this.dv = new DataView(this.info.buffer, this.info.byteOffset, this.info.byteLength);
      this.loaded = new Set();
      for (const r of opts.units) {
        if (r.end > total || r.offset >= r.end || r.dieOffset < r.offset || r.dieOffset > r.end) {
          throw new BadDataError(
            `cached unit table does not fit .debug_info (unit at 0x${r.offset.toString(16)})`,
            elf.path,
            0,
          );
        }
        this.units.push(this.lazyUnit(r));
      }
      return;
    }
    if (this.parts.length === 1) this.info = need('.debug_info');
    else {
      this.info = new Uint8Array(total);
      for (const p of this.parts) this.info.set(need(p.name), p.base);
    }
    this.dv = new DataView(this.info.buffer, this.info.byteOffset, this.info.byteLength);
    this.readUnits();
  }

  /** The section (and offset in it) a reader offset is in. */
  private partAt(off: number): Part {
    for (let i = this.parts.length - 1; i >= 0; i--) if (off >= this.parts[i]!.base) return this.parts[i]!;
    return this.parts[0]!;
  }

  /** Type signature → the offset of the type's DIE in its type unit (built on the first DW_FORM_ref_sig8). */
  private signatures: Map<bigint, number> | undefined;

  /** The DIE a DW_FORM_ref_sig8 / DW_AT_signature names, when a type unit here has that signature. */
  typeBySignature(sig: bigint): number | undefined {
    if (!this.signatures) {
      const m = new Map<bigint, number>();
      for (const u of this.units) {
        if (u.unitType !== 2 && u.unitType !== 6) continue;
        this.ensure(u);
        const part = this.partAt(u.offset);
        const h = parseUnitHeader(
          this.dv,
          u.offset,
          u.offset,
          u.end,
          (msg, o) => this.fail(msg, o),
          part.name === '.debug_types',
        );
        if (h.signature !== undefined && h.typeOffset !== undefined && !m.has(h.signature))
          m.set(h.signature, u.offset + h.typeOffset);
      }
      this.signatures = m;
    }
    return this.signatures.get(sig);
  }

  /**
   * The unit headers of an ELF's .debug_info, read with small positioned reads (no pass over the section),
   * for splitting the index scan across workers.
   */
  static unitRecords(elf: ElfFile): UnitRecord[] {
    const out: UnitRecord[] = [];
    for (const part of partsOf(elf)) {
      const size = part.size;
      let off = 0;
      while (off + 11 <= size) {
        const h = elf.readSectionRange(part.name, off, Math.min(40, size - off));
        const r = parseUnitHeader(
          new DataView(h.buffer, h.byteOffset, h.byteLength),
          0,
          off,
          size,
          (m, o) => {
            throw new BadDataError(`${part.name}: ${m}`, elf.path, o);
          },
          part.name === '.debug_types',
        );
        out.push({
          offset: part.base + r.offset,
          dieOffset: part.base + r.dieOffset,
          end: part.base + r.end,
          version: r.version,
          unitType: r.unitType,
          offsetSize: r.offsetSize,
          addrSize: r.addrSize,
          abbrevOffset: r.abbrevOffset,
        });
        off = r.end;
      }
    }
    return out;
  }

  /** The unit table, for saving with the name index. */
  unitRecords(): UnitRecord[] {
    return this.units.map((u) => ({
      offset: u.offset,
      dieOffset: u.dieOffset,
      end: u.end,
      version: u.version,
      unitType: u.unitType,
      offsetSize: u.offsetSize,
      addrSize: u.addrSize,
      abbrevOffset: u.abbrevOffset,
    }));
  }

  private lazyUnit(r: UnitRecord): Unit {
    const reader = this;
    const unit = {
      ...r,
      get abbrevs(): Map<number, Abbrev> {
        const t = reader.abbrevTable(r.abbrevOffset, r.offsetSize, r.addrSize, r.version);
        Object.defineProperty(unit, 'abbrevs', { value: t });
        return t;
      },
    } as Unit;
    return unit;
  }

  /** In lazy mode, read the unit's bytes the first time (a no-op when the whole section is loaded). */
  ensureUnit(unit: Unit): void {
    this.ensure(unit);
  }

  private ensure(unit: Unit): void {
    if (!this.loaded || this.loaded.has(unit)) return;
    const target = this.info.subarray(unit.offset, unit.end);
    const part = this.partAt(unit.offset);
    if (!this.elf.readSectionInto(part.name, unit.offset - part.base, target)) {
      target.set(this.elf.readSectionRange(part.name, unit.offset - part.base, unit.end - unit.offset));
    }
    this.loaded.add(unit);
  }

  /** Whether the whole of .debug_info (and .debug_types) is in `info` (a reader made without a unit table). */
  get wholeSection(): boolean {
    return this.loaded === undefined;
  }

  /**
   * Read the bytes of reader offsets [from, to) (consecutive units of one section) into `into`, without keeping
   * them: false when the section is not stored plainly (compressed), when the caller must load it whole.
   */
  /** Where the section holding reader offset `off` ends (a run of units to read must not cross it). */
  sectionEnd(off: number): number {
    const part = this.partAt(off);
    return part.base + part.size;
  }

  readUnitBytes(from: number, to: number, into: Uint8Array): boolean {
    const part = this.partAt(from);
    if (to > part.base + part.size) this.fail('unit run crosses the end of its section', from);
    return this.elf.readSectionInto(part.name, from - part.base, into.subarray(0, to - from));
  }

  /** Lazy mode: read every unit's bytes now, in one read per contiguous run (a scan of all of them follows). */
  ensureAllUnits(): void {
    if (!this.loaded || this.units.length === 0) return;
    for (const part of this.parts) {
      const us = this.units.filter((u) => u.offset >= part.base && u.end <= part.base + part.size);
      if (us.length === 0) continue;
      const first = us[0]!.offset;
      const last = us[us.length - 1]!.end;
      const target = this.info.subarray(first, last);
      if (!this.elf.readSectionInto(part.name, first - part.base, target)) continue;
      for (const u of us) this.loaded.add(u);
    }
  }

  private fail(msg: string, off: number, section = '.debug_info'): never {
    if (section === '.debug_info' && this.parts.length > 1) {
      // Offsets past .debug_info are in .debug_types.
      const part = this.partAt(off);
      throw new BadDataError(`${part.name}: ${msg}`, this.elf.path, off - part.base);
    }
    throw new BadDataError(`${section}: ${msg}`, this.elf.path, off);
  }

  private readUnits(): void {
    for (const part of this.parts) {
      let off = part.base;
      const end = part.base + part.size;
      while (off + 11 <= end) {
        const r = parseUnitHeader(this.dv, off, off, end, (m, o) => this.fail(m, o), part.name === '.debug_types');
        const { signature: _s, typeOffset: _t, ...rec } = r;
        this.units.push({ ...rec, abbrevs: this.abbrevTable(r.abbrevOffset, r.offsetSize, r.addrSize, r.version) });
        off = r.end;
      }
    }
  }

  /** Decode the abbreviation table at `off` (cached per offset and unit shape). */
  private abbrevTable(off: number, offsetSize: number, addrSize: number, version: number): Map<number, Abbrev> {
    const key = `${off}:${offsetSize}:${addrSize}:${version}`;
    const hit = this.abbrevCache.get(key);
    if (hit) return hit;
    const a = this.abbrev;
    const table = new Map<number, Abbrev>();
    let p = off;
    const uleb = (): number => {
      let r = 0;
      let shift = 0;
      for (;;) {
        if (p >= a.length) this.fail('abbreviation table truncated', p, '.debug_abbrev');
        const b = a[p++]!;
        r += (b & 0x7f) * 2 ** shift;
        if (!(b & 0x80)) return r;
        shift += 7;
        if (shift > 56) this.fail('LEB128 too long', p, '.debug_abbrev');
      }
    };
    const sleb = (): bigint => {
      let r = 0n;
      let shift = 0n;
      let b: number;
      do {
        if (p >= a.length) this.fail('abbreviation table truncated', p, '.debug_abbrev');
        b = a[p++]!;
        r |= BigInt(b & 0x7f) << shift;
        shift += 7n;
      } while (b & 0x80 && shift < 70n);
      if (b & 0x40) r -= 1n << shift;
      return r;
    };
    for (;;) {
      const code = uleb();
      if (code === 0) break;
      const tag = uleb();
      const children = a[p++] === 1;
      const attrs: number[] = [];
      const forms: number[] = [];
      const consts: (bigint | undefined)[] = [];
      for (;;) {
        const at = uleb();
        const form = uleb();
        if (at === 0 && form === 0) break;
        attrs.push(at);
        forms.push(form);
        consts.push(form === DW_FORM.implicit_const ? sleb() : undefined);
        if (attrs.length > 1000) this.fail('abbreviation with too many attributes', p, '.debug_abbrev');
      }
      let fixedSize = 0;
      for (const f of forms) {
        const s = fixedFormSize(f, offsetSize, addrSize, version);
        if (s < 0) {
          fixedSize = -1;
          break;
        }
        fixedSize += s;
      }
      table.set(code, {
        tag,
        children,
        attrs: Uint32Array.from(attrs),
        forms: Uint32Array.from(forms),
        consts,
        fixedSize,
        siblingIndex: attrs.indexOf(DW_AT.sibling),
      });
    }
    this.abbrevCache.set(key, table);
    return table;
  }

  unitAt(offset: number): Unit {
    let lo = 0;
    let hi = this.units.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.units[mid]!.end <= offset) lo = mid + 1;
      else hi = mid;
    }
    const u = this.units[lo];
    if (!u || offset < u.dieOffset) this.fail(`no unit contains DIE offset 0x${offset.toString(16)}`, offset);
    return u;
  }

  private ulebAt(p: number): [number, number] {
    const b = this.info;
    let r = 0;
    let shift = 0;
    for (;;) {
      if (p >= b.length) this.fail('LEB128 runs past the section', p);
      const x = b[p++]!;
      r += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) return [r, p];
      shift += 7;
      if (shift > 63) this.fail('LEB128 too long', p);
    }
  }

  /** Read one DIE (null entries return undefined with `next` via readNull). */
  readDie(offset: number, unit = this.unitAt(offset)): Die | undefined {
    this.ensure(unit);
    const [code, after] = this.ulebAt(offset);
    if (code === 0) return undefined;
    const ab = unit.abbrevs.get(code);
    if (!ab) this.fail(`abbreviation code ${code} not in the unit's table`, offset);
    const attrs = new Map<number, AttrValue>();
    let p = after;
    try {
      for (let i = 0; i < ab.attrs.length; i++) {
        const [v, np] = this.readForm(ab.forms[i]!, p, unit, ab.consts[i]);
        attrs.set(ab.attrs[i]!, v);
        p = np;
      }
    } catch (e) {
      // Fixed-size forms are read unchecked (the DataView's own bounds check): past the section's end is damage.
      if (e instanceof RangeError) this.fail('DIE runs past the end of .debug_info', offset);
      throw e;
    }
    if (p > unit.end) this.fail('DIE runs past its unit', offset);
    return { offset, tag: ab.tag, children: ab.children, attrs, next: p, unit };
  }

  private readForm(form: number, p: number, unit: Unit, implicit?: bigint): [AttrValue, number] {
    const dv = this.dv;
    const os = unit.offsetSize;
    const off = (at: number): number => (os === 8 ? Number(dv.getBigUint64(at, true)) : dv.getUint32(at, true));
    if (p > this.info.length) this.fail('attribute runs past the section', p);
    switch (form) {
      case DW_FORM.addr:
        return [dv.getBigUint64(p, true), p + unit.addrSize];
      case DW_FORM.data1:
      case DW_FORM.ref1:
      case DW_FORM.flag:
        return [form === DW_FORM.ref1 ? unit.offset + dv.getUint8(p) : dv.getUint8(p), p + 1];
      case DW_FORM.data2:
        return [dv.getUint16(p, true), p + 2];
      case DW_FORM.ref2:
        return [unit.offset + dv.getUint16(p, true), p + 2];
      case DW_FORM.data4:
        return [dv.getUint32(p, true), p + 4];
      case DW_FORM.ref4:
        return [unit.offset + dv.getUint32(p, true), p + 4];
      case DW_FORM.data8:
        return [dv.getBigUint64(p, true), p + 8];
      case DW_FORM.ref8:
        return [unit.offset + Number(dv.getBigUint64(p, true)), p + 8];
      case DW_FORM.ref_sig8: {
        // A type in a type unit: its DIE's offset when this file has the unit, else the signature.
        const sig = dv.getBigUint64(p, true);
        return [this.typeBySignature(sig) ?? sig, p + 8];
      }
      case DW_FORM.data16:
        return [this.info.subarray(p, p + 16), p + 16];
      case DW_FORM.sdata: {
        let r = 0n;
        let shift = 0n;
        let b: number;
        do {
          if (p >= this.info.length) this.fail('LEB128 runs past the section', p);
          b = this.info[p++]!;
          r |= BigInt(b & 0x7f) << shift;
          shift += 7n;
        } while (b & 0x80 && shift < 70n);
        if (b & 0x40) r -= 1n << shift;
        return [r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r, p];
      }
      case DW_FORM.udata:
        return this.ulebAt(p);
      case DW_FORM.ref_udata: {
        const [v, np] = this.ulebAt(p);
        return [unit.offset + v, np];
      }
      case DW_FORM.string: {
        const end = this.info.indexOf(0, p);
        if (end < 0 || end >= unit.end) this.fail('unterminated string', p);
        return [td.decode(this.info.subarray(p, end)), end + 1];
      }
      case DW_FORM.strp:
        return [this.cstr(this.str, off(p), '.debug_str'), p + os];
      case DW_FORM.line_strp:
        return [this.cstr(this.lineStr, off(p), '.debug_line_str'), p + os];
      case DW_FORM.strx:
      case DW_FORM.GNU_str_index: {
        const [i, np] = this.ulebAt(p);
        return [this.strx(unit, i), np];
      }
      case DW_FORM.strx1:
        return [this.strx(unit, dv.getUint8(p)), p + 1];
      case DW_FORM.strx2:
        return [this.strx(unit, dv.getUint16(p, true)), p + 2];
      case DW_FORM.strx3:
        return [this.strx(unit, dv.getUint16(p, true) | (dv.getUint8(p + 2) << 16)), p + 3];
      case DW_FORM.strx4:
        return [this.strx(unit, dv.getUint32(p, true)), p + 4];
      case DW_FORM.ref_addr:
        return [off(p), p + (unit.version <= 2 ? unit.addrSize : os)];
      case DW_FORM.sec_offset:
      case DW_FORM.strp_sup:
      case DW_FORM.GNU_ref_alt:
      case DW_FORM.GNU_strp_alt:
        return [off(p), p + os];
      case DW_FORM.ref_sup4:
        return [dv.getUint32(p, true), p + 4];
      case DW_FORM.ref_sup8:
        return [dv.getBigUint64(p, true), p + 8];
      case DW_FORM.flag_present:
        return [true, p];
      case DW_FORM.implicit_const:
        return [
          implicit !== undefined &&
          implicit >= BigInt(Number.MIN_SAFE_INTEGER) &&
          implicit <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(implicit)
            : (implicit ?? 0),
          p,
        ];
      case DW_FORM.exprloc:
      case DW_FORM.block: {
        const [n, np] = this.ulebAt(p);
        if (np + n > unit.end) this.fail('block runs past its unit', p);
        return [this.info.subarray(np, np + n), np + n];
      }
      case DW_FORM.block1: {
        const n = dv.getUint8(p);
        return [this.info.subarray(p + 1, p + 1 + n), p + 1 + n];
      }
      case DW_FORM.block2: {
        const n = dv.getUint16(p, true);
        return [this.info.subarray(p + 2, p + 2 + n), p + 2 + n];
      }
      case DW_FORM.block4: {
        const n = dv.getUint32(p, true);
        if (p + 4 + n > unit.end) this.fail('block runs past its unit', p);
        return [this.info.subarray(p + 4, p + 4 + n), p + 4 + n];
      }
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index:
        return this.ulebAt(p);
      case DW_FORM.addrx1:
        return [dv.getUint8(p), p + 1];
      case DW_FORM.addrx2:
        return [dv.getUint16(p, true), p + 2];
      case DW_FORM.addrx3:
        return [dv.getUint16(p, true) | (dv.getUint8(p + 2) << 16), p + 3];
      case DW_FORM.addrx4:
        return [dv.getUint32(p, true), p + 4];
      case DW_FORM.indirect: {
        const [f, np] = this.ulebAt(p);
        if (f === DW_FORM.indirect) this.fail('DW_FORM_indirect pointing to itself', p);
        return this.readForm(f, np, unit);
      }
      default:
        this.fail(`unknown attribute form 0x${form.toString(16)}`, p);
    }
  }

  private cstr(sec: Uint8Array, off: number, name: string): string {
    if (off >= sec.length) this.fail(`string offset 0x${off.toString(16)} outside ${name}`, off, name);
    let end = sec.indexOf(0, off);
    if (end < 0) end = sec.length;
    return td.decode(sec.subarray(off, end));
  }

  private strx(unit: Unit, i: number): string {
    if (unit.strOffsetsBase === undefined) {
      const cu = this.readDie(unit.dieOffset, unit);
      const b = cu?.attrs.get(DW_AT.str_offsets_base);
      unit.strOffsetsBase = typeof b === 'number' ? b : 8;
    }
    const at = unit.strOffsetsBase + i * unit.offsetSize;
    if (at + unit.offsetSize > this.strOffsets.length)
      this.fail(`string index ${i} outside .debug_str_offsets`, at, '.debug_str_offsets');
    const dv = new DataView(this.strOffsets.buffer, this.strOffsets.byteOffset, this.strOffsets.byteLength);
    const off = unit.offsetSize === 8 ? Number(dv.getBigUint64(at, true)) : dv.getUint32(at, true);
    return this.cstr(this.str, off, '.debug_str');
  }

  /** Offset just past a DIE and all its children. */
  skipDie(offset: number, unit: Unit): number {
    const d = this.readDie(offset, unit);
    if (!d) return this.ulebAt(offset)[1];
    const sib = d.attrs.get(DW_AT.sibling);
    if (typeof sib === 'number' && sib > offset && sib <= unit.end) return sib;
    if (!d.children) return d.next;
    let p = d.next;
    for (let guard = 0; p < unit.end; guard++) {
      const [code, after] = this.ulebAt(p);
      if (code === 0) return after;
      p = this.skipDie(p, unit);
      if (guard > 10_000_000) this.fail('DIE tree does not end', offset);
    }
    return p;
  }

  /** The DIEs directly under a DIE with children, in order. */
  *childrenOf(die: Die): Iterable<Die> {
    if (!die.children) return;
    let p = die.next;
    while (p < die.unit.end) {
      const child = this.readDie(p, die.unit);
      if (!child) return;
      yield child;
      const np = this.skipDie(p, die.unit);
      if (np <= p) this.fail('DIE does not advance', p);
      p = np;
    }
  }
}
