/**
 * The kernel's symbol table: name → address and address → name+offset, with the
 * KASLR offset applied to kernel-image symbols (as crash relocates them), and the
 * nm / System.map type letters crash's `sym` prints.
 *
 * Built straight from the ELF .symtab bytes without decoding a string per
 * symbol: symbols sorted by address in typed arrays (hi/lo u32 halves), names
 * found through an open-addressing hash table over the string-table bytes.
 * The core is shared: `relocate(offset)` gives a view with another KASLR
 * offset for free. Module symbols read from memory are added per view with
 * `addSymbols(list, module)`.
 */
import { join } from 'node:path';
import { loadCache, saveCache } from './cache-file.js';
import {
  type ElfFile,
  type ElfSection,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
} from './elf.js';

const START_KERNEL_MAP = 0xffffffff80000000n;
const MASK64 = (1n << 64n) - 1n;
const STT_OBJECT = 1;
const STT_SECTION = 3;
const STT_FILE = 4;
const STB_LOCAL = 0;
const STB_WEAK = 2;
const STB_GNU_UNIQUE = 10;

export interface SymbolEntry {
  /** The name as crash shows it (a ".isra." / ".part." / ".llvm." suffix cut off). */
  name: string;
  /** The ELF name, when the suffix was cut. */
  elfName?: string;
  address: bigint;
  size: number;
  /** System.map letter: T t D d B b R r A a W w V v (lower case: local). */
  letter: string;
  /** Module name for module symbols (added from memory). */
  module?: string;
}

/** A module symbol as read from memory (kallsyms of struct module). */
export interface ModuleSymbolInput {
  name: string;
  address: bigint;
  size?: number;
  /** nm letter (kallsyms keeps it); default 't'. */
  letter?: string;
}

/** nm's letter class of a section, before binding decides the case. */
function sectionClass(sec: ElfSection | undefined): string {
  if (!sec) return '?';
  if (sec.flags & SHF_EXECINSTR) return 't';
  if (!(sec.flags & SHF_ALLOC)) return sec.name.startsWith('.debug') ? 'N' : 'n';
  if (sec.type === SHT_NOBITS) return 'b';
  if (sec.flags & SHF_WRITE) return 'd';
  return 'r';
}

/** The letter of one symbol, as nm prints it (and System.map keeps it). */
export function letterFor(bind: number, type: number, shndx: number, sec: ElfSection | undefined): string {
  if (shndx === SHN_UNDEF) return bind === STB_WEAK ? (type === STT_OBJECT ? 'v' : 'w') : 'U';
  if (shndx === SHN_COMMON) return 'C';
  if (bind === STB_WEAK) return type === STT_OBJECT ? 'V' : 'W';
  if (bind === STB_GNU_UNIQUE) return 'u';
  const c = shndx === SHN_ABS ? 'a' : sectionClass(sec);
  return bind === STB_LOCAL ? c : c.toUpperCase();
}

function isGlobalLetter(l: string): boolean {
  return l !== l.toLowerCase() || l === 'u';
}

/** ".isra.", ".part.", ".llvm." after the dot, as bytes. */
const STRIP = [
  [0x69, 0x73, 0x72, 0x61, 0x2e],
  [0x70, 0x61, 0x72, 0x74, 0x2e],
  [0x6c, 0x6c, 0x76, 0x6d, 0x2e],
];

/** Where crash cuts a name: at the first ".isra.", else ".part.", else ".llvm." (checked in that order). */
function strippedEnd(buf: Uint8Array, start: number, end: number): number {
  let best = end;
  let bestRank = STRIP.length;
  for (let dot = start; dot + 5 < end; dot++) {
    if (buf[dot] !== 0x2e) continue;
    for (let k = 0; k < bestRank; k++) {
      const pat = STRIP[k]!;
      if (
        buf[dot + 1] === pat[0] &&
        buf[dot + 2] === pat[1] &&
        buf[dot + 3] === pat[2] &&
        buf[dot + 4] === pat[3] &&
        buf[dot + 5] === pat[4]
      ) {
        best = dot;
        bestRank = k;
        break;
      }
    }
    if (bestRank === 0) break;
  }
  return best;
}

