/**
 * What `.debug_line` lookups need from the rest of DWARF, read minimally:
 * which compilation unit covers an address (`.debug_aranges`), and a unit's
 * line program offset and compilation directory (DW_AT_stmt_list,
 * DW_AT_comp_dir of its first DIE). Reads only the unit header and first DIE
 * of `.debug_info` (positioned reads), never the whole section.
 */

import { Cursor } from '../core/cursor.js';
import { BadDataError } from '../core/errors.js';
import type { ElfFile } from './elf.js';

const DW_AT_name = 0x03;
const DW_AT_stmt_list = 0x10;
const DW_AT_comp_dir = 0x1b;
const DW_AT_str_offsets_base = 0x72;

export interface UnitLineInfo {
  /** Offset of the unit in .debug_info. */
  unitOffset: number;
  version: number;
  addrSize: number;
  /** Offset of its line program in .debug_line; undefined when the unit has none. */
  stmtList?: number;
  compDir?: string;
  name?: string;
}

/** Address ranges → unit offsets, sorted by start (hi/lo u32 halves to stay exact). */
export class ArangeIndex {
  private constructor(
    private readonly startHi: Uint32Array,
    private readonly startLo: Uint32Array,
    private readonly len: Float64Array,
    private readonly unit: Float64Array,
  ) {}

  get size(): number {
    return this.unit.length;
  }

  /** Parse .debug_aranges; undefined when the file has none. */
  static fromElf(elf: ElfFile): ArangeIndex | undefined {
    const sec = elf.section('.debug_aranges');
    if (!sec) return undefined;
    const data = elf.sectionData(sec);
    const c = new Cursor(data, elf.path, sec.offset);
    const sh: number[] = [];
    const sl: number[] = [];
    const ln: number[] = [];
    const un: number[] = [];
    while (c.remaining > 0) {
      const setStart = c.pos;
      let length = c.u32('aranges unit_length');
      let offSize = 4;
      if (length === 0xffffffff) {
        length = c.u64n('aranges unit_length');
        offSize = 8;
      }
      const end = c.pos + length;
      if (length < 4 || end > data.length) c.fail(`aranges set of ${length} bytes runs past the section`, setStart);
      const version = c.u16('aranges version');
      if (version !== 2) c.fail(`aranges version ${version} (2 expected)`, setStart);
      const unit = offSize === 8 ? c.u64n('debug_info_offset') : c.u32('debug_info_offset');
      const addrSize = c.u8('address_size');
      const segSize = c.u8('segment_size');
      if (addrSize !== 8 && addrSize !== 4) c.fail(`aranges address size ${addrSize}`, c.pos - 2);
      const tuple = 2 * addrSize + segSize;
      // Tuples start at a multiple of the tuple size from the set's start.
      const rel = c.pos - setStart;
      const pad = (tuple - (rel % tuple)) % tuple;
      c.pos = Math.min(c.pos + pad, end);
      while (c.pos + tuple <= end) {
        c.skip(segSize, 'segment selector');
        let hi = 0;
        let lo: number;
        let len: number;
        if (addrSize === 8) {
          lo = c.u32('address');
          hi = c.u32('address');
          len = c.u64n('length');
        } else {
          lo = c.u32('address');
          len = c.u32('length');
        }
        if (hi === 0 && lo === 0 && len === 0) break;
        if (len === 0) continue;
        sh.push(hi);
        sl.push(lo);
        ln.push(len);
        un.push(unit);
      }
      c.pos = end;
    }
    const order = Array.from(sh.keys()).sort((a, b) => sh[a]! - sh[b]! || sl[a]! - sl[b]!);
    return new ArangeIndex(
      Uint32Array.from(order, (i) => sh[i]!),
      Uint32Array.from(order, (i) => sl[i]!),
      Float64Array.from(order, (i) => ln[i]!),
      Float64Array.from(order, (i) => un[i]!),
    );
  }

  /** The .debug_info offset of the unit covering `address`, if any. */
  unitFor(address: bigint): number | undefined {
    const ah = Number(address >> 32n);
    const al = Number(address & 0xffffffffn);
    let lo = 0;
    let hi = this.unit.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const h = this.startHi[mid]!;
      if (h < ah || (h === ah && this.startLo[mid]! <= al)) lo = mid + 1;
      else hi = mid;
    }
    // Ranges may nest or overlap (rare); look back a few for one that covers.
    for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) {
      const d = (ah - this.startHi[i]!) * 2 ** 32 + (al - this.startLo[i]!);
      if (d >= 0 && d < this.len[i]!) return this.unit[i]!;
    }
    return undefined;
  }
}

/**
 * Reads a unit's header and first DIE for its line program offset and
 * compilation directory. Abbreviation tables come from .debug_abbrev (loaded
 * once); the unit's bytes are read in small pieces.
 */
export class UnitHeaderReader {
  private readonly cache = new Map<number, UnitLineInfo>();

  constructor(private readonly elf: ElfFile) {}

  private fail(msg: string, off: number, section = '.debug_info'): never {
    throw new BadDataError(`${section}: ${msg}`, this.elf.path, off);
  }

