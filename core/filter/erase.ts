/**
 * The regions --config erases, by physical address, and their application to the pages written, as makedumpfile's
 * erase_info.c does: a region starts at the physical address of its first byte and runs on physically for its size
 * (split at page boundaries when it is applied); two regions starting at the same address are one, the larger;
 * bytes are overwritten with 'X' (0x58), or zeros for `nullify`. The eraseinfo text makedumpfile stores in the dump
 * ("erase EXPR size N" / "erase EXPR nullify", one line per command that erased something) is built from what was
 * actually applied: a region in a page that is not dumped is not erased and not recorded.
 */
import type { EraseTarget } from './erase-config.js';

const ERASE_CHAR = 0x58; // 'X'

interface Region {
  paddr: number;
  size: number;
  nullify: boolean;
  command: number;
  /** Which of its command's regions this is (a loop's iteration): makedumpfile's size index. */
  slot: number;
  /** Bytes of the region already applied (each byte is written once). */
  done: Uint8Array;
}

export class EraseMap {
  private readonly regions: Region[] = [];
  /**
   * makedumpfile's erase_info nodes, in the order they were made (a command's first region): the command's text,
   * and per region (slot) the bytes erased, -1 when nullified.
   */
  private readonly nodes = new Map<number, { text: string; sizes: number[]; erased: boolean }>();

  /** `translate`: a virtual address to a physical one (throws when it is not mapped: the target is skipped). */
  constructor(targets: readonly EraseTarget[], translate: (va: bigint) => number, warn: (m: string) => void) {
    const byStart = new Map<number, Region>();
    for (const t of targets) {
      let paddr: number;
      try {
        paddr = translate(t.vaddr);
      } catch (e) {
        warn(`${t.text}: 0x${t.vaddr.toString(16)} is not mapped (${(e as Error).message}); not erased`);
        continue;
      }
      const same = byStart.get(paddr);
      if (same) {
        // makedumpfile's insert_filter_info(): one region per start address, the larger size
        if (t.size > same.size) {
          same.size = t.size;
          same.done = new Uint8Array(t.size);
        }
        continue;
      }
      let node = this.nodes.get(t.command);
      if (!node) {
        node = { text: t.text, sizes: [], erased: false };
        this.nodes.set(t.command, node);
      }
      node.sizes.push(0);
      const r: Region = {
        paddr,
        size: t.size,
        nullify: t.nullify,
        command: t.command,
        slot: node.sizes.length - 1,
        done: new Uint8Array(t.size),
      };
      byStart.set(paddr, r);
      this.regions.push(r);
    }
    this.regions.sort((a, b) => a.paddr - b.paddr);
  }

  get size(): number {
    return this.regions.length;
  }

  /** Erase what falls in `buf`, which holds physical memory from `paddr`. */
  apply(buf: Uint8Array, paddr: number): void {
    const end = paddr + buf.length;
    for (const r of this.regions) {
      if (r.paddr >= end) break;
      const a = Math.max(r.paddr, paddr);
      const b = Math.min(r.paddr + r.size, end);
      if (a >= b) continue;
      buf.fill(r.nullify ? 0 : ERASE_CHAR, a - paddr, b - paddr);
      let n = 0;
      for (let i = a - r.paddr; i < b - r.paddr; i++) {
        if (!r.done[i]) {
          r.done[i] = 1;
          n++;
        }
      }
      if (n) {
        const node = this.nodes.get(r.command)!;
        node.erased = true;
        node.sizes[r.slot] = r.nullify ? -1 : node.sizes[r.slot]! + n;
      }
    }
  }

  /** Erase in a batch of pages: page i of `buf` is pfn `pfns[i]`. */
  applyPages(buf: Uint8Array, pfns: ArrayLike<number>, count: number, pageSize: number): void {
    if (!this.regions.length) return;
    for (let i = 0; i < count; i++) {
      const pa = pfns[i]! * pageSize;
      if (!this.touches(pa, pa + pageSize)) continue;
      this.apply(buf.subarray(i * pageSize, (i + 1) * pageSize), pa);
    }
  }

  private touches(a: number, b: number): boolean {
    // binary search for the last region starting before b; regions may be long, so also scan back a little
    let lo = 0;
    let hi = this.regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.regions[mid]!.paddr < b) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo - 1; k >= 0; k--) {
      const r = this.regions[k]!;
      if (r.paddr + r.size > a) return true;
      if (lo - k > 64) return this.regions.slice(0, k).some((x) => x.paddr + x.size > a);
    }
    return false;
  }

  /**
   * The bytes an ELF dump sets aside for the eraseinfo before its pages are written (makedumpfile's
   * get_size_eraseinfo(): a line for every region, with its whole size).
   */
  eraseInfoReserve(): number {
    let n = 0;
    for (const r of this.regions) {
      const text = this.nodes.get(r.command)!.text;
      n += `erase ${text} ${r.nullify ? 'nullify' : `size ${r.size}`}\n`.length;
    }
    return n;
  }

  /**
   * makedumpfile's write_eraseinfo(): for each command that erased something, one line per region it named (one
   * for a plain command, one per iteration in a loop), "erase EXPR size N" or "erase EXPR nullify". A region
   * that was not written (its page excluded) repeats the line before it, as makedumpfile's reused buffer does.
   */
  eraseInfo(): Uint8Array {
    const lines: string[] = [];
    for (const node of this.nodes.values()) {
      if (!node.erased) continue;
      let last = 'size 0';
      for (const n of node.sizes) {
        if (n > 0) last = `size ${n}`;
        else if (n < 0) last = 'nullify';
        lines.push(`erase ${node.text} ${last}\n`);
      }
    }
    return Buffer.from(lines.join(''), 'latin1');
  }
}
