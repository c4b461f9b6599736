/**
 * A small ELF64 little-endian writer for tests: sections (with data, NOBITS,
 * SHF_COMPRESSED zlib/zstd or legacy .zdebug), a symbol table, a GNU build-id
 * note, program headers over sections, and RELA relocations. Returns the bytes
 * and where each header landed, so hostile-input tests can corrupt them.
 */
import { deflateSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';

export const SHT = { NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, NOTE: 7, NOBITS: 8 } as const;
export const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4, MERGE: 0x10, STRINGS: 0x20, INFO_LINK: 0x40, COMPRESSED: 0x800 };
export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;
export const SHN_ABS = 0xfff1;

export interface SynthSection {
  name: string;
  type?: number;
  flags?: number;
  addr?: bigint;
  data?: Uint8Array;
  /** For NOBITS sections. */
  size?: number;
  link?: number | string;
  info?: number | string;
  entsize?: number;
  align?: number;
  /** Store compressed: SHF_COMPRESSED with zlib or zstd, or legacy "ZLIB" (.zdebug_*). */
  compress?: 'zlib' | 'zstd' | 'zdebug';
  /** Write this uncompressed size in the compression header instead of the real one. */
  claimedSize?: number;
}

export interface SynthSymbol {
  name: string;
  value: bigint;
  size?: number;
  type?: number;
  bind?: number;
  /** Section name, or a raw index (SHN_ABS...). Default: undefined symbol (0). */
  section?: string | number;
}

export interface SynthReloc {
  /** The section the relocation applies to. */
  target: string;
  offset: number;
  type: number;
  /** A symbol by name, or a section's STT_SECTION symbol. */
  symbol: string | { section: string };
  addend: bigint;
}

export interface SynthSegment {
  type: number;
  flags?: number;
  vaddr: bigint;
  paddr?: bigint;
  /** The segment covers this section's bytes in the file. */
  section: string;
  memsz?: number;
}

export interface SynthElfSpec {
  type?: number;
  machine?: number;
  class?: number;
  data?: number;
  sections?: SynthSection[];
  symbols?: SynthSymbol[];
  relocations?: SynthReloc[];
  /** Hex build-id for a .note.gnu.build-id section. */
  buildId?: string;
  segments?: SynthSegment[];
  /** Emit an STT_SECTION symbol for every section (as ld does in a vmlinux). */
  sectionSymbols?: boolean;
}

export interface SynthElf {
  bytes: Uint8Array;
  shoff: number;
  phoff: number;
  /** Section index by name. */
  index: Map<string, number>;
  /** File offset of each section's data, by index. */
  dataOffset: number[];
}

function note(name: string, type: number, desc: Uint8Array): Uint8Array {
  const n = Buffer.from(`${name}\0`, 'latin1');
  const pad = (x: number): number => (x + 3) & ~3;
  const out = new Uint8Array(12 + pad(n.length) + pad(desc.length));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n.length, true);
  dv.setUint32(4, desc.length, true);
  dv.setUint32(8, type, true);
  out.set(n, 12);
  out.set(desc, 12 + pad(n.length));
  return out;
}

function compressed(s: SynthSection, raw: Uint8Array): Uint8Array {
  const size = s.claimedSize ?? raw.length;
  if (s.compress === 'zdebug') {
    const z = deflateSync(raw);
    const out = new Uint8Array(12 + z.length);
    out.set(Buffer.from('ZLIB', 'latin1'));
    new DataView(out.buffer).setBigUint64(4, BigInt(size), false);
    out.set(z, 12);
    return out;
  }
  const body = s.compress === 'zstd' ? zstdCompress(raw) : deflateSync(raw);
  const out = new Uint8Array(24 + body.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, s.compress === 'zstd' ? 2 : 1, true);
  dv.setBigUint64(8, BigInt(size), true);
  dv.setBigUint64(16, 1n, true);
  out.set(body, 24);
  return out;
}

