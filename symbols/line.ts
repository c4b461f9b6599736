/**
 * `.debug_line`, DWARF versions 2 to 5: address → file:line, for `bt -l` and
 * `sym` (crash prints `debian/build/.../kernel/sched/core.c: 6654`).
 *
 * Lazy: nothing is decoded until an address is asked for; then the unit that
 * covers it is found through `.debug_aranges` (or a `unitFor` callback from
 * the DWARF index), its DW_AT_stmt_list / DW_AT_comp_dir read from its first
 * DIE, and only that unit's line program decoded (rows kept in typed arrays,
 * cached). File names follow addr2line: a relative file name is joined to its
 * directory, and a relative directory to the compilation directory.
 */
import { Cursor } from '../core/cursor.js';
import { BadDataError } from '../core/errors.js';
import type { DwarfReader } from './dwarf/reader.js';
import type { ElfFile } from './elf.js';
import { ArangeIndex, UnitHeaderReader, type UnitLineInfo } from './line-units.js';

const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;

export interface LineFile {
  /** The name as the line table has it. */
  name: string;
  /** Directory (joined with the compilation directory when relative), or '' when none. */
  dir: string;
  /** dir/name as addr2line prints it. */
  path: string;
}

export interface LineInfo {
  /** Full path as addr2line / crash print it. */
  file: string;
  line: number;
  column: number;
  /** Address of the row that covers the asked address. */
  address: bigint;
  isStmt: boolean;
}

/** One decoded line program: its files and rows, sequence by sequence. */
export class LineProgram {
  constructor(
    readonly offset: number,
    readonly version: number,
    readonly files: LineFile[],
    /** Row addresses as hi/lo u32 halves; rows of one sequence are contiguous and in address order. */
    readonly addrHi: Uint32Array,
    readonly addrLo: Uint32Array,
    readonly file: Uint32Array,
    readonly line: Uint32Array,
    readonly column: Uint32Array,
    /** bit 0: is_stmt, bit 1: end_sequence. */
    readonly flags: Uint8Array,
    /** Sequences sorted by start address: [firstRow, rowCount] pairs. */
    readonly sequences: Uint32Array,
  ) {}

  get rowCount(): number {
    return this.addrLo.length;
  }

  private lt(i: number, ah: number, al: number): boolean {
    const h = this.addrHi[i]!;
    return h < ah || (h === ah && this.addrLo[i]! <= al);
  }

  /** The row covering `address` (the last row at or below it, before its sequence's end), or -1. */
  rowFor(address: bigint): number {
    const ah = Number(address >> 32n);
    const al = Number(address & 0xffffffffn);
    const seqs = this.sequences;
    // Last sequence starting at or below the address.
    let lo = 0;
    let hi = seqs.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.lt(seqs[mid * 2]!, ah, al)) lo = mid + 1;
      else hi = mid;
    }
    for (let s = lo - 1; s >= 0 && s >= lo - 4; s--) {
      const first = seqs[s * 2]!;
      const count = seqs[s * 2 + 1]!;
      const last = first + count - 1;
      // The end_sequence row's address is one past the sequence.
      if (this.lt(last, ah, al)) continue;
      let a = first;
      let b = last;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (this.lt(mid, ah, al)) a = mid + 1;
        else b = mid;
      }
      return a - 1 >= first ? a - 1 : -1;
    }
    return -1;
  }

  address(row: number): bigint {
    return (BigInt(this.addrHi[row]!) << 32n) | BigInt(this.addrLo[row]!);
  }
}

