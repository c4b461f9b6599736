/**
 * program/kallsyms.ts on synthetic kernel images: the kallsyms tables laid out as scripts/kallsyms.c writes
 * them in each generation (6.1's order with absolute per-cpu offsets, 6.4's order with relative offsets, a
 * base that is not stored, absolute addresses, and tables VMCOREINFO names), in a memory where only the
 * image is readable. The real samples (6.1) are tested in test/commands/bt.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaultError, TscrashError } from '../../core/errors.js';
import { type KallsymsMemory, readKallsyms } from '../../program/kallsyms.js';

const STEXT = 0xffffffff81000000n;
const IMAGE = 8 << 20;
const TABLES = 3 << 20; // where the tables start in the image
const PERCPU_BASE = 0x1000n;

interface Sym {
  name: string;
  letter: string;
  address: bigint;
}

/**
 * 700 symbols (markers past 256), sorted by address as kallsyms keeps them. Per-cpu symbols are zero-based
 * (below the image) where the offsets are absolute-per-cpu, in the image otherwise (as kernels without
 * KALLSYMS_ABSOLUTE_PERCPU link them).
 */
function symbols(absolutePercpu: boolean): Sym[] {
  const out: Sym[] = [];
  const percpu = (): void => {
    const at = absolutePercpu ? PERCPU_BASE : STEXT + 0xc00000n;
    for (let i = 0; i < 8; i++) out.push({ name: `percpu_var_${i}`, letter: 'A', address: at + BigInt(i * 64) });
  };
  if (absolutePercpu) percpu();
  out.push({ name: '_stext', letter: 'T', address: STEXT });
  for (let i = 0; i < 660; i++)
    out.push({ name: `sys_kexec_fn_${i}`, letter: i % 3 ? 't' : 'T', address: STEXT + 0x100n + BigInt(i * 48) });
  out.push({ name: 'init_uts_ns', letter: 'D', address: STEXT + 0x800000n });
  out.push({ name: 'swapper_pg_dir', letter: 'B', address: STEXT + 0x900000n });
  for (let i = 0; i < 28; i++) out.push({ name: `data_${i}`, letter: 'd', address: STEXT + 0xa00000n + BigInt(i * 8) });
  if (!absolutePercpu) percpu();
  return out;
}

/** Tokens: two multi-character ones in unused byte values, every printable character as itself. */
function tokenTable(): string[] {
  const t: string[] = [];
  for (let i = 0; i < 256; i++) {
    if (i === 1) t.push('sys_');
    else if (i === 2) t.push('kexec');
    else if (i >= 0x20 && i < 0x7f) t.push(String.fromCharCode(i));
    else t.push(`~${i.toString(16)}`);
  }
  return t;
}

function encodeName(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    if (s.startsWith('sys_', i)) {
      out.push(1);
      i += 4;
    } else if (s.startsWith('kexec', i)) {
      out.push(2);
      i += 5;
    } else out.push(s.charCodeAt(i++));
  }
  return out;
}

type Order = '6.1' | '6.4' | 'derived' | 'absolute';

/** The image bytes and the tables' addresses, in the order `order` writes them. */
function buildImage(syms: Sym[], order: Order): { image: Uint8Array; at: Record<string, bigint> } {
  const image = new Uint8Array(IMAGE);
  const dv = new DataView(image.buffer);
  let pos = TABLES;
  const at: Record<string, bigint> = {};
  const align = (): void => {
    pos = (pos + 7) & ~7;
  };
  const label = (name: string): void => {
    align();
    at[name] = STEXT + BigInt(pos);
  };
  const base = STEXT;
  const absolutePercpu = order === '6.1';
  const offsets = (): void => {
    if (order === 'absolute') {
      label('kallsyms_addresses');
      for (const s of syms) {
        dv.setBigUint64(pos, s.address, true);
        pos += 8;
      }
      return;
    }
    label('kallsyms_offsets');
    for (const s of syms) {
      const v = absolutePercpu
        ? s.address < STEXT
          ? Number(s.address)
          : Number(base - s.address - 1n)
        : Number(s.address - base) >>> 0;
      dv.setInt32(pos, v | 0, true);
      pos += 4;
    }
    if (order !== 'derived') {
      label('kallsyms_relative_base');
      dv.setBigUint64(pos, base, true);
      pos += 8;
    }
  };
  const names = (): void => {
    label('kallsyms_num_syms');
    dv.setUint32(pos, syms.length, true);
    pos += 4;
    label('kallsyms_names');
    const start = pos;
    const markers: number[] = [];
    syms.forEach((s, i) => {
      if (i % 256 === 0) markers.push(pos - start);
      const enc = encodeName(s.letter + s.name);
      image[pos++] = enc.length;
      for (const b of enc) image[pos++] = b;
    });
    label('kallsyms_markers');
    for (const m of markers) {
      dv.setUint32(pos, m, true);
      pos += 4;
    }
  };
  const tokens = (): void => {
    label('kallsyms_token_table');
    const starts: number[] = [];
    const t0 = pos;
    for (const t of tokenTable()) {
      starts.push(pos - t0);
      for (const c of Buffer.from(t, 'latin1')) image[pos++] = c;
      image[pos++] = 0;
    }
    label('kallsyms_token_index');
    for (const st of starts) {
      dv.setUint16(pos, st, true);
      pos += 2;
    }
  };
  if (order === '6.1' || order === 'absolute') {
    offsets();
    names();
    tokens();
  } else {
    names();
    tokens();
    offsets();
  }
  return { image, at };
}

