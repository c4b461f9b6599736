/**
 * The kernel's own symbol table, read from the dump's memory: what tscrash
 * names addresses with when there is no vmlinux.
 *
 * kallsyms (kernel/kallsyms.c, scripts/kallsyms.c) keeps, in .rodata:
 *  - kallsyms_num_syms (u32) and kallsyms_names: per symbol a length (one
 *    byte, or two when the first has bit 7 set) and that many token indexes;
 *    the expansion's first character is the symbol's type letter;
 *  - kallsyms_markers (u32): the offset in kallsyms_names of every 256th symbol;
 *  - kallsyms_token_table: 256 NUL-terminated strings, and
 *    kallsyms_token_index: 256 u16 offsets of them;
 *  - kallsyms_offsets (s32 per symbol) with kallsyms_relative_base (u64), or
 *    (older kernels) kallsyms_addresses (u64 per symbol).
 * Each table starts 8-aligned. Their order changed over time (offsets before
 * num_syms up to 6.3, after the token index since), so the tables are found
 * by what they hold, not by where they sit:
 *  1. VMCOREINFO names them (kernels from 6.x with the kallsyms entries); else
 *  2. the token table is found in the kernel image by its run of one-digit
 *     tokens "0\0" ... "9\0" (digits are never replaced by tokens), checked
 *     against the token index that follows it;
 *  3. kallsyms_num_syms is the u32 before the 8-aligned names table that
 *     decodes into exactly that many entries followed by matching markers;
 *  4. the addresses are those of the candidate layout (offsets before
 *     num_syms up to 6.3, after the token index since; absolute addresses on
 *     old kernels; a base that is not stored, derived from _stext) that puts
 *     every symbol VMCOREINFO gives by address (_stext, init_uts_ns,
 *     swapper_pg_dir, node_online_map) where VMCOREINFO says it is.
 */
import { FaultError, TscrashError } from '../core/errors.js';
import { decodeTokens, nameEntry, offsetAddress, tokenTableSpan } from '../core/kallsyms-format.js';
import type { KernelMemory } from '../core/kernel-memory.js';

/** What the search reads through: the kernel's memory (a KernelMemory) and its VMCOREINFO symbols. */
export type KallsymsMemory = Pick<KernelMemory, 'readVirt'> & { vmcoreinfo: { symbols: Map<string, bigint> } };

import { addressOrder, type KernelSymbolArrays, type ModuleSymbolInput, sizesToNext } from '../symbols/symtab.js';

const CHUNK = 1 << 20;
/** How far past _stext the image is searched for the token table. */
const IMAGE_SPAN = 256n << 20n;
const DIGITS = Buffer.from('0\x001\x002\x003\x004\x005\x006\x007\x008\x009\x00', 'latin1');
const MAX_SYMS = 4_000_000;

const align8 = (v: bigint): bigint => (v + 7n) & ~7n;

export interface KallsymsTables {
  numSyms: number;
  names: bigint;
  tokenTable: bigint;
  tokenIndex: bigint;
  /** Base-relative offsets and their base, or absolute addresses. */
  offsets?: bigint;
  relativeBase?: bigint;
  addresses?: bigint;
}

interface Decoded {
  tokens: string[];
  /** Offset of each symbol's entry in kallsyms_names, and the table's end. */
  entryAt: Uint32Array;
  end: number;
  names: Uint8Array;
}

function tryRead(mem: KallsymsMemory, addr: bigint, len: number): Uint8Array | undefined {
  try {
    return mem.readVirt(addr, len, 'kallsyms');
  } catch (e) {
    if (e instanceof FaultError) return undefined;
    throw e;
  }
}

/** Read [addr, addr+len) as far as it is in the dump (missing pages read as zero). */
function readRange(mem: KallsymsMemory, addr: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let o = 0; o < len; ) {
    const pageEnd = Number(((addr + BigInt(o)) | 0xfffn) + 1n - addr);
    const n = Math.min(len, pageEnd) - o;
    const b = tryRead(mem, addr + BigInt(o), n);
    if (b) out.set(b, o);
    o += n;
  }
  return out;
}

function tokensAt(mem: KallsymsMemory, table: bigint, index: bigint): string[] | undefined {
  const idx = tryRead(mem, index, 512);
  const buf = idx && tryRead(mem, table, tokenTableSpan(idx));
  return idx && buf ? decodeTokens(idx, buf) : undefined;
}