function joinPath(dir: string, name: string): string {
  if (!dir || name.startsWith('/')) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export interface LineTableOptions {
  /** Map an address to its unit's .debug_info offset (the DWARF index can give this); default: .debug_aranges. */
  unitFor?: (address: bigint) => number | undefined;
  /** A DWARF reader of the same file to share (a DebugInfo's), for the units' first DIEs. */
  reader?: DwarfReader;
}

export class LineTable {
  private readonly programs = new Map<number, LineProgram>();
  private aranges?: ArangeIndex | null;
  private readonly units: UnitHeaderReader;
  private fallback?: { starts: BigUint64Array; ends: BigUint64Array; unit: Float64Array };

  constructor(
    readonly elf: ElfFile,
    private readonly opts: LineTableOptions = {},
  ) {
    this.units = new UnitHeaderReader(elf, opts.reader);
  }

  /** Is there line information at all? */
  get available(): boolean {
    return this.elf.section('.debug_line') !== undefined;
  }

  /** file:line of an address of the file (unrelocated: subtract the KASLR offset first). */
  lookup(address: bigint): LineInfo | undefined {
    const unit = this.unitFor(address);
    if (unit === undefined) return undefined;
    const u = this.units.unit(unit);
    if (u.stmtList === undefined) return undefined;
    const prog = this.program(u.stmtList, u);
    const row = prog.rowFor(address);
    if (row < 0) return undefined;
    const f = prog.files[prog.file[row]!];
    return {
      file: f ? f.path : '??',
      line: prog.line[row]!,
      column: prog.column[row]!,
      address: prog.address(row),
      isStmt: (prog.flags[row]! & 1) !== 0,
    };
  }

  private unitFor(address: bigint): number | undefined {
    if (this.opts.unitFor) return this.opts.unitFor(address);
    if (this.aranges === undefined) this.aranges = ArangeIndex.fromElf(this.elf) ?? null;
    if (this.aranges && this.aranges.size > 0) return this.aranges.unitFor(address);
    return this.unitByPrograms(address);
  }

  /** Without .debug_aranges: decode every unit's line program once and index their sequences. */
  private unitByPrograms(address: bigint): number | undefined {
    if (!this.fallback) {
      const starts: bigint[] = [];
      const ends: bigint[] = [];
      const unit: number[] = [];
      for (const off of this.units.unitOffsets()) {
        const u = this.units.unit(off);
        if (u.stmtList === undefined) continue;
        const p = this.program(u.stmtList, u);
        for (let s = 0; s < p.sequences.length; s += 2) {
          const first = p.sequences[s]!;
          starts.push(p.address(first));
          ends.push(p.address(first + p.sequences[s + 1]! - 1));
          unit.push(off);
        }
      }
      const order = Array.from(starts.keys()).sort((a, b) =>
        starts[a]! < starts[b]! ? -1 : starts[a]! > starts[b]! ? 1 : 0,
      );
      this.fallback = {
        starts: BigUint64Array.from(order, (i) => starts[i]!),
        ends: BigUint64Array.from(order, (i) => ends[i]!),
        unit: Float64Array.from(order, (i) => unit[i]!),
      };
    }
    const { starts, ends, unit } = this.fallback;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= address) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && i >= lo - 8; i--) if (address < ends[i]!) return unit[i]!;
    return undefined;
  }

  /** The decoded line program at `offset` in .debug_line (cached). */
  program(offset: number, unit?: Pick<UnitLineInfo, 'compDir' | 'addrSize'>): LineProgram {
    const hit = this.programs.get(offset);
    if (hit) return hit;
    const sec = this.elf.section('.debug_line');
    if (!sec) throw new BadDataError('no .debug_line section', this.elf.path, 0);
    // Read just this program: its unit_length first, then the rest.
    const total = this.elf.dataSize(sec);
    if (offset + 4 > total)
      throw new BadDataError(
        `line program offset ${offset} past .debug_line (${total} bytes)`,
        this.elf.path,
        sec.offset,
      );
    const head = this.elf.readSectionRange(sec, offset, Math.min(12, total - offset));
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    let len = hv.getUint32(0, true) + 4;
    if (len === 0xffffffff + 4) {
      if (head.length < 12)
        throw new BadDataError('64-bit line program length truncated', this.elf.path, sec.offset + offset);
      const l = hv.getBigUint64(4, true);
      len = l > BigInt(total) ? total + 1 : Number(l) + 12;
    }
    if (offset + len > total)
      throw new BadDataError(
        `line program of ${len} bytes at ${offset} runs past .debug_line (${total} bytes)`,
        this.elf.path,
        sec.offset + offset,
      );
    const bytes = this.elf.readSectionRange(sec, offset, len);
    const p = decodeProgram(bytes, 0, this.elf, sec.offset + offset, unit?.compDir ?? '', unit?.addrSize ?? 8, offset);
    this.programs.set(offset, p);
    return p;
  }
}