function memoryOf(image: Uint8Array, symbols: Map<string, bigint>): KallsymsMemory {
  return {
    vmcoreinfo: { symbols },
    readVirt(vaddr: bigint, len: number, what = 'memory'): Uint8Array {
      const off = vaddr - STEXT;
      if (off < 0n || off + BigInt(len) > BigInt(image.length))
        throw new FaultError(`${what}: 0x${vaddr.toString(16)} not in the dump`, vaddr, 'virtual', 'not-in-dump');
      return image.slice(Number(off), Number(off) + len);
    },
  } as KallsymsMemory;
}

const vmcoreinfoSyms = (): Map<string, bigint> =>
  new Map([
    ['_stext', STEXT],
    ['init_uts_ns', STEXT + 0x800000n],
    ['swapper_pg_dir', STEXT + 0x900000n],
    // A value, not an address: not one of the checks.
    ['mem_section', 0xffff888000001000n],
  ]);

describe('kallsyms from a synthetic kernel image', () => {
  const want = symbols(false);
  for (const order of ['6.1', '6.4', 'derived', 'absolute'] as Order[]) {
    test(`${order} layout: every symbol, found by searching the image`, () => {
      const want = symbols(order === '6.1' || order === 'absolute');
      const { image } = buildImage(want, order);
      const got = readKallsyms(memoryOf(image, vmcoreinfoSyms()));
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        assert.equal(g.name, want[i]!.name);
        assert.equal(g.letter, want[i]!.letter);
        assert.equal(g.address, want[i]!.address, g.name);
      });
      // Sizes run to the next address.
      assert.equal(got.find((g) => g.name === 'sys_kexec_fn_0')!.size, 48);
    });
  }

  test('tables VMCOREINFO names are taken from there', () => {
    const { image, at } = buildImage(want, '6.4');
    const syms = vmcoreinfoSyms();
    for (const [k, v] of Object.entries(at)) syms.set(k, v);
    // Break the digit run the search would use: only VMCOREINFO's addresses can find the tables now.
    const t = Number(at.kallsyms_token_table! - STEXT);
    const copy = image.slice();
    const digits = Buffer.from(copy.buffer).indexOf(Buffer.from('0\x001\x002\x00', 'latin1'), t);
    copy[digits + 2] = 0x21;
    const idx = Number(at.kallsyms_token_index! - STEXT);
    assert.ok(digits < idx);
    const got = readKallsyms(memoryOf(copy, syms));
    assert.equal(got.length, want.length);
    assert.equal(got.find((g) => g.name === 'swapper_pg_dir')!.address, STEXT + 0x900000n);
    assert.throws(() => readKallsyms(memoryOf(copy, vmcoreinfoSyms())), /token table/);
  });

  test('a layout that puts _stext right but another VMCOREINFO symbol wrong is refused', () => {
    const { image } = buildImage(want, 'derived');
    const syms = vmcoreinfoSyms();
    syms.set('swapper_pg_dir', STEXT + 0x900008n);
    assert.throws(() => readKallsyms(memoryOf(image, syms)), TscrashError);
  });

  test('an image without kallsyms, or a VMCOREINFO without _stext, is a clear error', () => {
    assert.throws(() => readKallsyms(memoryOf(new Uint8Array(IMAGE), vmcoreinfoSyms())), /no kallsyms token table/);
    assert.throws(() => readKallsyms(memoryOf(new Uint8Array(16), new Map())), /SYMBOL\(_stext\)/);
  });
});