  private str(section: string, off: number): string {
    const sec = this.elf.section(section);
    if (!sec) return this.fail(`string at ${off} in missing section ${section}`, off, section);
    const data = this.elf.sectionData(sec);
    if (off >= data.length) this.fail(`string offset ${off} outside ${section} (${data.length} bytes)`, off, section);
    let end = data.indexOf(0, off);
    if (end < 0) end = data.length;
    return new TextDecoder('latin1').decode(data.subarray(off, end));
  }

  /** All units' offsets, walking unit headers only (for files without .debug_aranges). */
  unitOffsets(): number[] {
    const sec = this.elf.section('.debug_info');
    if (!sec) return [];
    const total = this.elf.dataSize(sec);
    const out: number[] = [];
    let off = 0;
    while (off + 4 <= total) {
      const h = this.elf.readSectionRange(sec, off, Math.min(12, total - off));
      const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
      let len = dv.getUint32(0, true);
      let hdr = 4;
      if (len === 0xffffffff) {
        if (h.length < 12) this.fail('64-bit unit length truncated', off);
        const l = dv.getBigUint64(4, true);
        if (l > BigInt(total)) this.fail(`unit length ${l} past the section`, off);
        len = Number(l);
        hdr = 12;
      }
      if (len < 2 || off + hdr + len > total) this.fail(`unit of ${len} bytes runs past the section`, off);
      out.push(off);
      off += hdr + len;
    }
    return out;
  }

  /** stmt_list and comp_dir of the unit at `unitOffset` in .debug_info. */
  unit(unitOffset: number): UnitLineInfo {
    const hit = this.cache.get(unitOffset);
    if (hit) return hit;
    const sec = this.elf.section('.debug_info');
    if (!sec) return this.fail('no .debug_info section', 0);
    const total = this.elf.dataSize(sec);
    if (unitOffset + 4 > total) this.fail(`unit offset ${unitOffset} past the section (${total} bytes)`, unitOffset);
    let want = 512;
    for (;;) {
      const len = Math.min(want, total - unitOffset);
      const bytes = this.elf.readSectionRange(sec, unitOffset, len);
      try {
        const info = this.parse(bytes, unitOffset, sec.offset);
        this.cache.set(unitOffset, info);
        return info;
      } catch (e) {
        // A first DIE larger than what we read (a long inline producer string): read more.
        if (e instanceof BadDataError && len < total - unitOffset && want < 1 << 20) {
          want *= 8;
          continue;
        }
        throw e;
      }
    }
  }

  private parse(bytes: Uint8Array, unitOffset: number, fileBase: number): UnitLineInfo {
    const c = new Cursor(bytes, this.elf.path, fileBase + unitOffset);
    let length = c.u32('unit_length');
    let offSize = 4;
    if (length === 0xffffffff) {
      length = c.u64n('unit_length');
      offSize = 8;
    }
    const unitEnd = c.pos + length;
    if (c.end > unitEnd) c.end = unitEnd;
    const version = c.u16('unit version');
    if (version < 2 || version > 5) c.fail(`unit version ${version} is not DWARF 2-5`, c.pos - 2);
    let addrSize: number;
    let abbrevOff: number;
    if (version >= 5) {
      const unitType = c.u8('unit_type');
      addrSize = c.u8('address_size');
      abbrevOff = offSize === 8 ? c.u64n('debug_abbrev_offset') : c.u32('debug_abbrev_offset');
      if (unitType === 4 || unitType === 5)
        c.skip(8, 'dwo_id'); // skeleton, split_compile
      else if (unitType === 2 || unitType === 6) c.skip(8 + offSize, 'type signature and offset');
    } else {
      abbrevOff = offSize === 8 ? c.u64n('debug_abbrev_offset') : c.u32('debug_abbrev_offset');
      addrSize = c.u8('address_size');
    }
    const info: UnitLineInfo = { unitOffset, version, addrSize };
    const code = c.uleb('abbrev code');
    if (code === 0) return info;
    const decl = this.findAbbrev(abbrevOff, code);
    let strOffsetsBase: number | undefined;
    const strx: { attr: number; index: number }[] = [];
    for (let i = 0; i < decl.length; i += 3) {
      const attr = decl[i]!;
      let form = decl[i + 1]!;
      if (form === 0x16) form = c.uleb('indirect form'); // DW_FORM_indirect
      const v = this.readForm(c, form, offSize, addrSize, version, decl[i + 2]!);
      if (attr === DW_AT_stmt_list && typeof v === 'number') info.stmtList = v;
      else if (attr === DW_AT_str_offsets_base && typeof v === 'number') strOffsetsBase = v;
      else if (attr === DW_AT_comp_dir || attr === DW_AT_name) {
        if (typeof v === 'string') {
          if (attr === DW_AT_comp_dir) info.compDir = v;
          else info.name = v;
        } else if (typeof v === 'object' && v !== null) strx.push({ attr, index: v.strx });
      }
    }
    for (const s of strx) {
      // strx forms: an index into .debug_str_offsets from DW_AT_str_offsets_base (default past the v5 header).
      const base = strOffsetsBase ?? 8;
      const so = this.elf.section('.debug_str_offsets');
      if (!so) continue;
      const d = this.elf.readSectionRange(so, base + s.index * offSize, offSize);
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const off = offSize === 8 ? Number(dv.getBigUint64(0, true)) : dv.getUint32(0, true);
      const str = this.str('.debug_str', off);
      if (s.attr === DW_AT_comp_dir) info.compDir = str;
      else info.name = str;
    }
    return info;
  }

