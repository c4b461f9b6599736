/**
 * ELF64 little-endian files as tscrash reads them: the vmlinux (ET_EXEC, ~600 MB
 * with DWARF), modules (ET_REL), shared objects (ET_DYN) and ELF cores (ET_CORE).
 *
 * Opening reads the ELF header, the program headers and the section headers
 * with positioned reads on one fd; nothing else. A section's bytes are read
 * when first asked for (one read), decompressed (SHF_COMPRESSED zlib/zstd, or a
 * legacy `.zdebug_*` section) and, in an ET_REL file, relocated by its
 * `.rela.<name>` section; then kept. `readSectionRange` reads a piece of a
 * section without loading the rest. In ET_EXEC/ET_DYN files `.rela.*`
 * sections (ld --emit-relocs, as Debian's vmlinux has) are already applied
 * and are never applied again.
 *
 * Every size, count, offset and string index is checked against the file: bad
 * input gives a BadDataError naming the file and offset, never a hang or a
 * giant allocation.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { zstdDecompress } from '../core/compress/zstd.js';
import { parseNotes } from '../core/elf-notes.js';
import { BadDataError } from '../core/errors.js';

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_COMPRESSED = 0x800;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const ELFCOMPRESS_ZLIB = 1;
export const ELFCOMPRESS_ZSTD = 2;
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_PC64 = 24;
export const EM_X86_64 = 62;

const MAX_SECTIONS = 1 << 20;
const MAX_PHDRS = 1 << 16;
/** No section we load may exceed this (uncompressed). */
const MAX_SECTION_BYTES = 2 ** 31;
/** deflate cannot expand more than ~1032:1; zstd ~44000:1 (RLE blocks). */
const ZLIB_MAX_RATIO = 1100;
const ZSTD_MAX_RATIO = 45000;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  /** STT_*: 0 notype, 1 object, 2 func, 3 section, 4 file, 6 tls. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak, 10 unique. */
  bind: number;
  shndx: number;
}

/**
 * A symbol table as stored, without decoding: 24-byte Elf64_Sym entries.
 * `words` views the table as u32 (name at 6*i), `quads` as u64 (value at 3*i+1,
 * size at 3*i+2), `bytes` gives info at 24*i+4 and shndx (u16) at 24*i+6.
 */
export interface RawSymbols {
  section: ElfSection;
  count: number;
  bytes: Uint8Array;
  words: Uint32Array;
  quads: BigUint64Array;
  strtab: Uint8Array;
  /** Section indices of SHN_XINDEX symbols (from SHT_SYMTAB_SHNDX), if any. */
  xindex?: Uint32Array;
}

export interface SectionDataOptions {
  /** Back the bytes with a SharedArrayBuffer (to hand to worker_threads without copying). */
  shared?: boolean;
  /** In an ET_REL file, do not apply the section's relocations. */
  raw?: boolean;
}

export type SectionRef = ElfSection | string;

