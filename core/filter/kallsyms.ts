/**
 * Kernel symbols from the dump alone, through the kallsyms tables that
 * VMCOREINFO locates (SYMBOL(kallsyms_names | kallsyms_num_syms |
 * kallsyms_offsets | kallsyms_relative_base | kallsyms_token_table |
 * kallsyms_token_index), kernel 6.x): used by the page filter to find the
 * kernel's text, rodata, data and bss, which are never excluded.
 * Format facts (kernel/kallsyms.c): names are token-compressed, each entry a
 * length (one byte, or two when the first has bit 7 set: 6.1+) then token
 * indexes; the first expanded character is the symbol type. Addresses are
 * base-relative: a non-negative offset is absolute (per-CPU), a negative one
 * is relative_base - 1 - offset (KALLSYMS_ABSOLUTE_PERCPU, as on x86-64).
 */
import { decodeTokens, expandName, offsetAddress, tokenTableSpan } from '../kallsyms-format.js';
import type { KernelMemory } from './kvm.js';
import type { VmcoreinfoTable } from './vmcoreinfo-table.js';

const MAX_TABLE = 64 << 20;

/** Look up `wanted` symbol names; returns those found (name -> address). */
export function kallsymsLookup(
  kmem: KernelMemory,
  info: VmcoreinfoTable,
  wanted: readonly string[],
): Map<string, bigint> {
  const found = new Map<string, bigint>();
  const names = info.symbol('kallsyms_names');
  const numSyms = info.symbol('kallsyms_num_syms');
  const offsets = info.symbol('kallsyms_offsets');
  const relBase = info.symbol('kallsyms_relative_base');
  const tokTable = info.symbol('kallsyms_token_table');
  const tokIndex = info.symbol('kallsyms_token_index');
  if (!names || !numSyms || !offsets || !relBase || !tokTable || !tokIndex) return found;

  const b8 = new Uint8Array(8);
  kmem.read(numSyms, 4, b8);
  const n = new DataView(b8.buffer).getUint32(0, true);
  if (n === 0 || n > 4_000_000) return found;
  kmem.read(relBase, 8, b8);
  const base = new DataView(b8.buffer).getBigUint64(0, true);

  // tables: names up to the token table (the linker keeps them in this order), bounded
  const namesLen = tokTable > names ? Number(tokTable - names) : 0;
  if (namesLen <= 0 || namesLen > MAX_TABLE) return found;
  const nameBuf = new Uint8Array(namesLen);
  kmem.read(names, namesLen, nameBuf);
  const idxBuf = new Uint8Array(512);
  kmem.read(tokIndex, 512, idxBuf);
  const tokBuf = new Uint8Array(tokenTableSpan(idxBuf));
  kmem.read(tokTable, tokBuf.length, tokBuf);
  const tokens = decodeTokens(idxBuf, tokBuf);
  if (!tokens) return found;

  const want = new Set(wanted);
  // only expand names whose expanded length (type char + name) matches a wanted one; the scan runs once, cold,
  // over every symbol: plain loops over typed arrays (no object per entry), which V8's first tiers run quickly
  const lens = new Uint8Array(256);
  for (const w of wanted) if (w.length + 1 < lens.length) lens[w.length + 1] = 1;
  const tokLen = new Uint8Array(256);
  for (let t = 0; t < 256; t++) tokLen[t] = Math.min(255, tokens[t]!.length);
  const hits: [number, string][] = [];
  const cand = new Float64Array(4096);
  for (let from = 0, i = 0; i < n && from < namesLen; ) {
    const r = scanNames(nameBuf, from, namesLen, n - i, tokLen, lens, cand);
    for (let c = 0; c < r.found; c++) {
      const name = expandName(nameBuf, cand[2 * c + 1]!, tokens).slice(1);
      if (want.has(name) && !hits.some((h) => h[1] === name)) hits.push([i + cand[2 * c]!, name]);
    }
    if (r.entries === 0) break;
    i += r.entries;
    from = r.next;
  }
  if (!hits.length) return found;
  const offBuf = new Uint8Array(4);
  const ov = new DataView(offBuf.buffer);
  for (const [i, name] of hits) {
    kmem.read(offsets + BigInt(i * 4), 4, offBuf);
    found.set(name, offsetAddress(ov.getInt32(0, true), base, true));
  }
  return found;
}

