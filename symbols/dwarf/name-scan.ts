/**
 * The scan behind the name index (name-index.ts): one pass over .debug_info's unit-level DIEs that builds no
 * object and no string per DIE. Each abbreviation is compiled once into a row of numbers (what its DIE is to
 * the index, where its name, sibling, specification and declaration sit when every attribute before them has a
 * fixed size, and its whole size when it has one); identical declarations of the thousands of per-unit tables
 * share a row. Names stay offsets into .debug_str (or .debug_line_str) and a byte per string offset says which
 * kinds of name it already gave, so a name seen in an earlier unit costs one array read. The result is a list
 * of records in typed arrays (cheap to post from a worker); the maps of names are made from it once
 * (`mergeScans`). The units' bytes are read a run of a few MiB at a time into one reused buffer, not kept.
 */
import { BadDataError } from '../../core/errors.js';
import { DW_AT, DW_FORM, DW_TAG, fixedFormSize } from './forms.js';
import type { DwarfReader, Unit } from './reader.js';

const AT_location = 0x02;
const AT_specification = 0x47;
const MAX_DEPTH = 4096;
/** Bytes of units read at a time (a unit larger than this gets a buffer of its own size). */
const RUN_BYTES = 4 << 20;

/** Kinds of record. */
export const K = {
  struct: 0,
  union: 1,
  enum: 2,
  /** typedefs and base types (no prefix). */
  type: 3,
  variable: 4,
  function: 5,
  enumerator: 6,
} as const;
/** Where a record's name is: .debug_str offset, .debug_line_str offset, index into `inline`, or (specs only) not resolved. */
export const SRC = { str: 0, lineStr: 1, inline: 2, unresolved: 3 } as const;

/** A compile unit the index skipped: where it starts in .debug_info and what was wrong. */
export interface DamagedUnit {
  unit: number;
  message: string;
}

export interface ScanResult {
  /** [kind | src << 3, name, DIE, extra] per name, in unit order (extra: located for variables, the enum's DIE for enumerators). */
  recs: Float64Array;
  /** [src, name, DIE, located, specification DIE] per variable named through its DW_AT_specification, in order. */
  specs: Float64Array;
  /** Names stored in the DIEs themselves (DW_FORM_string). */
  inline: string[];
  damaged: DamagedUnit[];
}

// The compiled abbreviation rows (stride ROW).
const ROW = 16;
const R_CLS = 0; // CLS_*
const R_CHILDREN = 1;
const R_FIXED = 2; // whole size of the attributes, or -1
const R_NAME_FORM = 3; // 0: none
const R_NAME_OFF = 4; // offset from the attributes' start, -1 when after a variable-size one
const R_SIB_FORM = 5;
const R_SIB_OFF = 6;
const R_SPEC_FORM = 7;
const R_SPEC_OFF = 8;
const R_DECL = 9; // 0 none, 1 flag_present, 2 flag byte (at R_DECL_OFF)
const R_DECL_OFF = 10;
const R_LOCATION = 11;
const R_GEN = 12; // start of its attributes in the generic table (3 numbers each: form, size, role)
const R_COUNT = 13;
const R_KNOWN = 14; // 1 when every attribute the index reads is at a fixed offset (R_*_OFF >= 0)
/**
 * 1 for a unit-level DIE the scan's fast path takes: a type, function or variable whose name (if any) is a
 * 4-byte DW_FORM_strp and whose sibling (if any) a DW_FORM_ref4 at fixed offsets, no specification and no
 * declaration flag byte, and a fixed size unless it has children and a sibling.
 */
const R_FAST = 15;
// R_FAST's bits: the record kind (K) in the low 3.
const F_FAST = 0x100;
const F_CHILDREN = 0x10;
const F_SIBLING = 0x20;
const F_RECORD = 0x40;
const F_LOCATED = 0x80;

const CLS_OTHER = 0;
const CLS_STRUCT = 1;
const CLS_UNION = 2;
const CLS_ENUM = 3;
const CLS_TYPE = 4;
const CLS_VARIABLE = 5;
const CLS_SUBPROGRAM = 6;
const CLS_ENUMERATOR = 7;
const CLS_UNIT = 8;

const ROLE_SKIP = 0;
const ROLE_NAME = 1;
const ROLE_SIB = 2;
const ROLE_SPEC = 3;
const ROLE_DECL = 4;
const ROLE_STRBASE = 5;

function classOf(tag: number): number {
  switch (tag) {
    case DW_TAG.structure_type:
      return CLS_STRUCT;
    case DW_TAG.union_type:
      return CLS_UNION;
    case DW_TAG.enumeration_type:
      return CLS_ENUM;
    case DW_TAG.typedef:
    case DW_TAG.base_type:
      return CLS_TYPE;
    case DW_TAG.variable:
      return CLS_VARIABLE;
    case DW_TAG.subprogram:
      return CLS_SUBPROGRAM;
    case DW_TAG.enumerator:
      return CLS_ENUMERATOR;
    case DW_TAG.compile_unit:
    case DW_TAG.partial_unit:
    case DW_TAG.type_unit:
      return CLS_UNIT;
    default:
      return CLS_OTHER;
  }
}

