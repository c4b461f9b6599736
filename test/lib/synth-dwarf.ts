/**
 * A small DWARF 4/5 writer for tests: abbreviation tables, DIE trees with
 * labelled references, .debug_str / .debug_str_offsets strings, wrapped in an
 * ELF by synth-elf.ts. Returns the bytes and where each DIE landed.
 */
import { buildElf, type SynthElf } from './synth-elf.js';

export const TAG = {
  compile_unit: 0x11,
  base_type: 0x24,
  structure_type: 0x13,
  union_type: 0x17,
  member: 0x0d,
  typedef: 0x16,
  pointer_type: 0x0f,
  array_type: 0x01,
  subrange_type: 0x21,
  enumeration_type: 0x04,
  enumerator: 0x28,
  variable: 0x34,
  subprogram: 0x2e,
  formal_parameter: 0x05,
  const_type: 0x26,
  imported_unit: 0x3d,
} as const;

export const AT = {
  sibling: 0x01,
  location: 0x02,
  name: 0x03,
  byte_size: 0x0b,
  bit_offset: 0x0c,
  bit_size: 0x0d,
  const_value: 0x1c,
  upper_bound: 0x2f,
  count: 0x37,
  data_member_location: 0x38,
  decl_file: 0x3a,
  declaration: 0x3c,
  encoding: 0x3e,
  external: 0x3f,
  specification: 0x47,
  type: 0x49,
  data_bit_offset: 0x6b,
  str_offsets_base: 0x72,
  signature: 0x69,
  import: 0x18,
} as const;

export const FORM = {
  addr: 0x01,
  data2: 0x05,
  data4: 0x06,
  data8: 0x07,
  string: 0x08,
  data1: 0x0b,
  flag: 0x0c,
  sdata: 0x0d,
  strp: 0x0e,
  udata: 0x0f,
  ref_addr: 0x10,
  ref4: 0x13,
  ref_sig8: 0x20,
  sec_offset: 0x17,
  exprloc: 0x18,
  flag_present: 0x19,
  strx1: 0x25,
  data16: 0x1e,
  implicit_const: 0x21,
} as const;

export type Value = number | bigint | string | Uint8Array | { ref: string } | true;

export interface SynthDie {
  tag: number;
  /** Attribute, form, value (for implicit_const, the constant; the DIE stores nothing). */
  attrs: [number, number, Value][];
  children?: SynthDie[];
  /** A name other DIEs' { ref } values point at. */
  label?: string;
}

export interface SynthDwarf {
  elf: SynthElf;
  /** .debug_info offset of each labelled DIE. */
  offsets: Map<string, number>;
  info: Uint8Array;
}

class Bytes {
  readonly b: number[] = [];
  u8(v: number): void {
    this.b.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v);
    this.u8(v >> 8);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.u8(Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
  }
  u64(v: bigint): void {
    for (let i = 0; i < 8; i++) this.u8(Number((v >> BigInt(8 * i)) & 0xffn));
  }
  uleb(v: number | bigint): void {
    let x = BigInt(v);
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x) byte |= 0x80;
      this.u8(byte);
    } while (x);
  }
  sleb(v: number | bigint): void {
    let x = BigInt(v);
    for (;;) {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      const done = (x === 0n && !(byte & 0x40)) || (x === -1n && byte & 0x40);
      this.u8(done ? byte : byte | 0x80);
      if (done) return;
    }
  }
  str(s: string): void {
    for (const c of Buffer.from(s, 'latin1')) this.u8(c);
    this.u8(0);
  }
  get length(): number {
    return this.b.length;
  }
}

/** One unit for buildDwarfUnits. */
export interface SynthUnit {
  /** compile (the default), partial (dwz-style, imported by others), or type (a type unit). */
  kind?: 'compile' | 'partial' | 'type';
  version?: 4 | 5;
  dies: SynthDie[];
  name?: string;
  /** Type units: the signature, and the label of the DIE the unit describes. */
  signature?: bigint;
  typeLabel?: string;
  /** DWARF 4 type units go in .debug_types (the default for them); DWARF 5 ones in .debug_info. */
}