/**
 * Walk entries of kallsyms_names from `from` (at most `max`, and until `out` is full): each entry whose expansion
 * has a length marked in `lens` is a candidate, recorded in `out` as (entry number from here, its offset). A small
 * function on its own, so that V8 optimizes it soon (the scan runs once per command, cold, over every symbol).
 */
function scanNames(
  names: Uint8Array,
  from: number,
  namesLen: number,
  max: number,
  tokLen: Uint8Array,
  lens: Uint8Array,
  out: Float64Array,
): { entries: number; next: number; found: number } {
  let p = from;
  let i = 0;
  let found = 0;
  const room = out.length >> 1;
  while (i < max && p < namesLen && found < room) {
    let len = names[p]!;
    let start = p + 1;
    if (len & 0x80) {
      len = (len & 0x7f) | ((names[start] ?? 0) << 7);
      start++;
    }
    const end = start + len;
    if (end > namesLen) break;
    let total = 0;
    for (let k = start; k < end; k++) total += tokLen[names[k]!]!;
    if (total < 256 && lens[total] === 1) {
      out[2 * found] = i;
      out[2 * found + 1] = p;
      found++;
    }
    p = end;
    i++;
  }
  return { entries: i, next: p, found };
}

/** [start, end) symbol pairs of the kernel image that stay in use after boot. */
export const KERNEL_IMAGE_PARTS: readonly [string, string][] = [
  ['_stext', '_etext'],
  ['__start_rodata', '__end_rodata'],
  ['_sdata', '_edata'],
  ['__bss_start', '__bss_stop'],
];

/** Parts inside those that the kernel frees after boot (x86: the unused .bss..decrypted without SME). */
export const KERNEL_IMAGE_HOLES: readonly [string, string][] = [
  ['__start_bss_decrypted_unused', '__end_bss_decrypted'],
];

/**
 * Physical pfn ranges of the kernel's text, rodata, data and bss (never the
 * init sections, the alignment gaps or the unused decrypted bss, which are
 * freed to the page allocator after boot and then hold ordinary pages).
 * Empty when kallsyms is unavailable.
 */
export function kernelImageRanges(kmem: KernelMemory, info: VmcoreinfoTable, pageSize: number): [number, number][] {
  let syms: Map<string, bigint>;
  try {
    syms = kallsymsLookup(kmem, info, [...KERNEL_IMAGE_PARTS.flat(), ...KERNEL_IMAGE_HOLES.flat()]);
  } catch {
    return [];
  }
  const phys = (pairs: readonly [string, string][], round: 'out' | 'in'): [number, number][] => {
    const r: [number, number][] = [];
    for (const [a, b] of pairs) {
      const s = syms.get(a);
      const e = syms.get(b);
      if (s === undefined || e === undefined || e <= s || e - s > 1n << 30n) continue;
      try {
        const ps = kmem.translate(s);
        const pe = kmem.translate(e - 1n) + 1;
        if (pe - ps !== Number(e - s)) continue; // the kernel image is physically contiguous
        // protected parts grow to whole pages; holes shrink to the pages entirely inside
        r.push(
          round === 'out'
            ? [Math.floor(ps / pageSize), Math.ceil(pe / pageSize)]
            : [Math.ceil(ps / pageSize), Math.floor(pe / pageSize)],
        );
      } catch {}
    }
    return r;
  };
  let out = phys(KERNEL_IMAGE_PARTS, 'out');
  for (const [hs, he] of phys(KERNEL_IMAGE_HOLES, 'in')) {
    if (he <= hs) continue;
    const next: [number, number][] = [];
    for (const [s, e] of out) {
      if (he <= s || hs >= e) next.push([s, e]);
      else {
        if (s < hs) next.push([s, hs]);
        if (he < e) next.push([he, e]);
      }
    }
    out = next;
  }
  return out;
}