const isNameForm = (f: number): boolean =>
  f === DW_FORM.strp ||
  f === DW_FORM.line_strp ||
  f === DW_FORM.string ||
  f === DW_FORM.strx ||
  f === DW_FORM.strx1 ||
  f === DW_FORM.strx2 ||
  f === DW_FORM.strx3 ||
  f === DW_FORM.strx4 ||
  f === DW_FORM.GNU_str_index;
const isRefForm = (f: number): boolean =>
  f === DW_FORM.ref1 ||
  f === DW_FORM.ref2 ||
  f === DW_FORM.ref4 ||
  f === DW_FORM.ref8 ||
  f === DW_FORM.ref_udata ||
  f === DW_FORM.ref_addr;

/** A growable list of numbers in a Float64Array. */
class Nums {
  a = new Float64Array(1 << 14);
  n = 0;
  push4(x: number, y: number, z: number, w: number): void {
    if (this.n + 4 > this.a.length) this.grow();
    const a = this.a;
    const n = this.n;
    a[n] = x;
    a[n + 1] = y;
    a[n + 2] = z;
    a[n + 3] = w;
    this.n = n + 4;
  }
  push5(x: number, y: number, z: number, w: number, v: number): void {
    if (this.n + 5 > this.a.length) this.grow();
    const a = this.a;
    const n = this.n;
    a[n] = x;
    a[n + 1] = y;
    a[n + 2] = z;
    a[n + 3] = w;
    a[n + 4] = v;
    this.n = n + 5;
  }
  private grow(): void {
    const b = new Float64Array(this.a.length * 2);
    b.set(this.a);
    this.a = b;
  }
  done(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/**
 * The abbreviation tables compiled to rows: `tableOf(unit)` gives code → row start (or -1), decoded from
 * .debug_abbrev the first time a table is used.
 */
export class Plans {
  rows = new Int32Array(ROW * 256);
  nRows = 0;
  gen = new Int32Array(3 * 1024);
  nGen = 0;
  /** Per row: where its declaration's bytes are in .debug_abbrev (to tell hash collisions apart), and its shape. */
  private declAt: number[] = [];
  private declLen: number[] = [];
  private declShape: number[] = [];
  private readonly tables = new Map<string, Int32Array>();

  constructor(
    private readonly a: Uint8Array,
    private readonly path: string,
  ) {}

  private fail(msg: string, off: number): never {
    throw new BadDataError(`.debug_abbrev: ${msg}`, this.path, off);
  }

  tableOf(u: Unit): Int32Array {
    const shape = u.offsetSize | (u.addrSize << 4) | (u.version << 8);
    const key = `${u.abbrevOffset}:${shape}`;
    const hit = this.tables.get(key);
    if (hit) return hit;
    const t = this.decode(u, shape);
    this.tables.set(key, t);
    return t;
  }

  private decode(u: Unit, shape: number): Int32Array {
    const a = this.a;
    let p = u.abbrevOffset;
    const leb = (): number => {
      let v = 0;
      let shift = 0;
      for (;;) {
        if (p >= a.length) return this.fail('abbreviation table truncated', p);
        const b = a[p++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
        shift += 7;
        if (shift > 70) return this.fail('LEB128 too long', p);
      }
    };
    let codes = new Int32Array(64).fill(-1);
    for (let count = 0; ; count++) {
      if (count > 1_000_000) this.fail('abbreviation table does not end', u.abbrevOffset);
      let code = a[p]!;
      if (code < 0x80) p++;
      else code = leb();
      if (code === 0) break;
      const declStart = p;
      if (code > 1_000_000) this.fail(`abbreviation code ${code} too large`, declStart);
      // Find the declaration's end (most numbers are one byte), hashing its bytes (FNV-1a, with the shape).
      let h = 0x811c9dc5 ^ shape;
      let q = p;
      if (a[p]! < 0x80) p++;
      else leb();
      p++; // children
      for (let n = 0; ; n++) {
        let at = a[p]!;
        if (at < 0x80) p++;
        else at = leb();
        let form = a[p]!;
        if (form < 0x80) p++;
        else form = leb();
        for (; q < p; q++) h = Math.imul(h ^ a[q]!, 0x01000193);
        if (at === 0 && form === 0) break;
        if (form === DW_FORM.implicit_const) {
          while (p < a.length && a[p]! >= 0x80) p++;
          p++;
        }
        if (n > 1000) this.fail('abbreviation with too many attributes', p);
      }
      if (p > a.length) this.fail('abbreviation table truncated', a.length);
      for (; q < p; q++) h = Math.imul(h ^ a[q]!, 0x01000193);
      const row = this.rowFor(declStart, p, shape, u, h);
      if (code >= codes.length) {
        const c = new Int32Array(Math.max(code + 1, codes.length * 2)).fill(-1);
        c.set(codes);
        codes = c;
      }
      codes[code] = row;
    }
    return codes;
  }

  // Open addressing: row + 1 per slot (0 empty), keyed by a hash of the declaration's bytes and the shape.
  private slots = new Int32Array(1 << 12);
  private used = 0;

  /** The row of the declaration in .debug_abbrev [from, to) for a unit of `shape`, compiled when new. */
  private rowFor(from: number, to: number, shape: number, u: Unit, h: number): number {
    const a = this.a;
    const len = to - from;
    for (;;) {
      const mask = this.slots.length - 1;
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const v = this.slots[s]!;
        if (v === 0) break;
        const i = (v - 1) / ROW;
        if (this.declShape[i] !== shape || this.declLen[i] !== len) continue;
        const at = this.declAt[i]!;
        let j = 0;
        while (j < len && a[at + j] === a[from + j]) j++;
        if (j === len) return v - 1;
      }
      if (this.used * 2 < this.slots.length) break;
      // Grow and rehash.
      const old = this.slots;
      this.slots = new Int32Array(old.length * 2);
      const m = this.slots.length - 1;
      for (const v of old) {
        if (v === 0) continue;
        const i = (v - 1) / ROW;
        let g = 0x811c9dc5 ^ this.declShape[i]!;
        for (let k = this.declAt[i]!, e = k + this.declLen[i]!; k < e; k++) g = Math.imul(g ^ a[k]!, 0x01000193);
        let s = g & m;
        while (this.slots[s] !== 0) s = (s + 1) & m;
        this.slots[s] = v;
      }
    }
    const row = this.parse(from, shape, u);
    this.declAt.push(from);
    this.declLen.push(len);
    this.declShape.push(shape);
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = row + 1;
    this.used++;
    return row;
  }

  /** Parse the declaration at `from` (its tag) and compile its row. */
  private parse(from: number, _shape: number, u: Unit): number {
    const a = this.a;
    let p = from;
    const leb = (): number => {
      let v = 0;
      let shift = 0;
      for (;;) {
        if (p >= a.length) return this.fail('abbreviation table truncated', p);
        const b = a[p++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) return v;
        shift += 7;
        if (shift > 70) return this.fail('LEB128 too long', p);
      }
    };
    const tag = leb();
    const children = a[p++] === 1;
    const names: number[] = [];
    const forms: number[] = [];
    for (;;) {
      const at = leb();
      const form = leb();
      if (at === 0 && form === 0) break;
      if (form === DW_FORM.implicit_const) leb();
      names.push(at);
      forms.push(form);
    }
    return this.compile(tag, children, names, forms, u);
  }

  private compile(tag: number, children: boolean, names: number[], forms: number[], u: Unit): number {
    if (this.nRows * ROW + ROW > this.rows.length) {
      const r = new Int32Array(this.rows.length * 2);
      r.set(this.rows);
      this.rows = r;
    }
    const n = names.length;
    while (this.nGen * 3 + n * 3 > this.gen.length) {
      const g = new Int32Array(this.gen.length * 2);
      g.set(this.gen);
      this.gen = g;
    }
    const base = this.nRows * ROW;
    const R = this.rows;
    R.fill(0, base, base + ROW);
    R[base + R_CLS] = classOf(tag);
    R[base + R_CHILDREN] = children ? 1 : 0;
    R[base + R_NAME_OFF] = -1;
    R[base + R_SIB_OFF] = -1;
    R[base + R_SPEC_OFF] = -1;
    R[base + R_DECL_OFF] = -1;
    R[base + R_GEN] = this.nGen * 3;
    R[base + R_COUNT] = n;
    let off = 0; // -1 once past a variable-size attribute
    for (let i = 0; i < n; i++) {
      const at = names[i]!;
      const form = forms[i]!;
      const size = fixedFormSize(form, u.offsetSize, u.addrSize, u.version);
      let role = ROLE_SKIP;
      if (at === DW_AT.name && isNameForm(form)) {
        role = ROLE_NAME;
        R[base + R_NAME_FORM] = form;
        R[base + R_NAME_OFF] = off;
      } else if (at === DW_AT.sibling && isRefForm(form)) {
        role = ROLE_SIB;
        R[base + R_SIB_FORM] = form;
        R[base + R_SIB_OFF] = off;
      } else if (at === AT_specification && isRefForm(form)) {
        role = ROLE_SPEC;
        R[base + R_SPEC_FORM] = form;
        R[base + R_SPEC_OFF] = off;
      } else if (at === DW_AT.declaration) {
        if (form === DW_FORM.flag_present) R[base + R_DECL] = 1;
        else if (form === DW_FORM.flag) {
          role = ROLE_DECL;
          R[base + R_DECL] = 2;
          R[base + R_DECL_OFF] = off;
        } else R[base + R_DECL] = 0;
      } else if (at === AT_location) R[base + R_LOCATION] = 1;
      else if (at === DW_AT.str_offsets_base && form === DW_FORM.sec_offset) role = ROLE_STRBASE;
      const g = this.nGen * 3;
      this.gen[g] = form;
      this.gen[g + 1] = size;
      this.gen[g + 2] = role;
      this.nGen++;
      off = off >= 0 && size >= 0 ? off + size : -1;
    }
    R[base + R_FIXED] = off;
    R[base + R_KNOWN] =
      (R[base + R_NAME_FORM] === 0 || R[base + R_NAME_OFF]! >= 0) &&
      (R[base + R_SIB_FORM] === 0 || R[base + R_SIB_OFF]! >= 0) &&
      (R[base + R_SPEC_FORM] === 0 || R[base + R_SPEC_OFF]! >= 0) &&
      (R[base + R_DECL] !== 2 || R[base + R_DECL_OFF]! >= 0)
        ? 1
        : 0;
    const cls = R[base + R_CLS]!;
    const fast =
      (cls === CLS_STRUCT || cls === CLS_UNION || cls === CLS_TYPE || cls === CLS_SUBPROGRAM || cls === CLS_VARIABLE) &&
      R[base + R_KNOWN] === 1 &&
      (R[base + R_NAME_FORM] === 0 || (R[base + R_NAME_FORM] === DW_FORM.strp && u.offsetSize === 4)) &&
      (R[base + R_SIB_FORM] === 0 || R[base + R_SIB_FORM] === DW_FORM.ref4) &&
      R[base + R_SPEC_FORM] === 0 &&
      R[base + R_DECL] !== 2 &&
      (off >= 0 || (children && R[base + R_SIB_FORM] !== 0));
    const kind = cls === CLS_SUBPROGRAM ? K.function : cls === CLS_VARIABLE ? K.variable : cls - 1;
    // A name to record: a variable's, or a type's or function's that is not a declaration.
    const record = R[base + R_NAME_FORM] !== 0 && (cls === CLS_VARIABLE || R[base + R_DECL] === 0);
    R[base + R_FAST] = fast
      ? F_FAST |
        kind |
        (children ? F_CHILDREN : 0) |
        (R[base + R_SIB_FORM] !== 0 ? F_SIBLING : 0) |
        (record ? F_RECORD : 0) |
        (R[base + R_LOCATION] ? F_LOCATED : 0)
      : 0;
    this.nRows++;
    return base;
  }
}

/**
 * Scan units for their unit-level names: every unit of the reader (read a run at a time, or from its bytes
 * when it holds the whole section), or only `units` (read into the reader).
 */
export function scanNames(
  r: DwarfReader,
  opts: {
    /** Only these units, read into the reader (kept there for its later reads). */
    units?: Unit[];
    /** Only these units (consecutive ones of the reader's), read a run at a time like all of them. */
    share?: Unit[];
  } = {},
): ScanResult {
  const path = r.elf.path;
  const plans = new Plans(r.abbrevSection, path);
  const recs = new Nums();
  const specs = new Nums();
  const inline: string[] = [];
  const damaged: DamagedUnit[] = [];
  // Per string offset: the kinds (bit per K) it already named; bit 7: a located variable.
  const strSeen = new Uint8Array(r.sectionSize('.debug_str') + 1);
  const lineSeen = new Uint8Array(r.sectionSize('.debug_line_str') + 1);
  const VAR_LOCATED = 0x80;

  // The bytes being scanned: buf[0] is reader offset `base`.
  let buf: Uint8Array = r.info;
  let base = 0;
  let dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  // The current unit.
  let uOff = 0;
  let uEnd = 0; // in buf
  let offSize = 4;
  let strBase = 8;
  let unitVersion = 5;
  let unitAddrSize = 8;
  let uStart = 0; // first DIE, in buf
  let table: Int32Array = new Int32Array(0);
  // The compiled rows (replaced when a new table grows them).
  let rows = plans.rows;
  let gen = plans.gen;
  const strSize = strSeen.length - 1;
  const lineStrSize = lineSeen.length - 1;

  const fail = (msg: string, at: number): never => {
    throw new BadDataError(`.debug_info: ${msg}`, path, base + at);
  };

  const uleb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= uEnd) fail('LEB128 runs past its unit', pos);
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) fail('LEB128 too long', pos);
    }
  };
  const ulebAt = (p: number): number => {
    const save = pos;
    pos = p;
    const v = uleb();
    pos = save;
    return v;
  };
  const u32 = (p: number): number => (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  const offsetAt = (p: number): number => {
    if (p + offSize > uEnd) fail('attribute runs past its unit', p);
    return offSize === 8 ? Number(dv.getBigUint64(p, true)) : u32(p);
  };

  /** A reference's target (reader offset) from its form at p, or -1. */
  const refAt = (form: number, p: number): number => {
    switch (form) {
      case DW_FORM.ref4:
        return uOff + u32(p);
      case DW_FORM.ref1:
        return uOff + buf[p]!;
      case DW_FORM.ref2:
        return uOff + (buf[p]! | (buf[p + 1]! << 8));
      case DW_FORM.ref8:
        if (p + 8 > uEnd) fail('attribute runs past its unit', p);
        return uOff + Number(dv.getBigUint64(p, true));
      case DW_FORM.ref_udata:
        return uOff + ulebAt(p);
      case DW_FORM.ref_addr:
        return offsetAt(p);
      default:
        return -1;
    }
  };

  let strOffsetsDv: DataView | undefined;
  const strx = (i: number, at: number): number => {
    const so = r.strOffsets;
    strOffsetsDv ??= new DataView(so.buffer, so.byteOffset, so.byteLength);
    const p = strBase + i * offSize;
    if (p + offSize > so.length) fail(`string index ${i} outside .debug_str_offsets`, at);
    return offSize === 8 ? Number(strOffsetsDv.getBigUint64(p, true)) : strOffsetsDv.getUint32(p, true);
  };

  // The name of the DIE just decoded: its source (SRC) and offset (or inline index); nameSrc -1: none.
  let nameSrc = -1;
  let nameRef = 0;
  const nameAt = (form: number, p: number): void => {
    switch (form) {
      case DW_FORM.strp:
        nameSrc = SRC.str;
        nameRef = offsetAt(p);
        return;
      case DW_FORM.line_strp:
        nameSrc = SRC.lineStr;
        nameRef = offsetAt(p);
        return;
      case DW_FORM.string: {
        let e = p;
        while (e < uEnd && buf[e] !== 0) e++;
        if (e >= uEnd) fail('unterminated string', p);
        nameSrc = SRC.inline;
        nameRef = inline.length;
        inline.push(Buffer.from(buf.buffer, buf.byteOffset + p, e - p).toString('latin1'));
        return;
      }
      case DW_FORM.strx1:
        nameSrc = SRC.str;
        nameRef = strx(buf[p]!, p);
        return;
      case DW_FORM.strx2:
        nameSrc = SRC.str;
        nameRef = strx(buf[p]! | (buf[p + 1]! << 8), p);
        return;
      case DW_FORM.strx3:
        nameSrc = SRC.str;
        nameRef = strx(buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16), p);
        return;
      case DW_FORM.strx4:
        nameSrc = SRC.str;
        nameRef = strx(u32(p), p);
        return;
      default:
        // strx, GNU_str_index
        nameSrc = SRC.str;
        nameRef = strx(ulebAt(p), p);
    }
  };

  /** Skip a variable-size form's value at pos. */
  const skipForm = (form: number): void => {
    switch (form) {
      case DW_FORM.udata:
      case DW_FORM.sdata:
      case DW_FORM.ref_udata:
      case DW_FORM.strx:
      case DW_FORM.addrx:
      case DW_FORM.loclistx:
      case DW_FORM.rnglistx:
      case DW_FORM.GNU_addr_index:
      case DW_FORM.GNU_str_index:
        while (pos < uEnd && buf[pos++]! >= 0x80);
        return;
      case DW_FORM.string:
        while (pos < uEnd && buf[pos] !== 0) pos++;
        pos++;
        return;
      case DW_FORM.exprloc:
      case DW_FORM.block: {
        const n = uleb();
        pos += n;
        return;
      }
      case DW_FORM.block1:
        pos += 1 + buf[pos]!;
        return;
      case DW_FORM.block2:
        pos += 2 + (buf[pos]! | (buf[pos + 1]! << 8));
        return;
      case DW_FORM.block4:
        pos += 4 + u32(pos);
        return;
      case DW_FORM.indirect: {
        const f = uleb();
        if (f === DW_FORM.indirect) fail('DW_FORM_indirect pointing to itself', pos);
        const s = fixedFormSize(f, offSize, unitAddrSize, unitVersion);
        if (s >= 0) pos += s;
        else skipForm(f);
        return;
      }
      default:
        fail(`unknown attribute form 0x${form.toString(16)}`, pos);
    }
  };

  // Positions of the DIE's attributes found by `walk` (-1: none).
  let gName = -1;
  let gSib = -1;
  let gSpec = -1;
  let gDecl = -1;
  let gStrBase = -1;
  /** Walk a DIE's attributes one by one from pos (the row has a variable-size one), leaving pos after them. */
  const walk = (row: number): void => {
    const g = gen;
    gName = gSib = gSpec = gDecl = gStrBase = -1;
    let i = rows[row + R_GEN]!;
    const end = i + rows[row + R_COUNT]! * 3;
    for (; i < end; i += 3) {
      const role = g[i + 2]!;
      if (role !== ROLE_SKIP) {
        if (role === ROLE_NAME) gName = pos;
        else if (role === ROLE_SIB) gSib = pos;
        else if (role === ROLE_SPEC) gSpec = pos;
        else if (role === ROLE_DECL) gDecl = pos;
        else gStrBase = pos;
      }
      const size = g[i + 1]!;
      if (size >= 0) pos += size;
      else skipForm(g[i]!);
      if (pos > uEnd) fail('DIE runs past its unit', pos);
    }
  };

  // What `decode` found for the DIE at hand.
  let declaration = false;
  let spec = -1;
  let sibling = -1;
  /** Whether `decode` left pos after the attributes (else at their start: the DIE is left by its sibling). */
  let attrsDone = true;
  /**
   * Decode what the index needs of a DIE whose attributes start at pos (its row `row`): the name (when
   * `wantName`), declaration, specification, sibling. pos is left after the attributes, except for a DIE with
   * children whose sibling can be read without walking its attributes unless `needEnd` (attrsDone false).
   */
  const decode = (row: number, wantName: boolean, needEnd: boolean): void => {
    const start = pos;
    const fixed = rows[row + R_FIXED]!;
    nameSrc = -1;
    declaration = rows[row + R_DECL] === 1;
    spec = -1;
    sibling = -1;
    attrsDone = true;
    let namePos = -1;
    let sibPos = -1;
    let specPos = -1;
    let declPos = -1;
    if (fixed >= 0 || (rows[row + R_KNOWN] === 1 && !needEnd && rows[row + R_CHILDREN] === 1)) {
      if (fixed >= 0) {
        pos = start + fixed;
        if (pos > uEnd) fail('DIE runs past its unit', start);
      } else attrsDone = false;
      if (rows[row + R_NAME_FORM] !== 0) namePos = start + rows[row + R_NAME_OFF]!;
      if (rows[row + R_SIB_FORM] !== 0) sibPos = start + rows[row + R_SIB_OFF]!;
      if (rows[row + R_SPEC_FORM] !== 0) specPos = start + rows[row + R_SPEC_OFF]!;
      if (rows[row + R_DECL] === 2) declPos = start + rows[row + R_DECL_OFF]!;
    } else {
      walk(row);
      namePos = gName;
      sibPos = gSib;
      specPos = gSpec;
      declPos = gDecl;
    }
    if (wantName && namePos >= 0) nameAt(rows[row + R_NAME_FORM]!, namePos);
    if (sibPos >= 0) sibling = refAt(rows[row + R_SIB_FORM]!, sibPos);
    if (specPos >= 0) spec = refAt(rows[row + R_SPEC_FORM]!, specPos);
    if (declPos >= 0) declaration = buf[declPos] !== 0;
    if (!attrsDone) pos = start;
  };

  /** Move pos past the attributes of a DIE of row `row` that starts at pos (nothing else decoded). */
  const skipAttrs = (row: number): void => {
    const fixed = rows[row + R_FIXED]!;
    if (fixed >= 0) {
      pos += fixed;
      if (pos > uEnd) fail('DIE runs past its unit', pos);
    } else walk(row);
  };

  /** The sibling of the DIE whose attributes start at `start`, or -1 (position in buf). */
  const siblingOf = (row: number, start: number): number => {
    const form = rows[row + R_SIB_FORM]!;
    if (form === 0) return -1;
    const off = rows[row + R_SIB_OFF]!;
    if (off >= 0) return refAt(form, start + off) - base;
    const save = pos;
    pos = start;
    walk(row);
    pos = save;
    return refAt(form, gSib) - base;
  };

  const rowOf = (code: number, at: number): number => {
    const row = code < table.length ? table[code]! : -1;
    if (row < 0) fail(`abbreviation code ${code} not in the unit's table`, at);
    return row;
  };

  /** Skip the children of the DIE whose attributes end at pos. */
  const skipChildren = (): void => {
    let depth = 1;
    while (depth > 0) {
      if (pos >= uEnd) fail('DIE tree runs past its unit', pos);
      const at = pos;
      let code = buf[pos]!;
      if (code < 0x80) pos++;
      else code = uleb();
      if (code === 0) {
        depth--;
        continue;
      }
      const row = rowOf(code, at);
      if (rows[row + R_CHILDREN]) {
        const sib = siblingOf(row, pos);
        if (sib > at && sib <= uEnd) {
          pos = sib;
          continue;
        }
        skipAttrs(row);
        if (++depth > MAX_DEPTH) fail('DIE tree nested too deeply', at);
      } else skipAttrs(row);
    }
  };

  /** The seen-bytes of the name's section, after checking the name's offset is inside it. */
  const checkedStr = (): Uint8Array => {
    if (nameRef >= strSize) fail(`string offset 0x${nameRef.toString(16)} outside .debug_str`, pos);
    return strSeen;
  };
  const checkedLineStr = (): Uint8Array => {
    if (nameRef >= lineStrSize) fail(`string offset 0x${nameRef.toString(16)} outside .debug_line_str`, pos);
    return lineSeen;
  };

  /** Record a name of kind `k` (not a variable) if its string did not give one of that kind before. */
  const named = (k: number, die: number, extra: number): void => {
    if (nameSrc === SRC.inline) {
      recs.push4(k | (SRC.inline << 3), nameRef, die, extra);
      return;
    }
    const seen = nameSrc === SRC.str ? checkedStr() : checkedLineStr();
    const bit = 1 << k;
    if (seen[nameRef]! & bit) return;
    seen[nameRef] = seen[nameRef]! | bit;
    recs.push4(k | (nameSrc << 3), nameRef, die, extra);
  };

  /** The name of the DIE at `target` (in this unit), as nameSrc/nameRef; false when it cannot be told here. */
  const nameOfTarget = (target: number): boolean => {
    const t = target - base;
    if (t < uStart || t >= uEnd) return false;
    const save = pos;
    try {
      pos = t;
      const code = uleb();
      if (code === 0) return false;
      const row = code < table.length ? table[code]! : -1;
      if (row < 0) return false;
      decode(row, true, false);
      return nameSrc >= 0;
    } catch (e) {
      if (!(e instanceof BadDataError)) throw e;
      return false;
    } finally {
      pos = save;
    }
  };

  const scanUnit = (u: Unit): void => {
    uOff = u.offset;
    uEnd = u.end - base;
    offSize = u.offsetSize;
    unitVersion = u.version;
    unitAddrSize = u.addrSize;
    strBase = 8;
    table = plans.tableOf(u);
    rows = plans.rows;
    gen = plans.gen;
    pos = u.dieOffset - base;
    uStart = pos;
    if (pos >= uEnd) return;
    const cuAt = pos;
    const cuCode = uleb();
    if (cuCode === 0) return;
    const cu = rowOf(cuCode, cuAt);
    walk(cu);
    if (gStrBase >= 0) strBase = offsetAt(gStrBase);
    if (!rows[cu + R_CHILDREN]) return;
    let pendingFrom = specs.n;
    // The loop keeps what it reads most in locals (pos is written back before any helper runs).
    const b = buf;
    const rw = rows;
    const tb = table;
    const seen = strSeen;
    const end = uEnd;
    const endAbs = u.end;
    while (pos < end) {
      let p = pos;
      const at = p;
      let code = b[p]!;
      if (code < 0x80) p++;
      else {
        code = uleb(); // pos is p here
        p = pos;
      }
      if (code === 0) {
        pos = p;
        break;
      }
      const row = code < tb.length ? tb[code]! : -1;
      if (row < 0) fail(`abbreviation code ${code} not in the unit's table`, at);
      const fast = rw[row + R_FAST]!;
      if (fast !== 0) {
        // The common DIE, decoded here: a 4-byte name offset and sibling at fixed places.
        const fixed = rw[row + R_FIXED]!;
        if (fixed >= 0 && p + fixed > end) fail('DIE runs past its unit', p);
        if (fast & F_RECORD) {
          const np = p + rw[row + R_NAME_OFF]!;
          if (np + 4 > end) fail('attribute runs past its unit', np);
          const ref = (b[np]! | (b[np + 1]! << 8) | (b[np + 2]! << 16) | (b[np + 3]! << 24)) >>> 0;
          if (ref >= strSize) fail(`string offset 0x${ref.toString(16)} outside .debug_str`, np);
          const f = seen[ref]!;
          const k = fast & 7;
          if (k === K.variable) {
            const located = fast & F_LOCATED;
            if (!(f & VAR_LOCATED) && (!(f & (1 << K.variable)) || located)) {
              seen[ref] = f | (1 << K.variable) | (located ? VAR_LOCATED : 0);
              recs.push4(K.variable, ref, base + at, located ? 1 : 0);
            }
          } else if (!(f & (1 << k))) {
            seen[ref] = f | (1 << k);
            recs.push4(k, ref, base + at, 0);
          }
        }
        if (!(fast & F_CHILDREN)) {
          pos = p + fixed;
          continue;
        }
        if (fast & F_SIBLING) {
          const sp = p + rw[row + R_SIB_OFF]!;
          if (sp + 4 <= end) {
            const sib = uOff + ((b[sp]! | (b[sp + 1]! << 8) | (b[sp + 2]! << 16) | (b[sp + 3]! << 24)) >>> 0);
            if (sib > base + at && sib <= endAbs) {
              pos = sib - base;
              continue;
            }
          }
        }
        pos = p;
        skipAttrs(row);
        skipChildren();
        continue;
      }
      pos = p;
      const cls = rw[row + R_CLS]!;
      const children = rw[row + R_CHILDREN] === 1;
      if (cls === CLS_OTHER || cls === CLS_UNIT || cls === CLS_ENUMERATOR) {
        if (children) {
          const sib = siblingOf(row, pos);
          if (sib > at && sib <= uEnd) pos = sib;
          else {
            skipAttrs(row);
            skipChildren();
          }
        } else skipAttrs(row);
        continue;
      }
      decode(row, true, cls === CLS_ENUM);
      const die = base + at;
      if (cls <= CLS_TYPE) {
        if (nameSrc >= 0 && !declaration) named(cls - 1, die, 0);
      } else if (cls === CLS_VARIABLE) {
        const located = rows[row + R_LOCATION]!;
        if (nameSrc >= 0) {
          if (nameSrc === SRC.inline) recs.push4(K.variable | (SRC.inline << 3), nameRef, die, located);
          else {
            const seen = nameSrc === SRC.str ? checkedStr() : checkedLineStr();
            const f = seen[nameRef]!;
            // A name already located, or already seen and this one not located, changes nothing.
            if (!(f & VAR_LOCATED) && (!(f & (1 << K.variable)) || located)) {
              seen[nameRef] = f | (1 << K.variable) | (located ? VAR_LOCATED : 0);
              recs.push4(K.variable | (nameSrc << 3), nameRef, die, located);
            }
          }
        } else if (spec >= 0) specs.push5(SRC.unresolved, 0, die, located, spec);
      } else if (nameSrc >= 0 && !declaration) named(K.function, die, 0);
      if (!children) continue;
      if (cls === CLS_ENUM) {
        // Enumerators, of named and anonymous enums alike.
        while (pos < uEnd) {
          const cAt = pos;
          let c = buf[pos]!;
          if (c < 0x80) pos++;
          else c = uleb();
          if (c === 0) break;
          const crow = rowOf(c, cAt);
          const isEnumerator = rows[crow + R_CLS] === CLS_ENUMERATOR;
          decode(crow, isEnumerator, true);
          if (isEnumerator && nameSrc >= 0) named(K.enumerator, base + cAt, die);
          if (rows[crow + R_CHILDREN]) skipChildren();
        }
        continue;
      }
      if (sibling > die && sibling <= u.end) pos = sibling - base;
      else {
        if (!attrsDone) skipAttrs(row);
        skipChildren();
      }
    }
    // Specifications to a declaration in this unit: named now, while its bytes are here.
    const sa = specs.a;
    for (; pendingFrom < specs.n; pendingFrom += 5) {
      if (nameOfTarget(sa[pendingFrom + 4]!)) {
        sa[pendingFrom] = nameSrc;
        sa[pendingFrom + 1] = nameRef;
      }
    }
  };

  const scan = (u: Unit): void => {
    try {
      scanUnit(u);
    } catch (e) {
      // One damaged unit (a corrupt byte in its DIEs or its abbreviations) is skipped and named; the index is
      // built from the others. The names it gave before the damage stay.
      if (!(e instanceof BadDataError)) throw e;
      damaged.push({ unit: u.offset, message: e.message });
    }
  };

  const setBuf = (b: Uint8Array, at: number): void => {
    buf = b;
    base = at;
    dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  };

  if (opts.units) {
    setBuf(r.info, 0);
    for (const u of opts.units) {
      r.ensureUnit(u);
      scan(u);
    }
  } else if (r.wholeSection) {
    setBuf(r.info, 0);
    for (const u of opts.share ?? r.units) scan(u);
  } else {
    // A run of consecutive units at a time into one buffer.
    const units = opts.share ?? r.units;
    let run = new Uint8Array(RUN_BYTES);
    for (let i = 0; i < units.length; ) {
      const first = units[i]!.offset;
      const limit = r.sectionEnd(first);
      let j = i + 1;
      while (
        j < units.length &&
        units[j]!.offset === units[j - 1]!.end &&
        units[j]!.end - first <= RUN_BYTES &&
        units[j]!.end <= limit
      )
        j++;
      const end = units[j - 1]!.end;
      if (end - first > run.length) run = new Uint8Array(end - first);
      if (!r.readUnitBytes(first, end, run)) {
        // Not stored plainly (compressed): the reader holds the section decompressed.
        r.ensureAllUnits();
        setBuf(r.info, 0);
        for (; i < units.length; i++) {
          r.ensureUnit(units[i]!);
          scan(units[i]!);
        }
        break;
      }
      setBuf(run.subarray(0, end - first), first);
      for (; i < j; i++) scan(units[i]!);
    }
  }
  return { recs: recs.done(), specs: specs.done(), inline, damaged };
}
