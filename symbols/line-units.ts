/**
 * What `.debug_line` lookups need from the rest of DWARF, read minimally:
 * which compilation unit covers an address (`.debug_aranges`), and a unit's
 * line program offset and compilation directory (DW_AT_stmt_list,
 * DW_AT_comp_dir of its first DIE), through the DWARF reader's lazy mode:
 * the units a lookup needs are read, never the whole section.
 */

import { Cursor } from '../core/cursor.js';
import { BadDataError } from '../core/errors.js';
import { DwarfReader } from './dwarf/reader.js';
import type { ElfFile } from './elf.js';

const DW_AT_name = 0x03;
const DW_AT_stmt_list = 0x10;
const DW_AT_comp_dir = 0x1b;

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
 * A unit's line program offset and compilation directory, from its first DIE, through the project's one DWARF
 * reader (symbols/dwarf/reader.ts) in its lazy mode: the unit headers are found with small reads, and a unit's
 * bytes are read when one of its DIEs is. A DebugInfo's reader can be shared (`reader`).
 */
export class UnitHeaderReader {
  private readonly cache = new Map<number, UnitLineInfo>();
  private dwarf: DwarfReader | undefined;

  constructor(
    private readonly elf: ElfFile,
    reader?: DwarfReader,
  ) {
    this.dwarf = reader;
  }

  private reader(): DwarfReader {
    this.dwarf ??= new DwarfReader(this.elf, { units: DwarfReader.unitRecords(this.elf) });
    return this.dwarf;
  }

  /** All units' offsets (for files without .debug_aranges). */
  unitOffsets(): number[] {
    if (!this.elf.section('.debug_info')) return [];
    return this.reader().units.map((u) => u.offset);
  }

  /** stmt_list and comp_dir of the unit at `unitOffset` in .debug_info. */
  unit(unitOffset: number): UnitLineInfo {
    const hit = this.cache.get(unitOffset);
    if (hit) return hit;
    const r = this.reader();
    let lo = 0;
    let hi = r.units.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (r.units[mid]!.offset <= unitOffset) lo = mid;
      else hi = mid - 1;
    }
    const u = r.units[lo];
    if (!u || u.offset !== unitOffset)
      throw new BadDataError(`.debug_info: no unit starts at 0x${unitOffset.toString(16)}`, this.elf.path, unitOffset);
    const info: UnitLineInfo = { unitOffset, version: u.version, addrSize: u.addrSize };
    const d = r.readDie(u.dieOffset, u);
    const stmt = d?.attrs.get(DW_AT_stmt_list);
    const compDir = d?.attrs.get(DW_AT_comp_dir);
    const name = d?.attrs.get(DW_AT_name);
    if (typeof stmt === 'number') info.stmtList = stmt;
    if (typeof compDir === 'string') info.compDir = compDir;
    if (typeof name === 'string') info.name = name;
    this.cache.set(unitOffset, info);
    return info;
  }
}