/** Step 2: the token table and its index, from the run of digit tokens in the image. */
function findTokens(mem: KallsymsMemory, from: bigint): { table: bigint; index: bigint; tokens: string[] } | undefined {
  let faults = 0;
  for (let a = from; a < from + IMAGE_SPAN; a += BigInt(CHUNK)) {
    const buf = tryRead(mem, a, CHUNK + DIGITS.length);
    if (!buf) {
      // The image ends where its pages stop (or the dump left them out): give up after 16 MB of nothing.
      if (++faults > 16) break;
      continue;
    }
    faults = 0;
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let p = b.indexOf(DIGITS); p >= 0 && p < CHUNK; p = b.indexOf(DIGITS, p + 1)) {
      // Token '0' is number 0x30: walk back over the 48 tokens before it.
      const z = a + BigInt(p);
      const back = readRange(mem, z - 4096n, 4096);
      let s = 4096;
      let ok = true;
      for (let k = 0; k < 0x30 && ok; k++) {
        let q = s - 2; // skip the NUL that ends the previous token
        if (q < 0 || back[s - 1] !== 0) ok = false;
        while (ok && q >= 0 && back[q] !== 0) q--;
        s = q + 1;
        if (q < 0) ok = false;
      }
      if (!ok) continue;
      const table = z - BigInt(4096 - s);
      const tbl = readRange(mem, table, 8192);
      // The table's end: after 256 strings.
      let e = 0;
      const starts: number[] = [];
      for (let k = 0; k < 256 && e < tbl.length; k++) {
        starts.push(e);
        const n = tbl.indexOf(0, e);
        if (n <= e) break;
        e = n + 1;
      }
      if (starts.length !== 256) continue;
      // The index follows, 8-aligned: 256 u16 offsets of those strings.
      const index = align8(table + BigInt(e));
      const tokens = tokensAt(mem, table, index);
      if (!tokens) continue;
      const idx = readRange(mem, index, 512);
      const dv = new DataView(idx.buffer);
      if (starts.every((st, k) => dv.getUint16(k * 2, true) === st)) return { table, index, tokens };
    }
  }
  return undefined;
}

/** Decode the names table's entries (lengths only) from `buf`; undefined when it does not parse as `n` entries. */
function entries(buf: Uint8Array, n: number): { entryAt: Uint32Array; end: number } | undefined {
  const entryAt = new Uint32Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (p >= buf.length) return undefined;
    entryAt[i] = p;
    const { len, start } = nameEntry(buf, p);
    if (len === 0) return undefined;
    p = start + len;
  }
  return p <= buf.length ? { entryAt, end: p } : undefined;
}

const TYPE_LETTERS = new Set('aAbBdDgGrRsStTuUvVwW?nN');

/** Step 3: kallsyms_num_syms and kallsyms_names, searched backward from the token table. */
function findNames(
  mem: KallsymsMemory,
  tokenTable: bigint,
  tokens: string[],
): { numSyms: number; names: bigint; d: Decoded } | undefined {
  const span = 48 << 20;
  const lo = tokenTable - BigInt(span);
  const region = readRange(mem, lo, span);
  const dv = new DataView(region.buffer);
  const first = tokens.map((t) => t.charCodeAt(0));
  for (let p = (span - 8) & ~7; p >= 0; p -= 8) {
    const n = dv.getUint32(p, true);
    if (n < 64 || n > MAX_SYMS) continue;
    const start = p + 8;
    // A quick look at the first entries: lengths and type letters.
    let q = start;
    let ok = true;
    for (let i = 0; i < 32 && ok && q + 2 <= region.length; i++) {
      const { len, start: t } = nameEntry(region, q);
      if (len === 0 || t + len > region.length || !TYPE_LETTERS.has(String.fromCharCode(first[region[t]!]!)))
        ok = false;
      q = t + len;
    }
    if (!ok) continue;
    const parsed = entries(region.subarray(start), n);
    if (!parsed) continue;
    // kallsyms_markers follows: the offset of every 256th entry.
    const m = align8(lo + BigInt(start + parsed.end)) - lo;
    const count = Math.ceil(n / 256);
    if (Number(m) + count * 4 > region.length + 65536) continue;
    const mk =
      Number(m) + count * 4 <= region.length
        ? region.subarray(Number(m), Number(m) + count * 4)
        : readRange(mem, lo + m, count * 4);
    const mdv = new DataView(mk.buffer, mk.byteOffset, mk.byteLength);
    let marks = true;
    for (let k = 0; k < count && marks; k++) if (mdv.getUint32(k * 4, true) !== parsed.entryAt[k * 256]) marks = false;
    if (!marks) continue;
    return {
      numSyms: n,
      names: lo + BigInt(start),
      d: { tokens, entryAt: parsed.entryAt, end: parsed.end, names: region.subarray(start, start + parsed.end) },
    };
  }
  return undefined;
}