export class ElfFile {
  readonly type: number;
  readonly machine: number;
  readonly entry: bigint;
  readonly sections: ElfSection[] = [];
  readonly programHeaders: ElfProgramHeader[] = [];
  readonly size: number;
  private fd: number;
  private readonly byName = new Map<string, ElfSection>();
  private readonly cache = new Map<number, Uint8Array>();
  private readonly rawCache = new Map<number, Uint8Array>();
  private buildIdCache: string | null | undefined;
  private readonly sectionBase = new Map<number, bigint>();

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      const h = this.pread(0, 64);
      if (h.length < 4 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) {
        throw new BadDataError('not an ELF file (no \\x7fELF magic)', path, 0);
      }
      if (h.length < 64) throw new BadDataError(`ELF header truncated: ${h.length} of 64 bytes`, path, h.length);
      if (h[4] !== 2) throw new BadDataError(`not a 64-bit ELF file (EI_CLASS ${h[4]}, ELFCLASS64 is 2)`, path, 4);
      if (h[5] !== 1)
        throw new BadDataError(`not a little-endian ELF file (EI_DATA ${h[5]}, ELFDATA2LSB is 1)`, path, 5);
      const dv = new DataView(h.buffer, h.byteOffset, 64);
      this.type = dv.getUint16(16, true);
      if (this.type < ET_REL || this.type > ET_CORE) {
        throw new BadDataError(`ELF type ${this.type} is not ET_REL, ET_EXEC, ET_DYN or ET_CORE`, path, 16);
      }
      this.machine = dv.getUint16(18, true);
      this.entry = dv.getBigUint64(24, true);
      const phoff = this.offsetField(dv.getBigUint64(32, true), 32, 'e_phoff');
      const shoff = this.offsetField(dv.getBigUint64(40, true), 40, 'e_shoff');
      const phentsize = dv.getUint16(54, true);
      let phnum = dv.getUint16(56, true);
      const shentsize = dv.getUint16(58, true);
      let shnum = dv.getUint16(60, true);
      let shstrndx = dv.getUint16(62, true);

      if (shoff !== 0) {
        if (shentsize < 64) throw new BadDataError(`e_shentsize ${shentsize} is less than 64`, path, 58);
        if (shnum === 0 || shstrndx === SHN_XINDEX || phnum === 0xffff) {
          // Extended numbering: the real values live in section header 0.
          const s0 = this.pread(shoff, 64);
          if (s0.length < 64) throw new BadDataError('section header 0 runs past the end of the file', path, shoff);
          const v0 = new DataView(s0.buffer, s0.byteOffset, 64);
          if (shnum === 0)
            shnum = this.countField(v0.getBigUint64(32, true), MAX_SECTIONS, shoff + 32, 'section count');
          if (shstrndx === SHN_XINDEX) shstrndx = v0.getUint32(40, true);
          if (phnum === 0xffff) phnum = v0.getUint32(44, true);
        }
        if (shnum > MAX_SECTIONS) throw new BadDataError(`${shnum} sections is absurd`, path, 60);
        if (shoff + shnum * shentsize > this.size) {
          throw new BadDataError(
            `${shnum} section headers of ${shentsize} bytes at 0x${shoff.toString(16)} run past the end of the file (${this.size} bytes)`,
            path,
            40,
          );
        }
      }
      if (phoff !== 0 && phnum > 0) {
        if (phentsize < 56) throw new BadDataError(`e_phentsize ${phentsize} is less than 56`, path, 54);
        if (phnum > MAX_PHDRS) throw new BadDataError(`${phnum} program headers is absurd`, path, 56);
        if (phoff + phnum * phentsize > this.size) {
          throw new BadDataError(
            `${phnum} program headers at 0x${phoff.toString(16)} run past the end of the file (${this.size} bytes)`,
            path,
            32,
          );
        }
        const ph = this.pread(phoff, phnum * phentsize);
        const pv = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
        for (let i = 0; i < phnum; i++) {
          const o = i * phentsize;
          this.programHeaders.push({
            type: pv.getUint32(o, true),
            flags: pv.getUint32(o + 4, true),
            offset: this.offsetField(pv.getBigUint64(o + 8, true), phoff + o + 8, 'p_offset'),
            vaddr: pv.getBigUint64(o + 16, true),
            paddr: pv.getBigUint64(o + 24, true),
            filesz: this.offsetField(pv.getBigUint64(o + 32, true), phoff + o + 32, 'p_filesz'),
            memsz: this.offsetField(pv.getBigUint64(o + 40, true), phoff + o + 40, 'p_memsz'),
            align: this.offsetField(pv.getBigUint64(o + 48, true), phoff + o + 48, 'p_align'),
          });
        }
      }
      if (shoff === 0 || shnum === 0) return;

