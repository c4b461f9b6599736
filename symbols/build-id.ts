/**
 * The GNU build-id of an ELF file (NT_GNU_BUILD_ID in a PT_NOTE segment or a
 * SHT_NOTE section), read with a few positioned reads: enough to match a
 * vmlinux to a dump (VMCOREINFO BUILD-ID) without loading it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseNotes } from '../core/elf-notes.js';
import { BadDataError } from '../core/errors.js';

const NT_GNU_BUILD_ID = 3;
const MAX_NOTE = 1 << 20;

export interface ElfIdentity {
  type: number; // ET_EXEC 2, ET_DYN 3, ET_REL 1, ET_CORE 4
  machine: number;
  buildId: string | undefined;
}

function pread(fd: number, len: number, pos: number): Uint8Array {
  const b = new Uint8Array(len);
  const n = readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

/** Is this an ELF64 file, and if so its type, machine and build-id; undefined when not ELF. */
export function elfIdentity(path: string): ElfIdentity | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const h = pread(fd, 64, 0);
    if (h.length < 64 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46 || h[4] !== 2 || h[5] !== 1) {
      return undefined;
    }
    const dv = new DataView(h.buffer, h.byteOffset, 64);
    const type = dv.getUint16(16, true);
    const machine = dv.getUint16(18, true);
    const notes: Uint8Array[] = [];
    const offsets: number[] = [];
    // Program headers first (a vmlinux has a PT_NOTE), then section headers.
    const phoff = Number(dv.getBigUint64(32, true));
    const phentsize = dv.getUint16(54, true);
    const phnum = dv.getUint16(56, true);
    if (phoff && phentsize >= 56 && phoff + phnum * phentsize <= size) {
      const ph = pread(fd, phnum * phentsize, phoff);
      const pv = new DataView(ph.buffer, ph.byteOffset, ph.byteLength);
      for (let i = 0; i < phnum; i++) {
        if (pv.getUint32(i * phentsize, true) !== 4) continue;
        const off = Number(pv.getBigUint64(i * phentsize + 8, true));
        const len = Number(pv.getBigUint64(i * phentsize + 32, true));
        if (len <= MAX_NOTE && off + len <= size) {
          notes.push(pread(fd, len, off));
          offsets.push(off);
        }
      }
    }
    if (notes.length === 0) {
      const shoff = Number(dv.getBigUint64(40, true));
      const shentsize = dv.getUint16(58, true);
      const shnum = dv.getUint16(60, true);
      if (shoff && shentsize >= 64 && shoff + shnum * shentsize <= size) {
        const sh = pread(fd, shnum * shentsize, shoff);
        const sv = new DataView(sh.buffer, sh.byteOffset, sh.byteLength);
        for (let i = 0; i < shnum; i++) {
          if (sv.getUint32(i * shentsize + 4, true) !== 7) continue; // SHT_NOTE
          const off = Number(sv.getBigUint64(i * shentsize + 24, true));
          const len = Number(sv.getBigUint64(i * shentsize + 32, true));
          if (len <= MAX_NOTE && off + len <= size) {
            notes.push(pread(fd, len, off));
            offsets.push(off);
          }
        }
      }
    }
    let buildId: string | undefined;
    notes.forEach((n, i) => {
      for (const note of parseNotes(n, path, offsets[i]!)) {
        if (note.name === 'GNU' && note.type === NT_GNU_BUILD_ID && buildId === undefined) {
          buildId = Buffer.from(note.desc).toString('hex');
        }
      }
    });
    return { type, machine, buildId };
  } catch (e) {
    if (e instanceof BadDataError) throw e;
    throw new BadDataError(`cannot read ELF headers: ${(e as Error).message}`, path, 0);
  } finally {
    closeSync(fd);
  }
}