type Layout =
  | { offsets: bigint; relativeBase: bigint }
  | { addresses: bigint }
  /** Offsets from a base the table does not store (kernels without kallsyms_relative_base): from _stext. */
  | { offsets: bigint; derived: true };

/** The symbols VMCOREINFO gives by address (its SYMBOL(mem_section) is a value, not an address). */
const CHECKS = ['_stext', 'init_uts_ns', 'swapper_pg_dir', 'node_online_map'];

/**
 * The addresses one layout gives, if they put every symbol VMCOREINFO names (CHECKS) where VMCOREINFO has it;
 * `checks` maps each such symbol's index to its address.
 */
function addressesFrom(
  mem: KallsymsMemory,
  n: number,
  layout: Layout,
  checks: Map<number, bigint>,
): BigUint64Array | undefined {
  const candidates: ((i: number) => bigint)[] = [];
  if ('addresses' in layout) {
    const raw = readRange(mem, layout.addresses, n * 8);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    candidates.push((i) => dv.getBigUint64(i * 8, true));
  } else {
    const raw = readRange(mem, layout.offsets, n * 4);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let base: bigint | undefined;
    if ('relativeBase' in layout) {
      const b = tryRead(mem, layout.relativeBase, 8);
      if (!b) return undefined;
      base = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    } else {
      const [i, a] = [...checks][0] ?? [];
      if (i === undefined || a === undefined) return undefined;
      base = a - BigInt(dv.getUint32(i * 4, true));
    }
    const b = base;
    for (const absolutePercpu of [true, false])
      candidates.push((i) => offsetAddress(dv.getInt32(i * 4, true), b, absolutePercpu));
  }
  for (const at of candidates) {
    if (![...checks].every(([i, a]) => at(i) === a)) continue;
    const out = new BigUint64Array(n);
    for (let i = 0; i < n; i++) out[i] = at(i);
    return out;
  }
  return undefined;
}

/**
 * Every kernel symbol (name, run-time address, type letter, size to the next symbol) from the dump's
 * kallsyms, in typed arrays (kallsyms order). Throws when the tables cannot be found.
 */
