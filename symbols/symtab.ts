/**
 * The kernel's symbol table: name → address and address → name+offset, with the
 * KASLR offset applied to kernel-image symbols (as crash relocates them), and the
 * nm / System.map type letters crash's `sym` prints.
 */
import { type ElfFile, type ElfSection, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS } from './elf.js';

const START_KERNEL_MAP = 0xffffffff80000000n;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const STT_SECTION = 3;
const STT_FILE = 4;
const STB_LOCAL = 0;
const STB_WEAK = 2;

export interface SymbolEntry {
  name: string;
  address: bigint;
  size: number;
  /** System.map letter: T t D d B b R r A a W w V v. */
  letter: string;
  /** Module name for module symbols (added from memory later). */
  module?: string;
}

function letterFor(bind: number, type: number, shndx: number, sec: ElfSection | undefined): string {
  let c: string;
  if (shndx === SHN_ABS) c = 'a';
  else if (!sec) c = '?';
  else if (sec.flags & SHF_EXECINSTR) c = 't';
  else if (sec.type === SHT_NOBITS && sec.flags & SHF_ALLOC) c = 'b';
  else if (sec.flags & SHF_ALLOC && sec.flags & SHF_WRITE) c = 'd';
  else if (sec.flags & SHF_ALLOC) c = 'r';
  else c = 'n';
  if (bind === STB_WEAK) return type === 1 ? 'V' : 'W';
  return bind === STB_LOCAL ? c : c.toUpperCase();
}

export class SymbolTable {
  /** Sorted by address (then name). */
  private readonly byAddr: SymbolEntry[];
  private readonly byName = new Map<string, SymbolEntry[]>();
  private readonly addrs: BigUint64Array;

  constructor(entries: SymbolEntry[]) {
    this.byAddr = entries
      .slice()
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.name < b.name ? -1 : 1));
    this.addrs = BigUint64Array.from(this.byAddr.map((e) => e.address));
    for (const e of this.byAddr) {
      const l = this.byName.get(e.name);
      if (l) l.push(e);
      else this.byName.set(e.name, [e]);
    }
  }

  /** From a vmlinux's .symtab, relocated by the KASLR offset. */
  static fromElf(elf: ElfFile, kaslrOffset = 0n): SymbolTable {
    const out: SymbolEntry[] = [];
    for (const s of elf.symbols()) {
      if (!s.name || s.type === STT_SECTION || s.type === STT_FILE || s.shndx === SHN_UNDEF) continue;
      // Kernel-image symbols move with KASLR; absolute and per-cpu offsets do not.
      const address = s.shndx !== SHN_ABS && s.value >= START_KERNEL_MAP ? s.value + kaslrOffset : s.value;
      out.push({
        name: s.name,
        address,
        size: s.size,
        letter: letterFor(s.bind, s.type, s.shndx, elf.sections[s.shndx]),
      });
    }
    return new SymbolTable(out);
  }

  get size(): number {
    return this.byAddr.length;
  }

  /** All symbols of this name (local symbols can repeat). Globals first. */
  lookupAll(name: string): SymbolEntry[] {
    const l = this.byName.get(name) ?? [];
    return l
      .slice()
      .sort((a, b) => Number(b.letter === b.letter.toUpperCase()) - Number(a.letter === a.letter.toUpperCase()));
  }

  lookup(name: string): SymbolEntry | undefined {
    return this.lookupAll(name)[0];
  }

  /**
   * The symbol an address falls in: the nearest preceding symbol, preferring one
   * whose size covers the address, and among aliases at one address a global,
   * non-zero-size one (crash's choice for `sym ADDR`).
   */
  symbolize(address: bigint): { symbol: SymbolEntry; offset: bigint } | undefined {
    const a = this.addrs;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! <= address) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const at = a[lo - 1]!;
    let first = lo - 1;
    while (first > 0 && a[first - 1] === at) first--;
    const candidates = this.byAddr.slice(first, lo);
    const score = (e: SymbolEntry): number =>
      (e.size > 0 && address < e.address + BigInt(e.size) ? 4 : 0) +
      (e.letter === e.letter.toUpperCase() ? 2 : 0) +
      (e.size > 0 ? 1 : 0);
    let best = candidates[0]!;
    for (const c of candidates) if (score(c) > score(best)) best = c;
    // An address past the end of a sized symbol still belongs to it only if no other symbol follows (crash prints +off).
    return { symbol: best, offset: address - best.address };
  }

  /** Names starting with a prefix (completion). */
  complete(prefix: string, max = 200): string[] {
    const out: string[] = [];
    for (const name of this.byName.keys()) {
      if (name.startsWith(prefix)) {
        out.push(name);
        if (out.length >= max) break;
      }
    }
    return out.sort();
  }

  *entries(): Iterable<SymbolEntry> {
    yield* this.byAddr;
  }
}