      const sh = this.pread(shoff, shnum * shentsize);
      const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
      const nameOffsets = new Uint32Array(shnum);
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        const at = shoff + o;
        const sec: ElfSection = {
          index: i,
          name: '',
          type: sv.getUint32(o + 4, true),
          flags: Number(sv.getBigUint64(o + 8, true) & 0xffffffffn),
          addr: sv.getBigUint64(o + 16, true),
          offset: this.offsetField(sv.getBigUint64(o + 24, true), at + 24, `section ${i} sh_offset`),
          size: this.offsetField(sv.getBigUint64(o + 32, true), at + 32, `section ${i} sh_size`),
          link: sv.getUint32(o + 40, true),
          info: sv.getUint32(o + 44, true),
          addralign: this.offsetField(sv.getBigUint64(o + 48, true), at + 48, `section ${i} sh_addralign`),
          entsize: this.offsetField(sv.getBigUint64(o + 56, true), at + 56, `section ${i} sh_entsize`),
        };
        if (i > 0 && sec.type !== SHT_NOBITS && sec.size > 0 && sec.offset + sec.size > this.size) {
          throw new BadDataError(
            `section ${i} (${sec.size} bytes at 0x${sec.offset.toString(16)}) runs past the end of the file (${this.size} bytes)`,
            path,
            at + 24,
          );
        }
        nameOffsets[i] = sv.getUint32(o, true);
        this.sections.push(sec);
      }
      if (shstrndx !== SHN_UNDEF) {
        const strtab = this.sections[shstrndx];
        if (!strtab || strtab.type === SHT_NOBITS) {
          throw new BadDataError(`e_shstrndx ${shstrndx} is not a section with data (${shnum} sections)`, path, 62);
        }
        if (strtab.size > MAX_SECTION_BYTES / 4) {
          throw new BadDataError(`section name table of ${strtab.size} bytes is absurd`, path, shoff + shstrndx * 64);
        }
        const names = this.pread(strtab.offset, strtab.size);
        for (const s of this.sections) {
          const off = nameOffsets[s.index]!;
          if (off >= names.length && !(off === 0 && names.length === 0)) {
            throw new BadDataError(
              `section ${s.index}: name offset ${off} outside the section name table (${names.length} bytes)`,
              path,
              shoff + s.index * shentsize,
            );
          }
          s.name = cstring(names, off);
          if (s.name && !this.byName.has(s.name)) this.byName.set(s.name, s);
        }
      }
    } catch (e) {
      closeSync(this.fd);
      this.fd = -1;
      throw e;
    }
  }

  static open(path: string): ElfFile {
    return new ElfFile(path);
  }

  private offsetField(v: bigint, at: number, what: string): number {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new BadDataError(`${what} 0x${v.toString(16)} is absurd`, this.path, at);
    }
    return Number(v);
  }

  private countField(v: bigint, max: number, at: number, what: string): number {
    if (v > BigInt(max)) throw new BadDataError(`${what} ${v} is absurd (more than ${max})`, this.path, at);
    return Number(v);
  }

  private pread(pos: number, len: number, into?: Uint8Array): Uint8Array {
    if (this.fd < 0) throw new Error(`${this.path}: ELF file is closed`);
    const b = into ?? new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, b, done, len - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done === len ? b : b.subarray(0, done);
  }

  /**
   * Read `into.length` bytes at `offset` of a plainly stored section (not compressed, no relocation to apply)
   * straight into `into`; false when the section is not stored plainly (use readSectionRange).
   */
  readSectionInto(ref: SectionRef, offset: number, into: Uint8Array): boolean {
    const sec = this.resolve(ref);
    if (this.isCompressed(sec) || this.needsRelocation(sec) || sec.type === SHT_NOBITS) return false;
    if (!Number.isInteger(offset) || offset < 0 || offset + into.length > sec.size) {
      throw new BadDataError(
        `range ${offset}+${into.length} is outside section ${sec.name} (${sec.size} bytes)`,
        this.path,
        sec.offset,
      );
    }
    const got = this.pread(sec.offset + offset, into.length, into);
    if (got.length < into.length)
      throw new BadDataError(`section ${sec.name} runs past the end of the file`, this.path, sec.offset + offset);
    return true;
  }

  /** The section of that name; `.debug_X` also finds a legacy `.zdebug_X`. */
  section(name: string): ElfSection | undefined {
    return this.byName.get(name) ?? (name.startsWith('.debug_') ? this.byName.get(`.z${name.slice(1)}`) : undefined);
  }

  private resolve(ref: SectionRef): ElfSection {
    if (typeof ref !== 'string') return ref;
    const s = this.section(ref);
    if (!s) throw new BadDataError(`no section ${ref}`, this.path, 0);
    return s;
  }

  /** Is the section stored compressed (SHF_COMPRESSED or legacy .zdebug)? */
  isCompressed(ref: SectionRef): boolean {
    const sec = this.resolve(ref);
    return (sec.flags & SHF_COMPRESSED) !== 0 || sec.name.startsWith('.zdebug');
  }

  /** RELA/REL sections that apply to a section (sh_info names it). */
  relocationSections(ref: SectionRef): ElfSection[] {
    const sec = this.resolve(ref);
    return this.sections.filter(
      (r) => (r.type === SHT_RELA || r.type === SHT_REL) && r.info === sec.index && r.index !== sec.index,
    );
  }

  /** Will `sectionData` apply relocations to this section (ET_REL files only)? */
  needsRelocation(ref: SectionRef): boolean {
    return this.type === ET_REL && this.relocationSections(ref).length > 0;
  }

  /**
   * In an ET_REL file, the address a section is loaded at (a module's .text
   * from memory, say): relocations against its symbols then use it. Drops
   * relocated sections already cached.
   */
  setSectionAddress(ref: SectionRef, address: bigint): void {
    const sec = this.resolve(ref);
    this.sectionBase.set(sec.index, address);
    if (this.type === ET_REL) this.cache.clear();
  }

  /** The size of a section's contents once decompressed. */
  dataSize(ref: SectionRef): number {
    const sec = this.resolve(ref);
    if (sec.type === SHT_NOBITS) return 0;
    if (!this.isCompressed(sec)) return sec.size;
    return this.compressionHeader(sec).size;
  }

  private compressionHeader(sec: ElfSection): { type: number; size: number; headerSize: number } {
    const h = this.pread(sec.offset, Math.min(sec.size, 24));
    const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
    if (sec.flags & SHF_COMPRESSED) {
      if (h.length < 24)
        throw new BadDataError(`section ${sec.name}: compression header truncated`, this.path, sec.offset);
      const size = dv.getBigUint64(8, true);
      return {
        type: dv.getUint32(0, true),
        size: this.countField(size, MAX_SECTION_BYTES, sec.offset + 8, `section ${sec.name} uncompressed size`),
        headerSize: 24,
      };
    }
    // Legacy .zdebug: "ZLIB" then the size as a big-endian u64.
    if (h.length < 12 || h[0] !== 0x5a || h[1] !== 0x4c || h[2] !== 0x49 || h[3] !== 0x42) {
      throw new BadDataError(`section ${sec.name}: no ZLIB header`, this.path, sec.offset);
    }
    const size = dv.getBigUint64(4, false);
    return {
      type: ELFCOMPRESS_ZLIB,
      size: this.countField(size, MAX_SECTION_BYTES, sec.offset + 4, `section ${sec.name} uncompressed size`),
      headerSize: 12,
    };
  }

  /**
   * A section's bytes: decompressed, relocated in ET_REL files, read once and kept.
   * With `shared`, the bytes live in a SharedArrayBuffer.
   */
  sectionData(ref: SectionRef, opts: SectionDataOptions = {}): Uint8Array {
    const sec = this.resolve(ref);
    if (sec.type === SHT_NOBITS || sec.size === 0)
      return opts.shared ? new Uint8Array(new SharedArrayBuffer(0)) : new Uint8Array(0);
    const relocate = !opts.raw && this.needsRelocation(sec);
    const cache = relocate ? this.cache : this.rawCache;
    let data = cache.get(sec.index);
    if (!data) {
      const raw = relocate ? this.sectionData(sec, { raw: true, shared: opts.shared }) : this.load(sec, opts.shared);
      data = relocate ? this.relocate(sec, raw, opts.shared) : raw;
      cache.set(sec.index, data);
    }
    if (opts.shared && !(data.buffer instanceof SharedArrayBuffer)) {
      const copy = new Uint8Array(new SharedArrayBuffer(data.length));
      copy.set(data);
      data = copy;
      cache.set(sec.index, data);
    }
    return data;
  }

  /** All of a section from the file, decompressed. */
  private load(sec: ElfSection, shared = false): Uint8Array {
    if (!this.isCompressed(sec)) {
      if (sec.size > MAX_SECTION_BYTES)
        throw new BadDataError(`section ${sec.name} of ${sec.size} bytes is too large`, this.path, sec.offset);
      const into = new Uint8Array(shared ? new SharedArrayBuffer(sec.size) : new ArrayBuffer(sec.size));
      const data = this.pread(sec.offset, sec.size, into);
      if (data.length < sec.size)
        throw new BadDataError(
          `section ${sec.name} runs past the end of the file`,
          this.path,
          sec.offset + data.length,
        );
      return data;
    }
    const ch = this.compressionHeader(sec);
    const compressed = this.pread(sec.offset + ch.headerSize, sec.size - ch.headerSize);
    const at = sec.offset + ch.headerSize;
    let out: Uint8Array;
    try {
      if (ch.type === ELFCOMPRESS_ZLIB) {
        if (ch.size > compressed.length * ZLIB_MAX_RATIO + 1024)
          throw new BadDataError(
            `section ${sec.name}: ${compressed.length} zlib bytes cannot expand to the ${ch.size} bytes its header claims`,
            this.path,
            sec.offset,
          );
        out = inflateSync(compressed, { maxOutputLength: Math.max(ch.size, 1) });
      } else if (ch.type === ELFCOMPRESS_ZSTD) {
        if (ch.size > compressed.length * ZSTD_MAX_RATIO + 1024)
          throw new BadDataError(
            `section ${sec.name}: ${compressed.length} zstd bytes cannot expand to the ${ch.size} bytes its header claims`,
            this.path,
            sec.offset,
          );
        const declared = zstdContentSize(compressed);
        if (declared !== undefined && declared !== ch.size)
          throw new BadDataError(
            `section ${sec.name}: zstd frame declares ${declared} bytes, the section header ${ch.size}`,
            this.path,
            at,
          );
        // Loaded on first use (start-up time only zstd sections need).
        out = zstdDecompress(compressed, ch.size);
      } else {
        throw new BadDataError(
          `section ${sec.name}: compression type ${ch.type} is not supported (zlib 1 and zstd 2 are)`,
          this.path,
          sec.offset,
        );
      }
    } catch (e) {
      if (e instanceof BadDataError) throw e;
      throw new BadDataError(
        `section ${sec.name}: cannot decompress to the ${ch.size} bytes its header claims: ${(e as Error).message}`,
        this.path,
        at,
      );
    }
    if (out.length !== ch.size)
      throw new BadDataError(
        `section ${sec.name}: ${out.length} bytes decompressed, the header says ${ch.size}`,
        this.path,
        sec.offset,
      );
    if (shared) {
      const s = new Uint8Array(new SharedArrayBuffer(out.length));
      s.set(out);
      return s;
    }
    // A plain Uint8Array view (not a Buffer) like every other section read.
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  /**
   * `length` bytes at `offset` within a section's (decompressed, relocated)
   * contents. Reads only that range from the file when the section is stored
   * plain and needs no relocation; otherwise loads the whole section once.
   */
  readSectionRange(ref: SectionRef, offset: number, length: number): Uint8Array {
    const sec = this.resolve(ref);
    const cached = this.cache.get(sec.index) ?? this.rawCache.get(sec.index);
    const plain = !this.isCompressed(sec) && !this.needsRelocation(sec);
    const total = sec.type === SHT_NOBITS ? 0 : plain ? sec.size : cached ? cached.length : this.dataSize(sec);
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > total) {
      throw new BadDataError(
        `range ${offset}+${length} is outside section ${sec.name} (${total} bytes)`,
        this.path,
        sec.offset,
      );
    }
    if (cached && (plain || this.cache.has(sec.index))) return cached.subarray(offset, offset + length);
    if (!plain) return this.sectionData(sec).subarray(offset, offset + length);
    const data = this.pread(sec.offset + offset, length);
    if (data.length < length)
      throw new BadDataError(`section ${sec.name} runs past the end of the file`, this.path, sec.offset + offset);
    return data;
  }

  /** Drop a section's cached bytes (after a worker took its own copy, say). */
  release(ref: SectionRef): void {
    const sec = this.resolve(ref);
    this.cache.delete(sec.index);
    this.rawCache.delete(sec.index);
  }

  /** Apply an ET_REL section's relocations to a copy of its bytes (x86-64 RELA/REL). */
  private relocate(sec: ElfSection, raw: Uint8Array, shared = false): Uint8Array {
    const out = new Uint8Array(shared ? new SharedArrayBuffer(raw.length) : new ArrayBuffer(raw.length));
    out.set(raw);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (const rs of this.relocationSections(sec)) {
      const symtab = this.sections[rs.link];
      if (!symtab || (symtab.type !== SHT_SYMTAB && symtab.type !== SHT_DYNSYM))
        throw new BadDataError(`${rs.name}: sh_link ${rs.link} is not a symbol table`, this.path, rs.offset);
      const syms = this.rawSymbolsOf(symtab);
      const rela = rs.type === SHT_RELA;
      const ent = rela ? 24 : 16;
      const rd = this.sectionData(rs, { raw: true });
      const rv = new DataView(rd.buffer, rd.byteOffset, rd.byteLength);
      const n = Math.floor(rd.length / ent);
      const base = this.sectionBase.get(sec.index) ?? sec.addr;
      for (let i = 0; i < n; i++) {
        const o = i * ent;
        const where = rv.getBigUint64(o, true);
        const info = rv.getBigUint64(o + 8, true);
        const type = Number(info & 0xffffffffn);
        const symi = Number(info >> 32n);
        if (type === R_X86_64_NONE) continue;
        if (symi >= syms.count)
          throw new BadDataError(
            `${rs.name}: relocation ${i} names symbol ${symi} of ${syms.count}`,
            this.path,
            rs.offset + o,
          );
        const shndx = syms.bytes[symi * 24 + 6]! | (syms.bytes[symi * 24 + 7]! << 8);
        let s = syms.quads[symi * 3 + 1]!;
        if (shndx !== SHN_UNDEF && shndx < 0xff00) {
          const target = this.sections[shndx];
          if (target) s += this.sectionBase.get(shndx) ?? target.addr;
        }
        const width = type === R_X86_64_64 || type === R_X86_64_PC64 ? 8 : 4;
        if (where > BigInt(out.length - width) || out.length < width)
          throw new BadDataError(
            `${rs.name}: relocation ${i} at 0x${where.toString(16)} is outside ${sec.name} (${out.length} bytes)`,
            this.path,
            rs.offset + o,
          );
        const w = Number(where);
        const a = rela
          ? rv.getBigInt64(o + 16, true)
          : width === 8
            ? dv.getBigInt64(w, true)
            : BigInt(dv.getInt32(w, true));
        const p = base + where;
        const mask64 = (1n << 64n) - 1n;
        switch (type) {
          case R_X86_64_64:
            dv.setBigUint64(w, (s + a) & mask64, true);
            break;
          case R_X86_64_PC64:
            dv.setBigUint64(w, (s + a - p) & mask64, true);
            break;
          case R_X86_64_32:
          case R_X86_64_32S:
            dv.setUint32(w, Number((s + a) & 0xffffffffn), true);
            break;
          case R_X86_64_PC32:
          case R_X86_64_PLT32: // a call resolved within the object: the same as PC32
            dv.setUint32(w, Number((s + a - p) & 0xffffffffn), true);
            break;
          default:
            // Code sections of a module also carry GOT and TLS relocations nobody here needs;
            // leave those fields alone. Debug sections never should.
            if (sec.flags & SHF_ALLOC) break;
            throw new BadDataError(
              `${rs.name}: relocation ${i}: type ${type} is not supported (x86-64 64, 32, 32S, PC32, PC64 are)`,
              this.path,
              rs.offset + o,
            );
        }
      }
    }
    return out;
  }

  /** The GNU build-id (hex), from a PT_NOTE segment or a SHT_NOTE section. */
  get buildId(): string | undefined {
    if (this.buildIdCache !== undefined) return this.buildIdCache ?? undefined;
    let id: string | undefined;
    const note = this.section('.note.gnu.build-id');
    const tryNotes = (data: Uint8Array, at: number): void => {
      if (id !== undefined) return;
      for (const n of parseNotes(data, this.path, at)) {
        if (n.name === 'GNU' && n.type === 3) {
          id = Buffer.from(n.desc).toString('hex');
          return;
        }
      }
    };
    if (note && note.type === SHT_NOTE) tryNotes(this.sectionData(note), note.offset);
    for (const ph of this.programHeaders) {
      if (id !== undefined || ph.type !== PT_NOTE || ph.filesz > 1 << 20) continue;
      if (ph.offset + ph.filesz > this.size)
        throw new BadDataError(`PT_NOTE segment runs past the end of the file`, this.path, ph.offset);
      tryNotes(this.pread(ph.offset, ph.filesz), ph.offset);
    }
    for (const s of this.sections) {
      if (id === undefined && s.type === SHT_NOTE && s.size <= 1 << 20) tryNotes(this.sectionData(s), s.offset);
    }
    this.buildIdCache = id ?? null;
    return id;
  }

  /** The .symtab (else .dynsym) as stored, undecoded; undefined when there is none. */
  rawSymbols(kind: 'symtab' | 'dynsym' | 'any' = 'any'): RawSymbols | undefined {
    const tab =
      kind === 'dynsym'
        ? this.sections.find((s) => s.type === SHT_DYNSYM)
        : (this.sections.find((s) => s.type === SHT_SYMTAB) ??
          (kind === 'any' ? this.sections.find((s) => s.type === SHT_DYNSYM) : undefined));
    return tab ? this.rawSymbolsOf(tab) : undefined;
  }

  private readonly rawSymCache = new Map<number, RawSymbols>();

  private rawSymbolsOf(tab: ElfSection): RawSymbols {
    const hit = this.rawSymCache.get(tab.index);
    if (hit) return hit;
    if (tab.entsize !== 24 && tab.entsize !== 0)
      throw new BadDataError(`${tab.name}: entry size ${tab.entsize}, Elf64_Sym is 24`, this.path, tab.offset);
    const strs = this.sections[tab.link];
    if (!strs || strs.type !== SHT_STRTAB)
      throw new BadDataError(`${tab.name}: sh_link ${tab.link} is not a string table`, this.path, tab.offset);
    let bytes = this.sectionData(tab, { raw: true });
    if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
    const count = Math.floor(bytes.length / 24);
    const strtab = this.sectionData(strs, { raw: true });
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, count * 6);
    for (let i = 0; i < count; i++) {
      const off = words[i * 6]!;
      if (off >= strtab.length && off !== 0)
        throw new BadDataError(
          `${tab.name}: symbol ${i}: name offset ${off} outside ${strs.name} (${strtab.length} bytes)`,
          this.path,
          tab.offset + i * 24,
        );
    }
    if (strtab.length > 0 && strtab[strtab.length - 1] !== 0)
      throw new BadDataError(`${strs.name} does not end with a NUL`, this.path, strs.offset + strs.size - 1);
    const r: RawSymbols = {
      section: tab,
      count,
      bytes,
      words,
      quads: new BigUint64Array(bytes.buffer, bytes.byteOffset, count * 3),
      strtab,
    };
    const xs = this.sections.find((s) => s.type === 18 && s.link === tab.index); // SHT_SYMTAB_SHNDX
    if (xs) {
      const xb = this.sectionData(xs, { raw: true }).slice();
      r.xindex = new Uint32Array(xb.buffer, 0, Math.min(count, xb.length >> 2));
    }
    this.rawSymCache.set(tab.index, r);
    return r;
  }

  /** Symbols of .symtab (or .dynsym when there is no .symtab), decoded. */
  symbols(kind: 'symtab' | 'dynsym' | 'any' = 'any'): ElfSymbol[] {
    const r = this.rawSymbols(kind);
    if (!r) return [];
    const out: ElfSymbol[] = new Array(r.count);
    for (let i = 0; i < r.count; i++) {
      const info = r.bytes[i * 24 + 4]!;
      let shndx = r.bytes[i * 24 + 6]! | (r.bytes[i * 24 + 7]! << 8);
      if (shndx === SHN_XINDEX && r.xindex) shndx = r.xindex[i] ?? shndx;
      out[i] = {
        name: cstring(r.strtab, r.words[i * 6]!),
        value: r.quads[i * 3 + 1]!,
        size: Number(r.quads[i * 3 + 2]!),
        type: info & 0xf,
        bind: info >> 4,
        shndx,
      };
    }
    return out;
  }

  /** Bytes of the file at a virtual address, through the PT_LOAD segments (undefined when not in the file). */
  readVirtual(address: bigint, length: number): Uint8Array | undefined {
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_LOAD || address < ph.vaddr) continue;
      const off = address - ph.vaddr;
      if (off + BigInt(length) > BigInt(ph.filesz)) continue;
      if (ph.offset + Number(off) + length > this.size) return undefined;
      return this.pread(ph.offset + Number(off), length);
    }
    return undefined;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

const latin1 = new TextDecoder('latin1');
/** The NUL-terminated string at `off` (to the end of the buffer when unterminated). */
export function cstring(buf: Uint8Array, off: number): string {
  if (off >= buf.length) return '';
  let end = buf.indexOf(0, off);
  if (end < 0) end = buf.length;
  return latin1.decode(buf.subarray(off, end));
}

/** The content size a zstd frame header declares, or undefined when it has none. */
function zstdContentSize(src: Uint8Array): number | undefined {
  if (src.length < 6) return undefined;
  const magic = (src[0]! | (src[1]! << 8) | (src[2]! << 16) | (src[3]! << 24)) >>> 0;
  if (magic !== 0xfd2fb528) return undefined;
  const d = src[4]!;
  const fcsFlag = d >> 6;
  const single = (d >> 5) & 1;
  const pos = 5 + (single ? 0 : 1) + [0, 1, 2, 4][d & 3]!;
  const fcsSize = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  if (fcsSize === 0 || pos + fcsSize > src.length) return undefined;
  let v = 0;
  for (let i = fcsSize - 1; i >= 0; i--) v = v * 256 + src[pos + i]!;
  return fcsSize === 2 ? v + 256 : v;
}