export function readKallsymsArrays(mem: KallsymsMemory): KernelSymbolArrays {
  const vi = mem.vmcoreinfo as KallsymsMemory['vmcoreinfo'] | undefined;
  if (!vi) throw new TscrashError('no VMCOREINFO: the kernel image and its kallsyms cannot be located');
  const stext = vi.symbols.get('_stext');
  if (stext === undefined)
    throw new TscrashError('VMCOREINFO has no SYMBOL(_stext): the kernel image cannot be located');
  let tables:
    | {
        numSyms: number;
        names: bigint;
        d: Decoded;
        layouts: Layout[];
      }
    | undefined;
  const named = (n: string): bigint | undefined => vi.symbols.get(n);
  const tt = named('kallsyms_token_table');
  const ti = named('kallsyms_token_index');
  const nm = named('kallsyms_names');
  const ns = named('kallsyms_num_syms');
  if (tt !== undefined && ti !== undefined && nm !== undefined && ns !== undefined) {
    const tokens = tokensAt(mem, tt, ti);
    const nb = tryRead(mem, ns, 4);
    if (tokens && nb) {
      const n = new DataView(nb.buffer, nb.byteOffset, 4).getUint32(0, true);
      const len = tt > nm ? Number(tt - nm) : 0;
      if (n > 0 && n <= MAX_SYMS && len > 0 && len < 64 << 20) {
        const names = readRange(mem, nm, len);
        const parsed = entries(names, n);
        if (parsed) {
          const layouts: Layout[] = [];
          const off = named('kallsyms_offsets');
          const rb = named('kallsyms_relative_base');
          const ad = named('kallsyms_addresses');
          if (off !== undefined && rb !== undefined) layouts.push({ offsets: off, relativeBase: rb });
          if (ad !== undefined) layouts.push({ addresses: ad });
          tables = { numSyms: n, names: nm, d: { tokens, ...parsed, names }, layouts };
        }
      }
    }
  }
  if (!tables) {
    const tok = findTokens(mem, stext);
    if (!tok)
      throw new TscrashError('no kallsyms token table found in the kernel image (a kernel without CONFIG_KALLSYMS?)');
    const found = findNames(mem, tok.table, tok.tokens);
    if (!found)
      throw new TscrashError(`kallsyms_names not found before the token table at 0x${tok.table.toString(16)}`);
    const n = found.numSyms;
    const numSymsAt = found.names - 8n;
    // Up to 6.3: offsets, relative_base, num_syms, names, ... From 6.4: ..., token_index, offsets, relative_base.
    const rbBefore = numSymsAt - 8n;
    const offsetsAfterIndex = align8(tok.index + 512n);
    tables = {
      numSyms: n,
      names: found.names,
      d: found.d,
      layouts: [
        { offsets: (rbBefore - BigInt(n * 4)) & ~7n, relativeBase: rbBefore },
        { offsets: offsetsAfterIndex, relativeBase: align8(offsetsAfterIndex + BigInt(n * 4)) },
        { addresses: (numSymsAt - BigInt(n * 8)) & ~7n },
        { offsets: offsetsAfterIndex, derived: true },
      ],
    };
  }
  const { numSyms: n, d } = tables;
  // The names expanded into one byte buffer (the type letter apart), not a string each: 90,000 symbols.
  const tokenBytes = d.tokens.map((t) => Buffer.from(t, 'latin1'));
  const nameStart = new Uint32Array(n + 1);
  const letter = new Uint8Array(n);
  const tokenLength = Uint32Array.from(tokenBytes, (t) => t.length);
  const dn = d.names;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let p = d.entryAt[i]!;
    let len = dn[p++]!;
    if (len & 0x80) len = (len & 0x7f) | (dn[p++]! << 7);
    for (let k = 0; k < len; k++) total += tokenLength[dn[p + k]!]!;
  }
  const bytes = new Uint8Array(Math.max(total - n, 0));
  // The symbols VMCOREINFO places, by their index here (_stext first: a derived base starts from it).
  const checks = new Map<number, bigint>();
  const wanted = new Map(CHECKS.map((c) => [c, vi.symbols.get(c)] as const).filter(([, a]) => a !== undefined));
  const wantedLengths = new Set([...wanted.keys()].map((k) => k.length));
  let w = 0;
  for (let i = 0; i < n; i++) {
    let start = d.entryAt[i]!;
    let len = dn[start++]!;
    if (len & 0x80) len = (len & 0x7f) | (dn[start++]! << 7);
    let first = true;
    for (let k = 0; k < len; k++) {
      const tok = tokenBytes[dn[start + k]!]!;
      let from = 0;
      if (first && tok.length > 0) {
        letter[i] = tok[0]!;
        from = 1;
        first = false;
      }
      for (let q = from; q < tok.length; q++) bytes[w++] = tok[q]!;
    }
    nameStart[i + 1] = w;
    if (wantedLengths.has(w - nameStart[i]!)) {
      const a = wanted.get(Buffer.from(bytes.subarray(nameStart[i]!, w)).toString('latin1'));
      if (a !== undefined && ![...checks.values()].includes(a)) checks.set(i, a);
    }
  }
  const ordered = new Map([...checks].sort((x, y) => (x[1] === stext ? -1 : y[1] === stext ? 1 : 0)));
  if (![...ordered.values()].includes(stext)) throw new TscrashError('kallsyms has no _stext symbol');
  let addrs: BigUint64Array | undefined;
  for (const l of tables.layouts) {
    // A base derived from _stext must be confirmed by another symbol.
    if ('derived' in l && ordered.size < 2) continue;
    addrs = addressesFrom(mem, n, l, ordered);
    if (addrs) break;
  }
  if (!addrs)
    throw new TscrashError(
      `kallsyms addresses not found: no layout puts ${[...wanted.keys()].join(', ')} where VMCOREINFO has them`,
    );
  // No sizes: kallsyms keeps none, and the session's table works them out when it first needs them.
  return { n, names: bytes.subarray(0, w), nameStart, letter, address: addrs };
}

/**
 * Every kernel symbol (name, run-time address, type letter, size to the next symbol) from the dump's
 * kallsyms, one object each (readKallsymsArrays is the compact form the session keeps).
 */
export function readKallsyms(mem: KallsymsMemory): ModuleSymbolInput[] {
  const k = readKallsymsArrays(mem);
  // Sizes: to the next higher address (kallsyms keeps none).
  const size = sizesToNext(k.address, addressOrder(k.address));
  const out: ModuleSymbolInput[] = [];
  for (let i = 0; i < k.n; i++) {
    const name = Buffer.from(k.names.subarray(k.nameStart[i]!, k.nameStart[i + 1]!)).toString('latin1');
    out.push({ name, address: k.address[i]!, size: size[i]!, letter: String.fromCharCode(k.letter[i]!) });
  }
  return out;
}
