/**
 * ELF64 files as tscrash reads them: the vmlinux (ET_EXEC, ~600 MB with DWARF),
 * modules (ET_REL). Headers, section headers and program headers come from a
 * few positioned reads; a section's bytes are read when first asked for and
 * kept, so opening a vmlinux never reads its 600 MB.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { parseNotes } from '../core/elf-notes.js';
import { BadDataError } from '../core/errors.js';

export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_COMPRESSED = 0x800;
const MAX_SECTIONS = 1 << 16;
const MAX_SECTION_BYTES = 2 ** 31;

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
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: number;
  /** STT_*: 0 notype, 1 object, 2 func, 3 section, 4 file, 6 tls. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
  shndx: number;
}

export class ElfFile {
  readonly type: number;
  readonly machine: number;
  readonly sections: ElfSection[] = [];
  readonly size: number;
  private fd: number;
  private readonly cache = new Map<number, Uint8Array>();

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
      const h = this.pread(0, 64);
      if (h.length < 64 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) {
        throw new BadDataError('not an ELF file', path, 0);
      }
      if (h[4] !== 2) throw new BadDataError('not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)', path, 4);
      if (h[5] !== 1) throw new BadDataError('big-endian ELF files are not supported', path, 5);
      const dv = new DataView(h.buffer, h.byteOffset, 64);
      this.type = dv.getUint16(16, true);
      this.machine = dv.getUint16(18, true);
      const shoff = Number(dv.getBigUint64(40, true));
      const shentsize = dv.getUint16(58, true);
      let shnum = dv.getUint16(60, true);
      let shstrndx = dv.getUint16(62, true);
      if (shoff === 0) return;
      if (shentsize < 64) throw new BadDataError(`e_shentsize ${shentsize} < 64`, path, 58);
      if (shnum === 0 || shstrndx === 0xffff) {
        // Extended numbering: the real values live in section header 0.
        const s0 = this.pread(shoff, 64);
        if (s0.length < 64) throw new BadDataError('section header 0 runs past the end of the file', path, shoff);
        const v0 = new DataView(s0.buffer, s0.byteOffset, 64);
        if (shnum === 0) shnum = Number(v0.getBigUint64(32, true));
        if (shstrndx === 0xffff) shstrndx = v0.getUint32(40, true);
      }
      if (shnum > MAX_SECTIONS || shoff + shnum * shentsize > this.size) {
        throw new BadDataError(
          `${shnum} section headers at 0x${shoff.toString(16)} run past the end of the file`,
          path,
          40,
        );
      }
      const sh = this.pread(shoff, shnum * shentsize);
      const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
      const nameOffsets: number[] = [];
      for (let i = 0; i < shnum; i++) {
        const o = i * shentsize;
        const sec: ElfSection = {
          index: i,
          name: '',
          type: sv.getUint32(o + 4, true),
          flags: Number(sv.getBigUint64(o + 8, true) & 0xffffffffn),
          addr: sv.getBigUint64(o + 16, true),
          offset: Number(sv.getBigUint64(o + 24, true)),
          size: Number(sv.getBigUint64(o + 32, true)),
          link: sv.getUint32(o + 40, true),
          info: sv.getUint32(o + 44, true),
          entsize: Number(sv.getBigUint64(o + 56, true)),
        };
        if (sec.type !== SHT_NOBITS && sec.size > 0 && sec.offset + sec.size > this.size) {
          throw new BadDataError(
            `section ${i} (${sec.size} bytes at 0x${sec.offset.toString(16)}) runs past the end of the file`,
            path,
            shoff + o,
          );
        }
        nameOffsets.push(sv.getUint32(o, true));
        this.sections.push(sec);
      }
      const strtab = this.sections[shstrndx];
      if (strtab) {
        const names = this.sectionData(strtab);
        this.sections.forEach((s, i) => {
          s.name = cstring(names, nameOffsets[i]!);
        });
      }
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  static open(path: string): ElfFile {
    return new ElfFile(path);
  }

  private pread(pos: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, b, done, len - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done === len ? b : b.subarray(0, done);
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** A section's bytes (decompressed when SHF_COMPRESSED with zlib), read once and kept. */
  sectionData(sec: ElfSection): Uint8Array {
    const hit = this.cache.get(sec.index);
    if (hit) return hit;
    if (sec.type === SHT_NOBITS) return new Uint8Array(0);
    if (sec.size > MAX_SECTION_BYTES)
      throw new BadDataError(`section ${sec.name} of ${sec.size} bytes is too large`, this.path, sec.offset);
    let data = this.pread(sec.offset, sec.size);
    if (data.length < sec.size)
      throw new BadDataError(`section ${sec.name} runs past the end of the file`, this.path, sec.offset);
    if (sec.flags & SHF_COMPRESSED) {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const chType = dv.getUint32(0, true);
      const chSize = Number(dv.getBigUint64(8, true));
      if (chType !== 1)
        throw new BadDataError(
          `section ${sec.name}: compression type ${chType} is not supported (zlib is)`,
          this.path,
          sec.offset,
        );
      if (chSize > MAX_SECTION_BYTES)
        throw new BadDataError(`section ${sec.name} claims ${chSize} bytes uncompressed`, this.path, sec.offset);
      try {
        data = inflateSync(data.subarray(24), { maxOutputLength: Math.max(chSize, 1) });
      } catch (e) {
        throw new BadDataError(`section ${sec.name}: ${(e as Error).message}`, this.path, sec.offset + 24);
      }
      if (data.length !== chSize)
        throw new BadDataError(
          `section ${sec.name}: ${data.length} bytes uncompressed, header says ${chSize}`,
          this.path,
          sec.offset,
        );
    }
    this.cache.set(sec.index, data);
    return data;
  }

  /** The GNU build-id, from the .note.gnu.build-id section (or any note section). */
  get buildId(): string | undefined {
    for (const s of this.sections) {
      if (s.type !== 7) continue; // SHT_NOTE
      for (const n of parseNotes(this.sectionData(s), this.path, s.offset)) {
        if (n.name === 'GNU' && n.type === 3) return Buffer.from(n.desc).toString('hex');
      }
    }
    return undefined;
  }

  /** Symbols of .symtab (or .dynsym when there is no .symtab). */
  symbols(): ElfSymbol[] {
    const tab = this.sections.find((s) => s.type === SHT_SYMTAB) ?? this.sections.find((s) => s.type === SHT_DYNSYM);
    if (!tab) return [];
    const strs = this.sections[tab.link];
    if (!strs)
      throw new BadDataError(`symbol table's string table index ${tab.link} does not exist`, this.path, tab.offset);
    const data = this.sectionData(tab);
    const names = this.sectionData(strs);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const count = Math.floor(data.length / 24);
    const out: ElfSymbol[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const o = i * 24;
      const info = data[o + 4]!;
      const nameOff = dv.getUint32(o, true);
      if (nameOff >= names.length && nameOff !== 0) {
        throw new BadDataError(
          `symbol ${i}: name offset ${nameOff} outside the string table`,
          this.path,
          tab.offset + o,
        );
      }
      out[i] = {
        name: cstring(names, nameOff),
        value: dv.getBigUint64(o + 8, true),
        size: Number(dv.getBigUint64(o + 16, true)),
        type: info & 0xf,
        bind: info >> 4,
        shndx: dv.getUint16(o + 6, true),
      };
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

const latin1 = new TextDecoder('latin1');
function cstring(buf: Uint8Array, off: number): string {
  if (off >= buf.length) return '';
  let end = buf.indexOf(0, off);
  if (end < 0) end = buf.length;
  return latin1.decode(buf.subarray(off, end));
}