/** FNV-1a over bytes [start, end). */
function fnv(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** The vmlinux part of a table, shared by every relocated view. */
class Core {
  readonly n: number;
  readonly strtab: Uint8Array;
  readonly nameStart: Uint32Array;
  /** End of the name as shown: before a ".isra." / ".part." / ".llvm." compiler suffix, as crash strips it. */
  readonly nameEnd: Uint32Array;
  /** End of the name as the ELF file has it. */
  readonly rawEnd: Uint32Array;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly size: Float64Array;
  readonly letter: string[] = [];
  readonly letterGlobal: boolean[] = [];
  readonly letterOf: Uint8Array;
  readonly kind: Uint8Array; // STT type
  /** 1 when the symbol moves with KASLR (kernel-image address). */
  readonly moves: Uint8Array;
  /** Indices sorted by address, image symbols and fixed (absolute, per-cpu) ones apart. */
  image: Uint32Array;
  readonly fixed: Uint32Array;
  readonly imageEnd: bigint;
  readonly fixedEnd: bigint;
  private readonly table: Int32Array;
  private readonly hash: Uint32Array;
  private readonly nextSame: Int32Array;
  private byName?: Uint32Array;

  /** The decoded table as the cache stores it (every field: typed arrays, the letters, the bounds). */
  toStored(): Record<string, unknown> {
    return { ...(this as unknown as Record<string, unknown>) };
  }

  /** A table from its stored form (fields checked for their types and lengths). */
  static fromStored(v: Record<string, unknown>): Core | undefined {
    const c = Object.create(Core.prototype) as Core;
    const n = v.n;
    if (typeof n !== 'number' || !(v.strtab instanceof Uint8Array)) return undefined;
    const arrays: [string, abstract new (...a: never[]) => unknown, number][] = [
      ['nameStart', Uint32Array, n],
      ['nameEnd', Uint32Array, n],
      ['rawEnd', Uint32Array, n],
      ['hi', Uint32Array, n],
      ['lo', Uint32Array, n],
      ['size', Float64Array, n],
      ['letterOf', Uint8Array, n],
      ['kind', Uint8Array, n],
      ['moves', Uint8Array, n],
      ['hash', Uint32Array, n],
      ['nextSame', Int32Array, n],
    ];
    for (const [k, T, len] of arrays) {
      const a = v[k];
      if (!(a instanceof T) || (a as { length: number }).length !== len) return undefined;
    }
    for (const [k, T] of [
      ['image', Uint32Array],
      ['fixed', Uint32Array],
      ['table', Int32Array],
    ] as [string, abstract new (...a: never[]) => unknown][])
      if (!(v[k] instanceof T)) return undefined;
    if (typeof v.imageEnd !== 'bigint' || typeof v.fixedEnd !== 'bigint' || !Array.isArray(v.letter)) return undefined;
    const maxName = (v.strtab as Uint8Array).length;
    for (const order of [v.image as Uint32Array, v.fixed as Uint32Array])
      for (let k = 0; k < order.length; k++) if (order[k]! >= n) return undefined;
    const rawEnd = v.rawEnd as Uint32Array;
    for (let j = 0; j < n; j++) if (rawEnd[j]! > maxName) return undefined;
    Object.assign(c, v);
    return c;
  }

  constructor(elf: ElfFile | undefined) {
    const raw = elf?.rawSymbols('any');
    // Section symbols are named by their section (as BFD, and so crash, name them): append the
    // section names to the string table so every name is a byte range of one buffer.
    const baseStr = raw?.strtab ?? new Uint8Array(1);
    const sections = elf?.sections ?? [];
    const secName = new Uint32Array(sections.length);
    const extra: number[] = [];
    for (const sec of sections) {
      if (!sec.name || !(sec.flags & SHF_ALLOC)) continue;
      secName[sec.index] = baseStr.length + extra.length;
      for (let i = 0; i < sec.name.length; i++) extra.push(sec.name.charCodeAt(i) & 0xff);
      extra.push(0);
    }
    let strtab = baseStr;
    if (extra.length) {
      strtab = new Uint8Array(baseStr.length + extra.length);
      strtab.set(baseStr);
      strtab.set(extra, baseStr.length);
    }
    this.strtab = strtab;
    const nameOf = new Uint32Array(raw?.count ?? 0);
    const count = raw?.count ?? 0;
    const keep = new Uint32Array(count);
    let n = 0;
    const letterIds = new Map<string, number>();
    const comboIds = new Map<number, number>();
    const letterOf = new Uint8Array(count);
    for (let i = 1; i < count; i++) {
      const b = raw!.bytes;
      const info = b[i * 24 + 4]!;
      const type = info & 0xf;
      let shndx = b[i * 24 + 6]! | (b[i * 24 + 7]! << 8);
      if (shndx === SHN_XINDEX && raw!.xindex) shndx = raw!.xindex[i] ?? shndx;
      let nameOff = raw!.words[i * 6]!;
      if (type === STT_SECTION && shndx < secName.length && secName[shndx]) nameOff = secName[shndx]!;
      else if (type === STT_SECTION) continue;
      if (type === STT_FILE || shndx === SHN_UNDEF || strtab[nameOff] === 0) continue;
      nameOf[n] = nameOff;
      // The letter depends only on (section, binding, object-or-not): decide each combination once.
      const combo = shndx * 32 + (info >> 4) * 2 + (type === STT_OBJECT ? 1 : 0);
      let id = comboIds.get(combo);
      if (id === undefined) {
        const l = letterFor(info >> 4, type, shndx, sections[shndx]);
        id = letterIds.get(l);
        if (id === undefined) {
          id = letterIds.size;
          letterIds.set(l, id);
          this.letter.push(l);
          this.letterGlobal.push(isGlobalLetter(l));
        }
        comboIds.set(combo, id);
      }
      letterOf[n] = id;
      keep[n++] = i;
    }
    this.n = n;
    this.letterOf = letterOf.slice(0, n);
    const nameStart = new Uint32Array(n);
    this.nameStart = nameStart;
    const nameEnd = new Uint32Array(n);
    this.nameEnd = nameEnd;
    const rawEnd = new Uint32Array(n);
    this.rawEnd = rawEnd;
    const hi = new Uint32Array(n);
    this.hi = hi;
    const lo = new Uint32Array(n);
    this.lo = lo;
    const size = new Float64Array(n);
    this.size = size;
    const kind = new Uint8Array(n);
    this.kind = kind;
    const moves = new Uint8Array(n);
    this.moves = moves;
    // The span of the image's allocated sections (low 32 bits; all above __START_KERNEL_map).
    let imageLo = 0xffffffff;
    let imageHi = 0;
    for (const sec of sections) {
      if (!(sec.flags & SHF_ALLOC) || sec.addr < START_KERNEL_MAP || sec.addr > 0xffffffffffffffffn) continue;
      const a = Number(sec.addr & 0xffffffffn);
      imageLo = Math.min(imageLo, a);
      imageHi = Math.max(imageHi, Math.min(a + sec.size, 0xffffffff));
    }
    let nImage = 0;
    const w = raw?.words ?? new Uint32Array(0);
    const bytes = raw?.bytes ?? new Uint8Array(0);
    for (let j = 0; j < n; j++) {
      const i = keep[j]!;
      const start = nameOf[j]!;
      let end = strtab.indexOf(0, start);
      if (end < 0) end = strtab.length;
      nameStart[j] = start;
      rawEnd[j] = end;
      nameEnd[j] = strippedEnd(strtab, start, end);
      const vlo = w[i * 6 + 2]!;
      const vhi = w[i * 6 + 3]!;
      lo[j] = vlo;
      hi[j] = vhi;
      // Sizes past 2^32 are nonsense for a symbol; treat as unknown.
      size[j] = w[i * 6 + 5] === 0 ? w[i * 6 + 4]! : 0;
      kind[j] = bytes[i * 24 + 4]! & 0xf;
      const shndx = bytes[i * 24 + 6]! | (bytes[i * 24 + 7]! << 8);
      // Kernel-image symbols move with KASLR: those in a section of the image, and (as crash decides)
      // absolute ones whose value lies within the image's sections (init_per_cpu__*). Per-cpu
      // offsets and other absolute values do not.
      const inImage = vhi === 0xffffffff && vlo >= 0x80000000;
      if (inImage && (shndx !== SHN_ABS || (vlo >= imageLo && vlo <= imageHi))) {
        moves[j] = 1;
        nImage++;
      }
    }
    this.image = new Uint32Array(nImage);
    this.fixed = new Uint32Array(n - nImage);
    for (let j = 0, a = 0, b = 0; j < n; j++) {
      if (moves[j]) this.image[a++] = j;
      else this.fixed[b++] = j;
    }
    // Sorted by address, then by name (crash's order: an exact address names the first alias,
    // an address inside names the last one), then symbol order.
    const byName = (a: number, b: number): number => {
      let i = nameStart[a]!;
      let k = nameStart[b]!;
      const ie = rawEnd[a]!;
      const ke = rawEnd[b]!;
      for (; i < ie && k < ke; i++, k++) if (strtab[i] !== strtab[k]) return strtab[i]! - strtab[k]!;
      return ie - i - (ke - k) || a - b;
    };
    const cmp = (a: number, b: number): number => hi[a]! - hi[b]! || lo[a]! - lo[b]! || byName(a, b);
    if (n < 1 << 21) {
      // Image addresses are below 2^31 past __START_KERNEL_map: pack (offset, index) into one exact
      // float (31 + 21 bits) for the native sort, then order each run of aliases by name.
      const keys = new Float64Array(nImage);
      for (let a = 0; a < nImage; a++) {
        const j = this.image[a]!;
        keys[a] = (lo[j]! - 0x80000000) * 2097152 + j;
      }
      keys.sort();
      const img = this.image;
      for (let a = 0; a < nImage; a++) img[a] = keys[a]! % 2097152;
      for (let a = 0; a < nImage; ) {
        let b = a + 1;
        while (b < nImage && lo[img[b]!] === lo[img[a]!]) b++;
        if (b - a > 1) img.subarray(a, b).sort(byName);
        a = b;
      }
    } else {
      this.image.sort(cmp);
    }
    this.fixed.sort(cmp);
    // Like crash, the kernel's address space starts at the first of _text/_stext in this order:
    // what sorts before it (the .text section symbol, say) names no address.
    const isStart = (j: number): boolean => {
      const st = nameStart[j]!;
      const len = rawEnd[j]! - st;
      // "_text" or "_stext"
      if (len === 5)
        return (
          strtab[st] === 0x5f &&
          strtab[st + 1] === 0x74 &&
          strtab[st + 2] === 0x65 &&
          strtab[st + 3] === 0x78 &&
          strtab[st + 4] === 0x74
        );
      if (len === 6)
        return (
          strtab[st] === 0x5f &&
          strtab[st + 1] === 0x73 &&
          strtab[st + 2] === 0x74 &&
          strtab[st + 3] === 0x65 &&
          strtab[st + 4] === 0x78 &&
          strtab[st + 5] === 0x74
        );
      return false;
    };
    let startAt = 0;
    while (startAt < this.image.length && !isStart(this.image[startAt]!)) startAt++;
    if (startAt < this.image.length && startAt > 0) this.image = this.image.slice(startAt);
    // Addresses past the last symbol are not kernel-image addresses (crash: "invalid address").
    const last = this.image.length ? this.image[this.image.length - 1]! : -1;
    this.imageEnd = last < 0 ? 0n : START_KERNEL_MAP + BigInt(lo[last]! - 0x80000000 + 1);
    this.fixedEnd = this.maxEnd(this.fixed);

    // Name hash table: chains of equal names through nextSame.
    let cap = 16;
    while (cap < n * 2) cap <<= 1;
    const table = new Int32Array(cap).fill(-1);
    const hash = new Uint32Array(n);
    const nextSame = new Int32Array(n).fill(-1);
    this.table = table;
    this.hash = hash;
    this.nextSame = nextSame;
    const mask = cap - 1;
    for (let j = 0; j < n; j++) {
      const h = fnv(strtab, nameStart[j]!, nameEnd[j]!);
      hash[j] = h;
      let slot = h & mask;
      for (;;) {
        const k = table[slot]!;
        if (k < 0) {
          table[slot] = j;
          break;
        }
        if (hash[k] === h && this.sameName(k, j)) {
          nextSame[j] = nextSame[k]!;
          nextSame[k] = j;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }

  private maxEnd(order: Uint32Array): bigint {
    let end = 0n;
    for (const j of order) {
      const e = this.value(j) + BigInt(Math.max(this.size[j]!, 1));
      if (e > end) end = e;
    }
    return end;
  }

  value(j: number): bigint {
    return (BigInt(this.hi[j]!) << 32n) | BigInt(this.lo[j]!);
  }

  name(j: number): string {
    return latin1.decode(this.strtab.subarray(this.nameStart[j]!, this.nameEnd[j]!));
  }

  rawName(j: number): string {
    return latin1.decode(this.strtab.subarray(this.nameStart[j]!, this.rawEnd[j]!));
  }

  letterAt(j: number): string {
    return this.letter[this.letterOf[j]!]!;
  }

  private sameName(a: number, b: number): boolean {
    const s = this.strtab;
    const as = this.nameStart[a]!;
    const bs = this.nameStart[b]!;
    const len = this.nameEnd[a]! - as;
    if (len !== this.nameEnd[b]! - bs) return false;
    for (let i = 0; i < len; i++) if (s[as + i] !== s[bs + i]) return false;
    return true;
  }

  /** Indices of every symbol with this name. */
  find(name: string): number[] {
    const key = Buffer.from(name, 'latin1');
    const h = fnv(key, 0, key.length);
    const mask = this.table.length - 1;
    let slot = h & mask;
    for (;;) {
      const k = this.table[slot]!;
      if (k < 0) return [];
      if (this.hash[k] === h && this.nameEnd[k]! - this.nameStart[k]! === key.length) {
        const st = this.nameStart[k]!;
        let eq = true;
        for (let i = 0; i < key.length; i++) {
          if (this.strtab[st + i] !== key[i]) {
            eq = false;
            break;
          }
        }
        if (eq) {
          const out: number[] = [];
          for (let j = k; j >= 0; j = this.nextSame[j]!) out.push(j);
          return out;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Position in `order` of the last symbol at or below `v` (hi/lo), or -1. */
  floor(order: Uint32Array, v: bigint): number {
    const vh = Number(v >> 32n);
    const vl = Number(v & 0xffffffffn);
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const j = order[mid]!;
      const h = this.hi[j]!;
      if (h < vh || (h === vh && this.lo[j]! <= vl)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Indices sorted by name bytes (built on first use, for completion). */
  sortedByName(): Uint32Array {
    if (this.byName) return this.byName;
    const s = this.strtab;
    const order = new Uint32Array(this.n);
    for (let j = 0; j < this.n; j++) order[j] = j;
    order.sort((a, b) => {
      let i = this.nameStart[a]!;
      let k = this.nameStart[b]!;
      const ie = this.nameEnd[a]!;
      const ke = this.nameEnd[b]!;
      for (; i < ie && k < ke; i++, k++) if (s[i] !== s[k]) return s[i]! - s[k]!;
      return ie - i - (ke - k);
    });
    this.byName = order;
    return order;
  }

  /** Compare a symbol's name with a prefix: <0, 0 (starts with it), >0. */
  comparePrefix(j: number, prefix: Uint8Array): number {
    const s = this.strtab;
    const st = this.nameStart[j]!;
    const len = this.nameEnd[j]! - st;
    for (let i = 0; i < prefix.length; i++) {
      if (i >= len) return -1;
      const d = s[st + i]! - prefix[i]!;
      if (d !== 0) return d;
    }
    return 0;
  }
}

const latin1 = new TextDecoder('latin1');

/** Bump when Core's fields change. */
const SYMTAB_CACHE = { magic: 'TSCRASH-SYMTAB', format: 1, deflate: false };

interface ModuleSym extends SymbolEntry {
  module: string;
}

/** The dump's own kallsyms (program/kallsyms.ts): names as one latin1 byte buffer, the rest in typed arrays. */
export interface KernelSymbolArrays {
  n: number;
  /** The names, back to back; symbol i's is names[nameStart[i], nameStart[i + 1]). */
  names: Uint8Array;
  nameStart: Uint32Array;
  /** The type letter's character code. */
  letter: Uint8Array;
  address: BigUint64Array;
}

/**
 * The indices of 64-bit addresses in (address, index) order, without a BigInt a comparison: addresses grouped
 * by their high 32 bits (a handful of values: the kernel image, per-cpu offsets), each group's (low 32 bits,
 * index) packed exactly into one float (32 + 21 bits) for the native sort; past 2^21 entries, a comparison sort.
 */
export function addressOrder(address: BigUint64Array): Uint32Array {
  const n = address.length;
  const w = new Uint32Array(address.buffer, address.byteOffset, n * 2);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n >= 1 << 21) {
    order.sort((x, y) => w[x * 2 + 1]! - w[y * 2 + 1]! || w[x * 2]! - w[y * 2]! || x - y);
    return order;
  }
  const his = [...new Set(Array.from({ length: n }, (_, i) => w[i * 2 + 1]!))].sort((a, b) => a - b);
  let at = 0;
  for (const hi of his) {
    let count = 0;
    for (let i = 0; i < n; i++) if (w[i * 2 + 1] === hi) count++;
    const keys = new Float64Array(count);
    for (let i = 0, k = 0; i < n; i++) if (w[i * 2 + 1] === hi) keys[k++] = w[i * 2]! * 2097152 + i;
    keys.sort();
    for (let k = 0; k < count; k++) order[at++] = keys[k]! % 2097152;
  }
  return order;
}

/**
 * Each symbol's size as kallsyms implies it: the distance to the next higher address (`order`: addressOrder's),
 * at most 16 MiB; 0 for the last. In 32-bit halves: no BigInt a symbol.
 */
export function sizesToNext(address: BigUint64Array, order: Uint32Array): Float64Array {
  const n = address.length;
  const w = new Uint32Array(address.buffer, address.byteOffset, n * 2);
  const size = new Float64Array(n);
  for (let k = 0, j = 0; k < n; k++) {
    const i = order[k]!;
    if (j <= k) j = k + 1;
    while (j < n && w[order[j]! * 2] === w[i * 2] && w[order[j]! * 2 + 1] === w[i * 2 + 1]) j++;
    if (j < n) {
      const o = order[j]!;
      const hi = w[o * 2 + 1]! - w[i * 2 + 1]!;
      size[i] = hi > 1 ? 1 << 24 : Math.min(hi * 4294967296 + w[o * 2]! - w[i * 2]!, 1 << 24);
    }
  }
  return size;
}

function hashBytes(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Kernel symbols that come from no file (the dump's kallsyms), kept as typed arrays: about 40 bytes a symbol
 * instead of an object, a string and a map entry each. Nothing is built until asked: the names' open-addressing
 * hash table on the first lookup by name (the symbols of one name in kallsyms order), the (address, name)
 * order and the sizes (the distance to the next higher address) on the first lookup by address. They act as
 * the symbols of a module named '' (lookups, naming addresses, completion), as ModuleSym entries did.
 */
class KernelSyms {
  readonly n: number;
  private readonly a: KernelSymbolArrays;
  /** The addresses' 32-bit halves (lo, hi), so that comparisons make no BigInt. */
  private readonly w: Uint32Array;
  private table: Int32Array | undefined;
  private nextSame: Int32Array | undefined;
  /** Kallsyms indices in (address, name) order, named symbols only; sizes in kallsyms order. */
  private sorted: Uint32Array | undefined;
  private sizes: Float64Array | undefined;
  private scans = 0;

  /** How many have a name (the others are not kept as symbols). */
  readonly named: number;

  constructor(a: KernelSymbolArrays) {
    this.n = a.n;
    this.a = a;
    this.w = new Uint32Array(a.address.buffer, a.address.byteOffset, a.n * 2);
    let named = 0;
    for (let i = 0; i < a.n; i++) if (a.nameStart[i + 1] !== a.nameStart[i]) named++;
    this.named = named;
  }

  private empty(i: number): boolean {
    return this.a.nameStart[i + 1] === this.a.nameStart[i];
  }

  isEmpty(i: number): boolean {
    return this.empty(i);
  }

  private cmpName(x: number, y: number): number {
    const { names, nameStart } = this.a;
    let i = nameStart[x]!;
    let k = nameStart[y]!;
    const ie = nameStart[x + 1]!;
    const ke = nameStart[y + 1]!;
    for (; i < ie && k < ke; i++, k++) if (names[i] !== names[k]) return names[i]! - names[k]!;
    return ie - i - (ke - k);
  }

  /** The (address, name) order of the named symbols, and every symbol's size. */
  private order(): Uint32Array {
    if (this.sorted) return this.sorted;
    const n = this.n;
    const w = this.w;
    const byAddress = addressOrder(this.a.address);
    const size = sizesToNext(this.a.address, byAddress);
    this.sizes = size;
    let m = 0;
    for (let k = 0; k < n; k++) if (!this.empty(byAddress[k]!)) byAddress[m++] = byAddress[k]!;
    const order = byAddress.subarray(0, m);
    const same = (x: number, y: number): boolean => w[x * 2] === w[y * 2] && w[x * 2 + 1] === w[y * 2 + 1];
    for (let k = 0; k < m; ) {
      let e = k + 1;
      while (e < m && same(order[k]!, order[e]!)) e++;
      if (e - k > 1) order.subarray(k, e).sort((x, y) => this.cmpName(x, y) || x - y);
      k = e;
    }
    this.sorted = order;
    return order;
  }

  /** Symbol i's size: the distance to the next higher address (one scan when the order is not made yet). */
  private size(i: number): number {
    // A few lookups scan; past that, the order (and every size) is made once.
    if (!this.sizes && ++this.scans > 32) this.order();
    if (this.sizes) return this.sizes[i]!;
    const w = this.w;
    const hi = w[i * 2 + 1]!;
    const lo = w[i * 2]!;
    let best = -1;
    for (let k = 0; k < this.n; k++) {
      const h = w[k * 2 + 1]!;
      const l = w[k * 2]!;
      if (h < hi || (h === hi && l <= lo)) continue;
      if (best < 0 || h < w[best * 2 + 1]! || (h === w[best * 2 + 1]! && l < w[best * 2]!)) best = k;
    }
    if (best < 0) return 0;
    const dh = w[best * 2 + 1]! - hi;
    return dh > 1 ? 1 << 24 : Math.min(dh * 4294967296 + w[best * 2]! - lo, 1 << 24);
  }

  private buildTable(): Int32Array {
    if (this.table) return this.table;
    const { names, nameStart } = this.a;
    let cap = 1;
    while (cap < this.n * 2) cap <<= 1;
    const table = new Int32Array(cap).fill(-1);
    const nextSame = new Int32Array(this.n).fill(-1);
    const last = new Int32Array(this.n).fill(-1);
    for (let k = 0; k < this.n; k++) {
      if (this.empty(k)) continue;
      let h = hashBytes(names, nameStart[k]!, nameStart[k + 1]!) & (cap - 1);
      for (;;) {
        const head = table[h]!;
        if (head < 0) {
          table[h] = k;
          last[k] = k;
          break;
        }
        if (this.cmpName(head, k) === 0) {
          nextSame[last[head]!] = k;
          last[head] = k;
          break;
        }
        h = (h + 1) & (cap - 1);
      }
    }
    this.nextSame = nextSame;
    this.table = table;
    return table;
  }

  name(k: number): string {
    const { names, nameStart } = this.a;
    return Buffer.from(names.buffer, names.byteOffset + nameStart[k]!, nameStart[k + 1]! - nameStart[k]!).toString(
      'latin1',
    );
  }

  address(k: number): bigint {
    return this.a.address[k]!;
  }

  entry(k: number): ModuleSym {
    // The size is worked out when it is read (most lookups want only the address).
    const syms = this;
    let size: number | undefined;
    return {
      name: this.name(k),
      address: this.a.address[k]!,
      get size(): number {
        size ??= syms.size(k);
        return size;
      },
      set size(v: number) {
        size = v;
      },
      letter: String.fromCharCode(this.a.letter[k]!),
      module: '',
    };
  }

  /** The symbols of this name, in kallsyms order. */
  find(name: string): number[] {
    const table = this.buildTable();
    const { names, nameStart } = this.a;
    const key = Buffer.from(name, 'latin1');
    const cap = table.length;
    let h = hashBytes(key, 0, key.length) & (cap - 1);
    for (;;) {
      const head = table[h]!;
      if (head < 0) return [];
      const len = nameStart[head + 1]! - nameStart[head]!;
      let same = len === key.length;
      for (let i = 0; same && i < len; i++) same = names[nameStart[head]! + i] === key[i];
      if (same) {
        const out: number[] = [];
        for (let k = head; k >= 0; k = this.nextSame![k]!) out.push(k);
        return out;
      }
      h = (h + 1) & (cap - 1);
    }
  }

  /** How many named symbols there are in address order (positions for `at` and `floor`). */
  get sortedCount(): number {
    return this.order().length;
  }

  /** The kallsyms index at a position of the (address, name) order. */
  at(pos: number): number {
    return this.order()[pos]!;
  }

  /** The position of the last symbol at or below the address; -1 when none. */
  floor(address: bigint): number {
    const order = this.order();
    const qlo = Number(address & 0xffffffffn);
    const qhi = Number(address >> 32n);
    const w = this.w;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const i = order[mid]!;
      const h = w[i * 2 + 1]!;
      if (h < qhi || (h === qhi && w[i * 2]! <= qlo)) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** Whether symbol k's name starts with the prefix's bytes. */
  startsWith(k: number, prefix: Uint8Array): boolean {
    const { names, nameStart } = this.a;
    if (nameStart[k + 1]! - nameStart[k]! < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (names[nameStart[k]! + i] !== prefix[i]) return false;
    return true;
  }
}

export class SymbolTable {
  private modules: ModuleSym[] = [];
  /** The dump's kallsyms, when the table was made from them (fromKernelArrays): a module named '' in effect. */
  private kernel: KernelSyms | undefined;
  private modulesSorted = true;
  private readonly moduleNames = new Map<string, ModuleSym[]>();

  private constructor(
    private readonly core: Core,
    /** The KASLR offset added to kernel-image symbols. */
    readonly kaslrOffset: bigint,
  ) {}

  /**
   * From a vmlinux's .symtab (or .dynsym), relocated by the KASLR offset. With `cacheDir`, the decoded table is
   * kept there, keyed by the file's build-id and symbol table size (symbols/cache-file.ts): decoding a vmlinux's
   * 120,000 symbols takes about 70 ms, reading them back about 10.
   */
  static fromElf(elf: ElfFile, kaslrOffset = 0n, opts: { cacheDir?: string } = {}): SymbolTable {
    const id = elf.buildId;
    const tab = elf.section('.symtab') ?? elf.section('.dynsym');
    if (opts.cacheDir === undefined || !id || !tab) return new SymbolTable(new Core(elf), kaslrOffset);
    const path = join(opts.cacheDir, `${id}-${tab.size}.sym`);
    const stored = loadCache(path, SYMTAB_CACHE) as Record<string, unknown> | undefined;
    const cached =
      stored && stored.buildId === id ? Core.fromStored(stored.core as Record<string, unknown>) : undefined;
    if (cached) return new SymbolTable(cached, kaslrOffset);
    const core = new Core(elf);
    saveCache(path, SYMTAB_CACHE, { buildId: id, core: core.toStored() });
    return new SymbolTable(core, kaslrOffset);
  }

  /**
   * Kernel symbols that come from no file: the dump's own kallsyms (when there is no vmlinux), at their
   * run-time addresses. They are named without a module.
   */
  static fromKernelSymbols(list: Iterable<ModuleSymbolInput>): SymbolTable {
    const t = new SymbolTable(new Core(undefined), 0n);
    t.addSymbols(list, '');
    return t;
  }

  /** The same from the compact arrays program/kallsyms.ts reads (what a session keeps: ~40 bytes a symbol). */
  static fromKernelArrays(a: KernelSymbolArrays): SymbolTable {
    const t = new SymbolTable(new Core(undefined), 0n);
    t.kernel = new KernelSyms(a);
    return t;
  }

  /** The same vmlinux symbols with another KASLR offset (shares the decoded table; no module symbols). */
  relocate(offset: bigint): SymbolTable {
    return new SymbolTable(this.core, offset);
  }

  /** Number of vmlinux symbols plus module symbols. */
  get size(): number {
    return this.core.n + (this.kernel?.named ?? 0) + this.modules.length;
  }

  private entry(j: number): SymbolEntry {
    const c = this.core;
    const v = c.value(j);
    const e: SymbolEntry = {
      name: c.name(j),
      address: c.moves[j] ? (v + this.kaslrOffset) & MASK64 : v,
      size: c.size[j]!,
      letter: c.letterAt(j),
    };
    if (c.rawEnd[j] !== c.nameEnd[j]) e.elfName = c.rawName(j);
    return e;
  }

  /**
   * Add symbols of a loaded module (read from its kallsyms in memory), so
   * lookups and `bt`/`sym` can name them with `[module]`. Adding a module
   * again replaces its symbols.
   */
  addSymbols(list: Iterable<ModuleSymbolInput>, module: string): void {
    this.removeModule(module);
    for (const s of list) {
      if (!s.name) continue;
      const e: ModuleSym = { name: s.name, address: s.address, size: s.size ?? 0, letter: s.letter ?? 't', module };
      this.modules.push(e);
      const l = this.moduleNames.get(e.name);
      if (l) l.push(e);
      else this.moduleNames.set(e.name, [e]);
    }
    this.modulesSorted = false;
  }

  /** Forget a module's symbols. */
  removeModule(module: string): void {
    if (!this.modules.some((m) => m.module === module)) return;
    this.modules = this.modules.filter((m) => m.module !== module);
    this.moduleNames.clear();
    for (const e of this.modules) {
      const l = this.moduleNames.get(e.name);
      if (l) l.push(e);
      else this.moduleNames.set(e.name, [e]);
    }
  }

  private sortedModules(): ModuleSym[] {
    if (!this.modulesSorted) {
      this.modules.sort((a, b) =>
        a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
      this.modulesSorted = true;
    }
    return this.modules;
  }

  /** All symbols of this name (local symbols can repeat): vmlinux globals first, then locals, then modules. */
  lookupAll(name: string): SymbolEntry[] {
    const c = this.core;
    let js = c.find(name);
    // A full ELF name with its compiler suffix ("foo.part.0"): those stored under "foo" with that name.
    if (js.length === 0) {
      const key = Buffer.from(name, 'latin1');
      const cut = strippedEnd(key, 0, key.length);
      if (cut < key.length) js = c.find(name.slice(0, cut)).filter((j) => c.rawName(j) === name);
    }
    js.sort((a, b) => Number(isGlobalLetter(c.letterAt(b))) - Number(isGlobalLetter(c.letterAt(a))) || a - b);
    const out = js.map((j) => this.entry(j));
    if (this.kernel) for (const k of this.kernel.find(name)) out.push(this.kernel.entry(k));
    const mods = this.moduleNames.get(name);
    if (mods) out.push(...mods.map((m) => ({ ...m })));
    return out;
  }

  lookup(name: string): SymbolEntry | undefined {
    return this.lookupAll(name)[0];
  }

  /**
   * The symbol an address falls in, as crash's `sym ADDR` names it: the
   * nearest symbol at or below the address; among aliases (symbols at one
   * address, ordered by name) the first when the address is exact and the
   * last when it lies inside. Kernel-image and module addresses only, like
   * crash: per-cpu offsets and absolute values are not addresses unless
   * `fixed` is set. Undefined past the end of the last symbol's range.
   */
  symbolize(address: bigint, opts: { fixed?: boolean } = {}): { symbol: SymbolEntry; offset: bigint } | undefined {
    const c = this.core;
    let best: SymbolEntry | undefined;
    const consider = (e: SymbolEntry | undefined): void => {
      if (e && (!best || e.address > best.address)) best = e;
    };
    // Image symbols, in unrelocated addresses.
    if (address >= this.kaslrOffset) {
      const q = address - this.kaslrOffset;
      if (q < c.imageEnd) consider(this.pick(c.image, q));
    }
    if (opts.fixed && address < c.fixedEnd) consider(this.pick(c.fixed, address));
    const mods = this.sortedModules();
    const ks = this.kernel;
    // The dump's kallsyms and the modules' symbols act as one list in (address, name) order: the kallsyms
    // candidate is taken when it is the greater, with the list's next symbol the lesser of the two that follow.
    const kf = ks ? ks.floor(address) : -1;
    let lo = 0;
    if (mods.length) {
      let hi = mods.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (mods[mid]!.address <= address) lo = mid + 1;
        else hi = mid;
      }
    }
    const mAt = lo > 0 ? mods[lo - 1]! : undefined;
    const kAt = ks && kf >= 0 ? ks.at(kf) : -1;
    if (
      ks &&
      kAt >= 0 &&
      (!mAt || ks.address(kAt) > mAt.address || (ks.address(kAt) === mAt.address && ks.name(kAt) > mAt.name))
    ) {
      const at = ks.address(kAt);
      let k = kf;
      if (at === address) while (k > 0 && ks.address(ks.at(k - 1)) === at) k--;
      const m = ks.entry(ks.at(k));
      const nextK = kf + 1 < ks.sortedCount ? ks.at(kf + 1) : -1;
      const nextM = mods[lo];
      // The list's next symbol: the kallsyms one unless a module's comes first (then it is another module's).
      const sameNext =
        nextK >= 0 &&
        (!nextM ||
          ks.address(nextK) < nextM.address ||
          (ks.address(nextK) === nextM.address && ks.name(nextK) < nextM.name));
      if (m.size === 0 || address < m.address + BigInt(m.size) || sameNext) consider(m);
    } else if (mods.length) {
      if (lo > 0) {
        const at = mods[lo - 1]!.address;
        let m = mods[lo - 1]!;
        if (at === address) {
          let first = lo - 1;
          while (first > 0 && mods[first - 1]!.address === at) first--;
          m = mods[first]!;
        }
        // A module symbol with a size must cover the address, unless the address lies before the module's next
        // symbol (padding between functions: crash names it by the function before it); past the module's last
        // symbol it is not in that module.
        let following: { module: string } | undefined = mods[lo];
        // A kallsyms symbol between them comes first in the list.
        const nk = ks && kf + 1 < ks.sortedCount ? ks.at(kf + 1) : -1;
        const nm = mods[lo];
        if (
          ks &&
          nk >= 0 &&
          (!nm || ks.address(nk) < nm.address || (ks.address(nk) === nm.address && ks.name(nk) < nm.name))
        )
          following = { module: '' };
        if (m.size === 0 || address < m.address + BigInt(m.size) || (following && following.module === m.module))
          consider({ ...m });
      }
    }
    const b = best as SymbolEntry | undefined;
    return b ? { symbol: b, offset: address - b.address } : undefined;
  }

  /** The best symbol of `order` at the greatest address ≤ q (q in the table's own addresses). */
  private pick(order: Uint32Array, q: bigint): SymbolEntry | undefined {
    const c = this.core;
    const pos = c.floor(order, q);
    if (pos < 0) return undefined;
    const j0 = order[pos]!;
    if (c.value(j0) !== q) return this.entry(j0); // inside: the last alias of the run
    let first = pos;
    const h = c.hi[j0]!;
    const l = c.lo[j0]!;
    while (first > 0 && c.hi[order[first - 1]!] === h && c.lo[order[first - 1]!] === l) first--;
    // Exact: the first alias, except that (as crash does) a ".text.*" section name, a "SyS_" /
    // "compat_SyS_" syscall alias and a "*_text_start" region delimiter each give way to the
    // next alias.
    let p = first;
    const next = (test: (name: string) => boolean): void => {
      if (p < pos && test(c.name(order[p]!))) p++;
    };
    next((n) => n.startsWith('.text.'));
    next((n) => n.startsWith('SyS_') || n.startsWith('compat_SyS_'));
    next((n) => n.endsWith('_text_start'));
    return this.entry(order[p]!);
  }

  /** Distinct names starting with a prefix, sorted (completion). */
  complete(prefix: string, max = 200): string[] {
    const c = this.core;
    const order = c.sortedByName();
    const key = Buffer.from(prefix, 'latin1');
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c.comparePrefix(order[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out = new Set<string>();
    for (let p = lo; p < order.length && out.size < max; p++) {
      const j = order[p]!;
      if (c.comparePrefix(j, key) !== 0) break;
      out.add(c.name(j));
    }
    if (this.kernel) {
      const ks = this.kernel;
      for (let k = 0; k < ks.n; k++) if (ks.startsWith(k, key) && !ks.isEmpty(k)) out.add(ks.name(k));
    }
    if (this.modules.length) for (const n of this.moduleNames.keys()) if (n.startsWith(prefix)) out.add(n);
    return [...out].sort().slice(0, max);
  }

  /** Every symbol in address order (vmlinux per-cpu/absolute, then image, then modules, merged). */
  *entries(): Iterable<SymbolEntry> {
    const c = this.core;
    const lists: SymbolEntry[][] = [];
    const fixed = Array.from(c.fixed, (j) => this.entry(j));
    const image = Array.from(c.image, (j) => this.entry(j));
    lists.push(fixed, image, this.sortedModules());
    if (this.kernel) {
      const ks = this.kernel;
      lists.push(Array.from({ length: ks.sortedCount }, (_, p) => ks.entry(ks.at(p))));
    }
    const idx = lists.map(() => 0);
    for (;;) {
      let bi = -1;
      for (let k = 0; k < lists.length; k++) {
        const e = lists[k]![idx[k]!];
        if (e && (bi < 0 || e.address < lists[bi]![idx[bi]!]!.address)) bi = k;
      }
      if (bi < 0) return;
      yield lists[bi]![idx[bi]!++]!;
    }
  }
}