/** Build an ELF64 file from a spec. */
export function buildElf(spec: SynthElfSpec): SynthElf {
  const secs: SynthSection[] = [{ name: '', type: SHT.NULL }, ...(spec.sections ?? []).map((s) => ({ ...s }))];
  if (spec.buildId) {
    secs.push({
      name: '.note.gnu.build-id',
      type: SHT.NOTE,
      flags: SHF.ALLOC,
      align: 4,
      data: note('GNU', 3, Buffer.from(spec.buildId, 'hex')),
    });
  }
  const idx = (): Map<string, number> => new Map(secs.map((s, i) => [s.name, i]));
  // Symbols: null, section symbols for relocations, then locals, then globals.
  const relocs = spec.relocations ?? [];
  const wantSymtab = (spec.symbols?.length ?? 0) > 0 || relocs.length > 0 || spec.sectionSymbols === true;
  let symtabIndex = -1;
  const symIndexByName = new Map<string, number>();
  const sectionSym = new Map<string, number>();
  if (wantSymtab) {
    secs.push({ name: '.symtab', type: SHT.SYMTAB, align: 8, entsize: 24 });
    symtabIndex = secs.length - 1;
    secs.push({ name: '.strtab', type: SHT.STRTAB, align: 1 });
  }
  // RELA sections, one per target.
  const targets = [...new Set(relocs.map((r) => r.target))];
  for (const t of targets) {
    secs.push({
      name: `.rela${t}`,
      type: SHT.RELA,
      flags: SHF.INFO_LINK,
      align: 8,
      entsize: 24,
      link: '.symtab',
      info: t,
    });
  }
  secs.push({ name: '.shstrtab', type: SHT.STRTAB, align: 1 });
  const index = idx();
  const resolve = (v: number | string | undefined): number =>
    typeof v === 'string' ? (index.get(v) ?? Number.NaN) : (v ?? 0);

  // String tables.
  const shstr: number[] = [0];
  const shName = secs.map((s) => {
    if (!s.name) return 0;
    const off = shstr.length;
    shstr.push(...Buffer.from(s.name, 'latin1'), 0);
    return off;
  });
  if (wantSymtab) {
    const strtab: number[] = [0];
    const rows: number[][] = [];
    const add = (name: string, value: bigint, size: number, type: number, bind: number, shndx: number): number => {
      let off = 0;
      if (name) {
        off = strtab.length;
        strtab.push(...Buffer.from(name, 'latin1'), 0);
      }
      rows.push([off, (bind << 4) | type, shndx, Number(value & 0xffffffffn), Number(value >> 32n), size]);
      return rows.length - 1;
    };
    add('', 0n, 0, 0, 0, 0);
    if (spec.sectionSymbols) {
      for (const sec of spec.sections ?? []) {
        sectionSym.set(sec.name, add('', sec.addr ?? 0n, 0, STT.SECTION, STB.LOCAL, resolve(sec.name)));
      }
    }
    for (const r of relocs) {
      if (typeof r.symbol !== 'string' && !sectionSym.has(r.symbol.section)) {
        sectionSym.set(r.symbol.section, add('', 0n, 0, STT.SECTION, STB.LOCAL, resolve(r.symbol.section)));
      }
    }
    const syms = spec.symbols ?? [];
    const ordered = [
      ...syms.filter((s) => (s.bind ?? STB.GLOBAL) === STB.LOCAL),
      ...syms.filter((s) => (s.bind ?? STB.GLOBAL) !== STB.LOCAL),
    ];
    let firstGlobal = rows.length;
    for (const s of ordered) {
      const bind = s.bind ?? STB.GLOBAL;
      const i = add(s.name, s.value, s.size ?? 0, s.type ?? STT.NOTYPE, bind, resolve(s.section));
      if (bind === STB.LOCAL) firstGlobal = i + 1;
      if (!symIndexByName.has(s.name)) symIndexByName.set(s.name, i);
    }
    const symData = new Uint8Array(rows.length * 24);
    const sv = new DataView(symData.buffer);
    rows.forEach((r, i) => {
      sv.setUint32(i * 24, r[0]!, true);
      symData[i * 24 + 4] = r[1]!;
      sv.setUint16(i * 24 + 6, r[2]!, true);
      sv.setUint32(i * 24 + 8, r[3]!, true);
      sv.setUint32(i * 24 + 12, r[4]!, true);
      sv.setBigUint64(i * 24 + 16, BigInt(r[5]!), true);
    });
    const st = secs[symtabIndex]!;
    st.data = symData;
    st.link = '.strtab';
    st.info = firstGlobal;
    secs[symtabIndex + 1]!.data = Uint8Array.from(strtab);
  }
  for (const t of targets) {
    const list = relocs.filter((r) => r.target === t);
    const d = new Uint8Array(list.length * 24);
    const dv = new DataView(d.buffer);
    list.forEach((r, i) => {
      const sym = typeof r.symbol === 'string' ? symIndexByName.get(r.symbol) : sectionSym.get(r.symbol.section);
      if (sym === undefined) throw new Error(`synth-elf: relocation symbol ${JSON.stringify(r.symbol)} unknown`);
      dv.setBigUint64(i * 24, BigInt(r.offset), true);
      dv.setBigUint64(i * 24 + 8, (BigInt(sym) << 32n) | BigInt(r.type), true);
      dv.setBigInt64(i * 24 + 16, r.addend, true);
    });
    secs[index.get(`.rela${t}`)!]!.data = d;
  }
  secs[secs.length - 1]!.data = Uint8Array.from(shstr);

  // Layout: header, program headers, section data, section headers.
  const segs = spec.segments ?? [];
  const phoff = segs.length ? 64 : 0;
  let off = 64 + segs.length * 56;
  const stored: Uint8Array[] = [];
  const dataOffset: number[] = [];
  secs.forEach((s, i) => {
    let d = s.data ?? new Uint8Array(0);
    if (s.compress && s.type !== SHT.NOBITS) d = compressed(s, d);
    stored.push(d);
    const align = Math.max(s.align ?? 1, 1);
    off = Math.ceil(off / align) * align;
    dataOffset[i] = i === 0 ? 0 : off;
    if (s.type !== SHT.NOBITS) off += d.length;
  });
  const shoff = Math.ceil(off / 8) * 8;
  const total = shoff + secs.length * 64;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.class ?? 2, spec.data ?? 1, 1, 0]);
  dv.setUint16(16, spec.type ?? 2, true);
  dv.setUint16(18, spec.machine ?? 62, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, segs.length, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, secs.length, true);
  dv.setUint16(62, secs.length - 1, true);
  segs.forEach((p, i) => {
    const o = phoff + i * 56;
    const si = index.get(p.section)!;
    const size = stored[si]!.length;
    dv.setUint32(o, p.type, true);
    dv.setUint32(o + 4, p.flags ?? 4, true);
    dv.setBigUint64(o + 8, BigInt(dataOffset[si]!), true);
    dv.setBigUint64(o + 16, p.vaddr, true);
    dv.setBigUint64(o + 24, p.paddr ?? p.vaddr, true);
    dv.setBigUint64(o + 32, BigInt(size), true);
    dv.setBigUint64(o + 40, BigInt(p.memsz ?? size), true);
    dv.setBigUint64(o + 48, 8n, true);
  });
  secs.forEach((s, i) => {
    if (i > 0 && s.type !== SHT.NOBITS) out.set(stored[i]!, dataOffset[i]!);
    const o = shoff + i * 64;
    if (i === 0) return;
    dv.setUint32(o, shName[i]!, true);
    dv.setUint32(o + 4, s.type ?? SHT.PROGBITS, true);
    dv.setBigUint64(o + 8, BigInt((s.flags ?? 0) | (s.compress && s.compress !== 'zdebug' ? SHF.COMPRESSED : 0)), true);
    dv.setBigUint64(o + 16, s.addr ?? 0n, true);
    dv.setBigUint64(o + 24, BigInt(dataOffset[i]!), true);
    dv.setBigUint64(o + 32, BigInt(s.type === SHT.NOBITS ? (s.size ?? 0) : stored[i]!.length), true);
    dv.setUint32(o + 40, resolve(s.link), true);
    dv.setUint32(o + 44, resolve(s.info), true);
    dv.setBigUint64(o + 48, BigInt(s.align ?? 1), true);
    dv.setBigUint64(o + 56, BigInt(s.entsize ?? 0), true);
  });
  return { bytes: out, shoff, phoff, index, dataOffset };
}