/** Decode the line program at `offset` of a .debug_line section's bytes. */
export function decodeProgram(
  data: Uint8Array,
  offset: number,
  elf: ElfFile,
  fileBase: number,
  compDir: string,
  unitAddrSize: number,
  /** The program's offset in .debug_line, when `data` holds only it. */
  sectionOffset = offset,
): LineProgram {
  const path = elf.path;
  const c = new Cursor(data, path, fileBase);
  if (offset >= data.length) c.fail(`line program offset ${offset} past .debug_line (${data.length} bytes)`, 0);
  c.pos = offset;
  let length = c.u32('unit_length');
  let offSize = 4;
  if (length === 0xffffffff) {
    length = c.u64n('unit_length');
    offSize = 8;
  }
  const end = c.pos + length;
  if (end > data.length) c.fail(`line program of ${length} bytes runs past .debug_line`, offset);
  c.end = end;
  const version = c.u16('version');
  if (version < 2 || version > 5) c.fail(`line table version ${version} is not 2-5`, c.pos - 2);
  let addrSize = unitAddrSize;
  if (version >= 5) {
    addrSize = c.u8('address_size');
    c.u8('segment_selector_size');
  }
  const headerLength = offSize === 8 ? c.u64n('header_length') : c.u32('header_length');
  const progStart = c.pos + headerLength;
  if (progStart > end) c.fail(`header_length ${headerLength} past the program's end`, c.pos - offSize);
  const minInst = c.u8('minimum_instruction_length');
  const maxOps = version >= 4 ? c.u8('maximum_operations_per_instruction') : 1;
  const defaultIsStmt = c.u8('default_is_stmt') !== 0;
  const lineBase = (c.u8('line_base') << 24) >> 24;
  const lineRange = c.u8('line_range');
  const opcodeBase = c.u8('opcode_base');
  if (lineRange === 0) c.fail('line_range is 0', c.pos - 2);
  if (maxOps === 0) c.fail('maximum_operations_per_instruction is 0', c.pos);
  const stdLengths = new Uint8Array(Math.max(opcodeBase, 1));
  for (let i = 1; i < opcodeBase; i++) stdLengths[i] = c.u8('standard_opcode_lengths');

  const dirs: string[] = [];
  const files: LineFile[] = [];
  const strAt = (section: string, off: number): string => {
    const sec = elf.section(section);
    if (!sec) return c.fail(`string in missing section ${section}`);
    const d = elf.sectionData(sec);
    if (off >= d.length) c.fail(`string offset ${off} outside ${section} (${d.length} bytes)`);
    let e = d.indexOf(0, off);
    if (e < 0) e = d.length;
    return new TextDecoder('latin1').decode(d.subarray(off, e));
  };
  if (version >= 5) {
    const readEntries = (what: string): { path: string; dir: number }[] => {
      const fmtCount = c.u8(`${what} format count`);
      const fmt: number[] = [];
      for (let i = 0; i < fmtCount; i++) fmt.push(c.uleb('content type'), c.uleb('form'));
      const count = c.uleb(`${what} count`);
      if (count > c.remaining) c.fail(`${count} ${what} entries cannot fit in the header`);
      const out: { path: string; dir: number }[] = [];
      for (let i = 0; i < count; i++) {
        const e = { path: '', dir: 0 };
        for (let k = 0; k < fmt.length; k += 2) {
          const v = readLineForm(c, fmt[k + 1]!, offSize, strAt);
          if (fmt[k] === DW_LNCT_path && typeof v === 'string') e.path = v;
          else if (fmt[k] === DW_LNCT_directory_index && typeof v === 'number') e.dir = v;
        }
        out.push(e);
      }
      return out;
    };
    for (const d of readEntries('directory')) dirs.push(d.path);
    const dir0 = dirs[0] ?? compDir;
    for (const f of readEntries('file name')) {
      let dir = dirs[f.dir] ?? '';
      if (f.dir !== 0 && !dir.startsWith('/')) dir = joinPath(dir0, dir);
      files.push({ name: f.path, dir, path: joinPath(dir, f.path) });
    }
  } else {
    dirs.push(compDir);
    for (;;) {
      const d = c.cstr('include_directory');
      if (!d) break;
      dirs.push(d);
    }
    files.push({ name: '', dir: '', path: '??' }); // file 0 is not used before DWARF 5
    const addFile = (name: string, di: number): void => {
      let dir = dirs[di] ?? '';
      if (di !== 0 && !dir.startsWith('/')) dir = joinPath(compDir, dir);
      files.push({ name, dir, path: joinPath(dir, name) });
    };
    for (;;) {
      const name = c.cstr('file_name');
      if (!name) break;
      const di = c.uleb('directory index');
      c.uleb('mtime');
      c.uleb('length');
      addFile(name, di);
    }
  }
  c.pos = progStart;

  // Rows into growable typed arrays.
  let cap = Math.max(64, Math.min(1 << 20, (end - progStart) >> 1));
  let aHi: Uint32Array = new Uint32Array(cap);
  let aLo: Uint32Array = new Uint32Array(cap);
  let fl: Uint32Array = new Uint32Array(cap);
  let ln: Uint32Array = new Uint32Array(cap);
  let col: Uint32Array = new Uint32Array(cap);
  let flags: Uint8Array = new Uint8Array(cap);
  let n = 0;
  const grow = (): void => {
    cap *= 2;
    const g32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    aHi = g32(aHi);
    aLo = g32(aLo);
    fl = g32(fl);
    ln = g32(ln);
    col = g32(col);
    const f = new Uint8Array(cap);
    f.set(flags);
    flags = f;
  };
  const seqs: number[] = [];

  // State machine registers; the address as hi/lo halves to stay exact.
  let hi = 0;
  let lo = 0;
  let opIndex = 0;
  let file = 1;
  let line = 1;
  let column = 0;
  let isStmt = defaultIsStmt;
  let seqStart = 0;
  const reset = (): void => {
    hi = 0;
    lo = 0;
    opIndex = 0;
    file = 1;
    line = 1;
    column = 0;
    isStmt = defaultIsStmt;
  };
  const advance = (opAdvance: number): void => {
    let delta: number;
    if (maxOps === 1) delta = minInst * opAdvance;
    else {
      const t = opIndex + opAdvance;
      delta = minInst * Math.floor(t / maxOps);
      opIndex = t % maxOps;
    }
    lo += delta;
    if (lo >= 4294967296 || lo < 0) {
      const carry = Math.floor(lo / 4294967296);
      hi = (hi + carry) >>> 0;
      lo -= carry * 4294967296;
    }
  };
  const emit = (endSeq: boolean): void => {
    if (n === cap) grow();
    aHi[n] = hi;
    aLo[n] = lo;
    fl[n] = file;
    ln[n] = line >>> 0;
    col[n] = column;
    flags[n] = (isStmt ? 1 : 0) | (endSeq ? 2 : 0);
    n++;
  };

  while (c.pos < end) {
    const op = c.u8('opcode');
    if (op >= opcodeBase) {
      const adj = op - opcodeBase;
      advance(Math.floor(adj / lineRange));
      line += lineBase + (adj % lineRange);
      emit(false);
    } else if (op === 0) {
      const len = c.uleb('extended opcode length');
      const next = c.pos + len;
      if (len === 0 || next > end) c.fail(`extended opcode of ${len} bytes runs past the program`);
      const sub = c.u8('extended opcode');
      if (sub === 1) {
        emit(true);
        // A sequence must be in address order; an empty one (start == end) carries nothing.
        if (n - seqStart > 1) seqs.push(seqStart, n - seqStart);
        else n = seqStart;
        seqStart = n;
        reset();
      } else if (sub === 2) {
        if (len - 1 === 8) {
          lo = c.u32('address');
          hi = c.u32('address');
        } else if (len - 1 === 4) {
          lo = c.u32('address');
          hi = 0;
        } else c.fail(`DW_LNE_set_address with a ${len - 1}-byte address (${addrSize} expected)`);
        opIndex = 0;
      } else if (sub === 3 && version < 5) {
        const name = c.cstr('file name');
        const di = c.uleb('directory index');
        let dir = dirs[di] ?? '';
        if (di !== 0 && !dir.startsWith('/')) dir = joinPath(compDir, dir);
        files.push({ name, dir, path: joinPath(dir, name) });
      }
      // set_discriminator and vendor opcodes: skipped by their length.
      c.pos = next;
    } else {
      switch (op) {
        case 1: // copy
          emit(false);
          break;
        case 2:
          advance(c.uleb('advance_pc'));
          break;
        case 3:
          line += c.sleb('advance_line');
          break;
        case 4:
          file = c.uleb('file');
          break;
        case 5:
          column = c.uleb('column');
          break;
        case 6:
          isStmt = !isStmt;
          break;
        case 8: // const_add_pc
          advance(Math.floor((255 - opcodeBase) / lineRange));
          break;
        case 9: // fixed_advance_pc
          lo += c.u16('fixed_advance_pc');
          if (lo >= 4294967296) {
            lo -= 4294967296;
            hi = (hi + 1) >>> 0;
          }
          opIndex = 0;
          break;
        case 7:
        case 10:
        case 11:
          break;
        default:
          for (let i = 0; i < stdLengths[op]!; i++) c.uleb('operand');
      }
    }
  }

  // Sort sequences by start address (rows inside a sequence are in order by construction;
  // a sequence that is not is kept but only bisected as is).
  const order: number[] = [];
  for (let i = 0; i < seqs.length; i += 2) order.push(i);
  order.sort((a, b) => aHi[seqs[a]!]! - aHi[seqs[b]!]! || aLo[seqs[a]!]! - aLo[seqs[b]!]!);
  const sequences = new Uint32Array(seqs.length);
  order.forEach((s, i) => {
    sequences[i * 2] = seqs[s]!;
    sequences[i * 2 + 1] = seqs[s + 1]!;
  });
  return new LineProgram(
    sectionOffset,
    version,
    files,
    aHi.slice(0, n),
    aLo.slice(0, n),
    fl.slice(0, n),
    ln.slice(0, n),
    col.slice(0, n),
    flags.slice(0, n),
    sequences,
  );
}

function readLineForm(
  c: Cursor,
  form: number,
  offSize: number,
  strAt: (section: string, off: number) => string,
): string | number | undefined {
  const off = (): number => (offSize === 8 ? c.u64n('offset') : c.u32('offset'));
  switch (form) {
    case 0x08:
      return c.cstr('string');
    case 0x1f:
      return strAt('.debug_line_str', off());
    case 0x0e:
      return strAt('.debug_str', off());
    case 0x0b:
      return c.u8();
    case 0x05:
      return c.u16();
    case 0x06:
      return c.u32();
    case 0x07:
      return c.u64n('data8');
    case 0x0f:
      return c.uleb();
    case 0x1e:
      c.skip(16, 'data16');
      return undefined;
    case 0x09:
      c.skip(c.uleb('block length'), 'block');
      return undefined;
    default:
      return c.fail(`form 0x${form.toString(16)} in a line table header is not supported`);
  }
}
