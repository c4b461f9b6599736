/**
 * @jazzer.js/fuzzer 4.0.0's prebuilt linux-x64 addon (libFuzzer + its Node binding) is linked against glibc 2.38 and
 * libstdc++ 3.4.32 (GCC 13), one version newer than Debian 12's (glibc 2.36, GCC 12): dlopen refuses it with
 * "version `GLIBC_2.38' not found". What it asks of the newer versions is small and has an old equivalent:
 *   - `__isoc23_strtol` / `__isoc23_strtoul` (C23's strtol, which differs only in accepting "0b" with base 0 or 2;
 *     libFuzzer parses its -flags with them): bound to the plain `strtol` / `strtoul` of GLIBC_2.2.5;
 *   - `std::ios_base_library_init()` (GCC 13's empty function an <iostream> user names so the library's stream
 *     initialisation is linked in; no relocation refers to it, Node's own libstdc++ initialises the streams).
 * This makes a copy of the addon with those needs rewritten in its dynamic tables (names and version references
 * only, no code changed) and returns its path; fuzz/preload.cjs makes the fuzzer load it. On a system whose glibc
 * has 2.38 the copy is still made: the plain functions behave the same for libFuzzer's flags.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFilePrivate } from '../core/private-file.js';

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;

/** Version needs rewritten: the version asked for, and the older one of the same library that stands for it. */
const VERSION_MAP: Record<string, string> = { 'GLIBC_2.38': 'GLIBC_2.2.5', 'GLIBCXX_3.4.32': 'GLIBCXX_3.4.30' };
/** Symbols of the rewritten versions, and what each becomes. */
const SYMBOL_MAP: Record<string, string> = {
  __isoc23_strtol: 'strtol',
  __isoc23_strtoul: 'strtoul',
  _ZSt21ios_base_library_initv: '_ZSt21ios_base_library_initv',
};

function elfHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) {
    h = ((h << 4) + name.charCodeAt(i)) >>> 0;
    const g = h & 0xf0000000;
    if (g) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

function cstr(buf: Buffer, off: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('latin1', off, end < 0 ? buf.length : end);
}

/** The rewritten addon's bytes (throws naming what it did not find where the 4.0.0 addon has it). */
export function patchAddon(orig: Buffer, name: string): Buffer {
  const b = Buffer.from(orig);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) throw new Error(`${name}: not an ELF64 LE file`);
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      info: b.readUInt32LE(o + 0x2c),
    });
  }
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) throw new Error(`${name}: no .dynsym, .gnu.version or .gnu.version_r`);
  const dynstr = sections[dynsym.link]!;
  // Version needs: per library, its versions by name (name offset, hash), and the entries to rewrite.
  const rewritten = new Set<number>(); // version indices whose name changed
  let vn = verneed.offset;
  for (let n = 0; n < verneed.info; n++) {
    const cnt = b.readUInt16LE(vn + 2);
    const byName = new Map<string, { nameOff: number; hash: number }>();
    const entries: { at: number; name: string; index: number }[] = [];
    let va = vn + b.readUInt32LE(vn + 8);
    for (let k = 0; k < cnt; k++) {
      const nameOff = b.readUInt32LE(va + 8);
      const vname = cstr(b, dynstr.offset + nameOff);
      byName.set(vname, { nameOff, hash: b.readUInt32LE(va) });
      entries.push({ at: va, name: vname, index: b.readUInt16LE(va + 6) });
      const next = b.readUInt32LE(va + 12);
      if (next === 0) break;
      va += next;
    }
    for (const e of entries) {
      const to = VERSION_MAP[e.name];
      if (!to) continue;
      const target = byName.get(to);
      if (!target) throw new Error(`${name}: needs ${e.name} but not ${to} of the same library`);
      if (target.hash !== elfHash(to)) throw new Error(`${name}: ${to}'s hash is not its ELF hash`);
      b.writeUInt32LE(target.hash, e.at);
      b.writeUInt32LE(target.nameOff, e.at + 8);
      rewritten.add(e.index);
    }
    const next = b.readUInt32LE(vn + 12);
    if (next === 0) break;
    vn += next;
  }
  // Symbols bound to a rewritten version: each must be one we know, renamed to its old equivalent (a suffix of the
  // name, so the string table is unchanged: "__isoc23_strtol" + 9 is "strtol").
  const count = dynsym.size / 24;
  for (let i = 0; i < count; i++) {
    const ver = b.readUInt16LE(versym.offset + i * 2) & 0x7fff;
    if (!rewritten.has(ver)) continue;
    const so = dynsym.offset + i * 24;
    const nameOff = b.readUInt32LE(so);
    const sname = cstr(b, dynstr.offset + nameOff);
    const to = SYMBOL_MAP[sname];
    if (to === undefined || !sname.endsWith(to))
      throw new Error(`${name}: unexpected symbol ${sname} of a newer version`);
    b.writeUInt32LE(nameOff + sname.length - to.length, so);
  }
  return b;
}

/** The path of the loadable copy of the platform's addon (made once per addon content, under dist/fuzz/). */
export function loadableAddon(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  const pkg = require.resolve('@jazzer.js/fuzzer/package.json');
  const orig = join(dirname(pkg), 'prebuilds', `fuzzer-${process.platform}-${process.arch}.node`);
  if (process.platform !== 'linux' || process.arch !== 'x64') return orig;
  const bytes = readFileSync(orig);
  const key = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const dir = join(root, 'dist', 'fuzz');
  const out = join(dir, `fuzzer-linux-x64-${key}.node`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    writeFilePrivate(out, patchAddon(bytes, orig));
  }
  return out;
}