  /** [attr, form, implicit_const]* of abbreviation `code` in the table at `off`. */
  private findAbbrev(off: number, code: number): number[] {
    const sec = this.elf.section('.debug_abbrev');
    if (!sec) return this.fail('no .debug_abbrev section', 0, '.debug_abbrev');
    const total = this.elf.dataSize(sec);
    if (off >= total)
      this.fail(`abbreviation table offset ${off} past the section (${total} bytes)`, off, '.debug_abbrev');
    // Read the table in growing pieces: most units find their first DIE's abbreviation early.
    for (let want = 4096; ; want *= 4) {
      const len = Math.min(want, total - off);
      const bytes = this.elf.readSectionRange(sec, off, len);
      const c = new Cursor(bytes, this.elf.path, sec.offset + off);
      try {
        for (;;) {
          const at = c.pos;
          const k = c.uleb('abbrev code');
          if (k === 0) c.fail(`abbreviation ${code} not in the table at ${off}`, at);
          c.uleb('tag');
          c.u8('children');
          const out: number[] = [];
          for (;;) {
            const attr = c.uleb('attribute');
            const form = c.uleb('form');
            if (attr === 0 && form === 0) break;
            const implicit = form === 0x21 ? c.sleb('implicit_const') : 0;
            out.push(attr, form, implicit);
          }
          if (k === code) return out;
        }
      } catch (e) {
        if (!(e instanceof BadDataError) || len === total - off) throw e;
      }
    }
  }

  private readForm(
    c: Cursor,
    form: number,
    offSize: number,
    addrSize: number,
    version: number,
    implicit: number,
  ): number | string | { strx: number } | undefined {
    const off = (): number => (offSize === 8 ? c.u64n('offset') : c.u32('offset'));
    switch (form) {
      case 0x01: // addr
        c.skip(addrSize, 'address');
        return undefined;
      case 0x03:
        c.skip(c.u16('block2 length'), 'block');
        return undefined;
      case 0x04:
        c.skip(c.u32('block4 length'), 'block');
        return undefined;
      case 0x05:
        return c.u16();
      case 0x06:
        return c.u32();
      case 0x07:
        return c.u64n('data8');
      case 0x08:
        return c.cstr('string');
      case 0x09:
      case 0x18: // exprloc
        c.skip(c.uleb('block length'), 'block');
        return undefined;
      case 0x0a:
        c.skip(c.u8('block1 length'), 'block');
        return undefined;
      case 0x0b:
      case 0x0c: // data1, flag
      case 0x11: // ref1
        return c.u8();
      case 0x0d:
        return c.sleb();
      case 0x0e: // strp
        return this.str('.debug_str', off());
      case 0x0f: // udata
      case 0x15: // ref_udata
        return c.uleb();
      case 0x10: // ref_addr: address size in DWARF 2, offset size after
        if (version <= 2) c.skip(addrSize, 'ref_addr');
        else off();
        return undefined;
      case 0x12:
        return c.u16();
      case 0x13:
        return c.u32();
      case 0x14:
      case 0x20: // ref8, ref_sig8
        c.skip(8, 'ref8');
        return undefined;
      case 0x17: // sec_offset
        return off();
      case 0x19: // flag_present
        return 1;
      case 0x1a: // strx
        return { strx: c.uleb('strx') };
      case 0x25:
        return { strx: c.u8() };
      case 0x26:
        return { strx: c.u16() };
      case 0x27: {
        const b = c.bytes(3, 'strx3');
        return { strx: b[0]! | (b[1]! << 8) | (b[2]! << 16) };
      }
      case 0x28:
        return { strx: c.u32() };
      case 0x1b: // addrx
      case 0x22: // loclistx
      case 0x23: // rnglistx
        return c.uleb();
      case 0x29:
        return c.u8(); // addrx1
      case 0x2a:
        return c.u16();
      case 0x2b:
        c.skip(3, 'addrx3');
        return undefined;
      case 0x2c:
        return c.u32();
      case 0x1c: // ref_sup4
        return c.u32();
      case 0x1d: // strp_sup
      case 0x1f: // line_strp
        if (form === 0x1f) return this.str('.debug_line_str', off());
        off();
        return undefined;
      case 0x1e: // data16
        c.skip(16, 'data16');
        return undefined;
      case 0x21: // implicit_const
        return implicit;
      case 0x24: // ref_sup8
        c.skip(8, 'ref_sup8');
        return undefined;
      default:
        return c.fail(`unknown DWARF form 0x${form.toString(16)}`);
    }
  }
}