/** Build an ELF with one compile unit holding `dies` (DWARF `version` 4 or 5). */
export function buildDwarf(dies: SynthDie[], version: 4 | 5 = 5, opts: { cuName?: string } = {}): SynthDwarf {
  return buildDwarfUnits([{ dies, version, name: opts.cuName }]);
}

/**
 * Build an ELF with several units: compile and partial units in .debug_info, type units in .debug_info (DWARF 5)
 * or .debug_types (DWARF 4). Labels are global: ref4 values are made unit-relative, ref_addr values section
 * offsets; ref_sig8 values are signatures (bigint).
 */
export function buildDwarfUnits(units: SynthUnit[]): SynthDwarf {
  const str = new Bytes();
  const strOffsets = new Bytes();
  const strIndex = new Map<string, number>();
  const strpOf = (s: string): number => {
    const at = str.length;
    str.str(s);
    return at;
  };
  const strxOf = (s: string): number => {
    let i = strIndex.get(s);
    if (i === undefined) {
      i = strIndex.size;
      strIndex.set(s, i);
      strOffsets.u32(strpOf(s));
    }
    return i;
  };
  const anyV5 = units.some((u) => (u.version ?? 5) === 5);
  if (anyV5) {
    // .debug_str_offsets header: unit length, version 5, padding; the base points after it.
    strOffsets.u32(0);
    strOffsets.u16(5);
    strOffsets.u16(0);
  }
  // Abbreviations: one table for all units, one entry per distinct (tag, children, attrs/forms) shape.
  const abbrev = new Bytes();
  const shapes = new Map<string, number>();
  const codeOf = (d: SynthDie): number => {
    const key = `${d.tag}:${d.children?.length ? 1 : 0}:${d.attrs.map(([a, f, v]) => `${a}/${f}${f === FORM.implicit_const ? `=${v}` : ''}`).join(',')}`;
    let c = shapes.get(key);
    if (c === undefined) {
      c = shapes.size + 1;
      shapes.set(key, c);
      abbrev.uleb(c);
      abbrev.uleb(d.tag);
      abbrev.u8(d.children?.length ? 1 : 0);
      for (const [a, f, v] of d.attrs) {
        abbrev.uleb(a);
        abbrev.uleb(f);
        if (f === FORM.implicit_const) abbrev.sleb(v as number);
      }
      abbrev.uleb(0);
      abbrev.uleb(0);
    }
    return c;
  };
  const sectionOf = (u: SynthUnit): '.debug_info' | '.debug_types' =>
    u.kind === 'type' && (u.version ?? 5) === 4 ? '.debug_types' : '.debug_info';
  const headerSize = (u: SynthUnit): number => {
    const v = u.version ?? 5;
    if (u.kind === 'type') return v === 5 ? 12 + 12 : 11 + 12;
    return v === 5 ? 12 : 11;
  };
  const topOf = (u: SynthUnit): SynthDie => {
    const v = u.version ?? 5;
    const tag = u.kind === 'type' ? 0x41 : u.kind === 'partial' ? 0x3c : TAG.compile_unit;
    const attrs: [number, number, Value][] = [];
    if (u.kind !== 'type') attrs.push([AT.name, FORM.strp, u.name ?? 'synth.c']);
    if (v === 5) attrs.push([AT.str_offsets_base, FORM.sec_offset, 8]);
    return { tag, attrs, children: u.dies };
  };
  // Two passes: the first lays DIEs out (references are fixed-size), the second writes them.
  const offsets = new Map<string, number>();
  const emit = (out: Bytes, d: SynthDie, resolve: boolean, base: number): void => {
    if (d.label && !resolve) offsets.set(d.label, base + out.length);
    out.uleb(codeOf(d));
    for (const [, f, v] of d.attrs) {
      switch (f) {
        case FORM.data1:
          out.u8(Number(v));
          break;
        case FORM.data2:
          out.u16(Number(v));
          break;
        case FORM.data4:
          out.u32(Number(v));
          break;
        case FORM.data8:
        case FORM.addr:
        case FORM.ref_sig8:
          out.u64(BigInt(v as number | bigint));
          break;
        case FORM.data16:
          for (let i = 0; i < 16; i++) out.u8((v as Uint8Array)[i] ?? 0);
          break;
        case FORM.udata:
          out.uleb(v as number);
          break;
        case FORM.sdata:
          out.sleb(v as number);
          break;
        case FORM.string:
          out.str(v as string);
          break;
        case FORM.strp:
          out.u32(resolve ? strpOf(v as string) : 0);
          break;
        case FORM.strx1:
          out.u8(resolve ? strxOf(v as string) : 0);
          break;
        case FORM.sec_offset:
          out.u32(Number(v));
          break;
        case FORM.ref4:
        case FORM.ref_addr: {
          const o = resolve ? offsets.get((v as { ref: string }).ref) : 0;
          if (o === undefined) throw new Error(`no DIE labelled ${(v as { ref: string }).ref}`);
          out.u32(resolve && f === FORM.ref4 ? o - base : o);
          break;
        }
        case FORM.flag:
          out.u8(v ? 1 : 0);
          break;
        case FORM.flag_present:
        case FORM.implicit_const:
          break;
        case FORM.exprloc: {
          const e = v as Uint8Array;
          out.uleb(e.length);
          for (const x of e) out.u8(x);
          break;
        }
        default:
          throw new Error(`form 0x${f.toString(16)} not supported by the writer`);
      }
    }
    if (d.children?.length) {
      for (const c of d.children) emit(out, c, resolve, base);
      out.u8(0);
    }
  };
  const sections = { '.debug_info': new Bytes(), '.debug_types': new Bytes() };
  const bases: number[] = [];
  // Layout: each unit's DIE offsets, per section.
  const layoutAt = { '.debug_info': 0, '.debug_types': 0 };
  for (const u of units) {
    const sec = sectionOf(u);
    const base = layoutAt[sec];
    bases.push(base);
    const body = new Bytes();
    for (let i = 0; i < headerSize(u); i++) body.u8(0);
    emit(body, topOf(u), false, base);
    layoutAt[sec] = base + body.length;
  }
  abbrev.uleb(0);
  units.forEach((u, i) => {
    const v = u.version ?? 5;
    const base = bases[i]!;
    const body = new Bytes();
    const hs = headerSize(u);
    for (let k = 0; k < hs; k++) body.u8(0);
    emit(body, topOf(u), true, base);
    const out = sections[sectionOf(u)];
    const h = new Bytes();
    h.u32(body.length - 4);
    h.u16(v);
    if (v === 5) {
      h.u8(u.kind === 'type' ? 2 : u.kind === 'partial' ? 3 : 1);
      h.u8(8);
      h.u32(0);
    } else {
      h.u32(0);
      h.u8(8);
    }
    if (u.kind === 'type') {
      h.u64(u.signature ?? 0n);
      const t = u.typeLabel ? offsets.get(u.typeLabel) : undefined;
      if (t === undefined) throw new Error('a type unit needs the label of its type');
      h.u32(t - base);
    }
    if (out.length !== base) throw new Error('unit layout changed between passes');
    out.b.push(...h.b, ...body.b.slice(hs));
  });
  if (anyV5) {
    const so = Uint8Array.from(strOffsets.b);
    new DataView(so.buffer).setUint32(0, so.length - 4, true);
    strOffsets.b.splice(0, strOffsets.b.length, ...so);
  }
  const info = Uint8Array.from(sections['.debug_info'].b);
  const types = Uint8Array.from(sections['.debug_types'].b);
  const elf = buildElf({
    type: 2,
    sections: [
      { name: '.text', flags: 6, addr: 0xffffffff81000000n, data: new Uint8Array(16) },
      { name: '.debug_info', data: info },
      ...(types.length ? [{ name: '.debug_types', data: types }] : []),
      { name: '.debug_abbrev', data: Uint8Array.from(abbrev.b) },
      { name: '.debug_str', data: Uint8Array.from(str.b), flags: 0x30, entsize: 1 },
      ...(anyV5 ? [{ name: '.debug_str_offsets', data: Uint8Array.from(strOffsets.b) }] : []),
    ],
  });
  return { elf, offsets, info };
}
