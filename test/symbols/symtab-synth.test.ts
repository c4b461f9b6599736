/**
 * SymbolTable on a synthetic vmlinux: KASLR views, crash's alias rules,
 * suffix stripping, type letters, per-cpu and absolute symbols, module
 * symbols added from memory, completion.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ElfFile } from '../../symbols/elf.js';
import { SymbolTable } from '../../symbols/symtab.js';
import { buildElf, SHF, SHN_ABS, SHT, STB, STT, type SynthSymbol } from '../lib/synth-elf.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-symtab-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 0xffffffff81000000n;
const RODATA = 0xffffffff82000000n;
const DATA = 0xffffffff82800000n;
const BSS = 0xffffffff83000000n;

function table(extra: SynthSymbol[] = []): { elf: ElfFile; st: SymbolTable } {
  const f = (
    name: string,
    off: bigint,
    size = 16,
    bind: number = STB.GLOBAL,
    type: number = STT.FUNC,
  ): SynthSymbol => ({
    name,
    value: TEXT + off,
    size,
    bind,
    type,
    section: '.text',
  });
  const symbols: SynthSymbol[] = [
    f('_text', 0n, 0, STB.GLOBAL, STT.NOTYPE),
    f('_stext', 0n, 0, STB.GLOBAL, STT.NOTYPE),
    f('startup_64', 0n, 0x40),
    f('alpha', 0x100n, 0x20),
    f('alpha_alias', 0x100n, 0x20),
    f('__Alpha_local', 0x100n, 0x20, STB.LOCAL),
    f('helper.part.0', 0x200n, 0x10, STB.LOCAL),
    f('helper', 0x300n, 0x10, STB.LOCAL),
    f('other.isra.0', 0x400n, 0x10, STB.LOCAL),
    f('__sched_text_start', 0x500n, 0, STB.GLOBAL, STT.NOTYPE),
    f('__schedule', 0x500n, 0x80, STB.LOCAL),
    f('weakfn', 0x600n, 0x10, STB.WEAK),
    f('dup_local', 0x700n, 4, STB.LOCAL),
    f('dup_local', 0x710n, 4, STB.LOCAL),
    { name: 'table', value: RODATA + 0x10n, size: 64, type: STT.OBJECT, section: '.rodata' },
    { name: 'jiffies', value: DATA + 0x40n, size: 8, type: STT.OBJECT, section: '.data' },
    { name: 'weakvar', value: DATA + 0x80n, size: 8, type: STT.OBJECT, bind: STB.WEAK, section: '.data' },
    { name: 'zero_page', value: BSS, size: 4096, type: STT.OBJECT, section: '.bss' },
    { name: 'runqueues', value: 0x2c000n, size: 4096, type: STT.OBJECT, section: '.data..percpu' },
    { name: '__per_cpu_start', value: 0n, section: '.data..percpu' },
    { name: 'init_per_cpu__gdt', value: DATA + 0x100n, section: SHN_ABS },
    { name: 'some_constant', value: 0x1234n, section: SHN_ABS },
    f('_etext', 0x1000n, 0, STB.GLOBAL, STT.NOTYPE),
    { name: '_end', value: BSS + 0x2000n, section: '.bss' },
    ...extra,
  ];
  const bytes = buildElf({
    sections: [
      { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, addr: TEXT, data: new Uint8Array(0x1000) },
      { name: '.rodata', flags: SHF.ALLOC, addr: RODATA, data: new Uint8Array(0x100) },
      { name: '.data', flags: SHF.ALLOC | SHF.WRITE, addr: DATA, data: new Uint8Array(0x200) },
      { name: '.data..percpu', flags: SHF.ALLOC | SHF.WRITE, addr: 0n, data: new Uint8Array(0x30000) },
      { name: '.bss', type: SHT.NOBITS, flags: SHF.ALLOC | SHF.WRITE, addr: BSS, size: 0x3000 },
    ],
    symbols,
    sectionSymbols: true,
  }).bytes;
  const p = join(dir, `s${Math.random().toString(36).slice(2)}.elf`);
  writeFileSync(p, bytes);
  const elf = ElfFile.open(p);
  return { elf, st: SymbolTable.fromElf(elf) };
}

const show = (st: SymbolTable, a: bigint, fixed = false): string => {
  const r = st.symbolize(a, { fixed });
  return r ? `(${r.symbol.letter}) ${r.symbol.name}${r.offset ? `+${r.offset}` : ''}` : 'invalid';
};

describe('SymbolTable', () => {
  test('type letters follow nm: section kind, binding, weak objects', () => {
    const { elf, st } = table();
    const letter = (n: string): string => st.lookup(n)!.letter;
    assert.equal(letter('alpha'), 'T');
    assert.equal(letter('__Alpha_local'), 't');
    assert.equal(letter('table'), 'R');
    assert.equal(letter('jiffies'), 'D');
    assert.equal(letter('zero_page'), 'B');
    assert.equal(letter('weakfn'), 'W');
    assert.equal(letter('weakvar'), 'V');
    assert.equal(letter('runqueues'), 'D');
    assert.equal(letter('some_constant'), 'A');
    assert.equal(letter('.bss'), 'b', 'section symbols are named by their section');
    elf.close();
  });

  test("aliases: an exact address names the first by name, an inside one the last (crash's sym)", () => {
    const { elf, st } = table();
    assert.equal(show(st, TEXT + 0x100n), '(t) __Alpha_local');
    assert.equal(show(st, TEXT + 0x105n), '(T) alpha_alias+5');
    // Region delimiters give way to the real symbol at an exact address.
    assert.equal(show(st, TEXT + 0x500n), '(t) __schedule');
    assert.equal(show(st, TEXT), '(T) _stext');
    assert.equal(show(st, TEXT + 0x60n), '(T) startup_64+96', 'past a sized symbol: still the nearest');
    elf.close();
  });

  test('.isra./.part./.llvm. suffixes are cut as crash shows them; the ELF name is kept', () => {
    const { elf, st } = table();
    const r = st.symbolize(TEXT + 0x204n)!;
    assert.equal(r.symbol.name, 'helper');
    assert.equal(r.symbol.elfName, 'helper.part.0');
    assert.deepEqual(
      st.lookupAll('helper').map((e) => e.address - TEXT),
      [0x200n, 0x300n],
    );
    assert.equal(st.lookup('helper.part.0')!.address, TEXT + 0x200n);
    assert.equal(st.lookup('other.isra.0')!.name, 'other');
    assert.equal(st.lookup('helper.part.1'), undefined);
    elf.close();
  });

  test('KASLR: image symbols move, per-cpu and absolute values do not, in-image absolute ones do', () => {
    const { elf, st } = table();
    const k = 0x1e000000n;
    const r = st.relocate(k);
    assert.equal(r.kaslrOffset, k);
    assert.equal(r.lookup('jiffies')!.address, DATA + 0x40n + k);
    assert.equal(r.lookup('runqueues')!.address, 0x2c000n);
    assert.equal(r.lookup('some_constant')!.address, 0x1234n);
    assert.equal(r.lookup('init_per_cpu__gdt')!.address, DATA + 0x100n + k);
    assert.equal(show(r, TEXT + k + 0x101n), '(T) alpha_alias+1');
    assert.equal(show(r, TEXT + 0x101n), 'invalid', 'the unrelocated address is below the image');
    assert.equal(show(st, TEXT + 0x101n), '(T) alpha_alias+1', 'the first view is untouched');
    elf.close();
  });

  test('per-cpu offsets and addresses past the image are not addresses unless asked', () => {
    const { elf, st } = table();
    assert.equal(show(st, 0x2c010n), 'invalid');
    assert.equal(show(st, 0x2c010n, true), '(D) runqueues+16');
    assert.equal(show(st, BSS + 0x2000n), '(b) _end'.replace('(b)', `(${st.lookup('_end')!.letter})`));
    assert.equal(show(st, BSS + 0x2001n), 'invalid');
    assert.equal(show(st, 0n), 'invalid');
    elf.close();
  });

  test('local names that repeat: globals first, every one listed', () => {
    const { elf, st } = table([{ name: 'dup_local', value: TEXT + 0x800n, size: 4, type: STT.FUNC, section: '.text' }]);
    const all = st.lookupAll('dup_local');
    assert.equal(all.length, 3);
    assert.equal(all[0]!.letter, 'T');
    assert.deepEqual(
      all
        .slice(1)
        .map((e) => e.address - TEXT)
        .sort(),
      [0x700n, 0x710n],
    );
    elf.close();
  });

  test('module symbols added from memory, replaced, and removed', () => {
    const { elf, st } = table();
    const MOD = 0xffffffffc0000000n;
    st.addSymbols(
      [
        { name: 'mod_init', address: MOD + 0x10n, size: 0x20, letter: 't' },
        { name: 'mod_fn', address: MOD + 0x40n, size: 0x20, letter: 'T' },
      ],
      'mymod',
    );
    assert.equal(st.lookup('mod_fn')!.module, 'mymod');
    const r = st.symbolize(MOD + 0x44n)!;
    assert.equal(`${r.symbol.name}+${r.offset} [${r.symbol.module}]`, 'mod_fn+4 [mymod]');
    assert.equal(st.symbolize(MOD + 0x70n), undefined, 'past a sized module symbol');
    assert.ok(st.complete('mod_').includes('mod_init'));
    st.addSymbols([{ name: 'mod_fn2', address: MOD + 0x40n, size: 0x10 }], 'mymod');
    assert.equal(st.lookup('mod_fn'), undefined, 'adding a module again replaces its symbols');
    assert.equal(st.symbolize(MOD + 0x41n)!.symbol.name, 'mod_fn2');
    st.removeModule('mymod');
    assert.equal(st.lookup('mod_fn2'), undefined);
    assert.equal(st.symbolize(MOD + 0x41n), undefined);
    elf.close();
  });

  test('completion: distinct sorted names by prefix; entries in address order', () => {
    const { elf, st } = table();
    assert.deepEqual(st.complete('alp'), ['alpha', 'alpha_alias']);
    assert.deepEqual(st.complete('dup'), ['dup_local']);
    assert.deepEqual(st.complete('zzz'), []);
    assert.equal(st.complete('', 3).length, 3);
    const addrs = [...st.entries()].map((e) => e.address);
    for (let i = 1; i < addrs.length; i++) assert.ok(addrs[i]! >= addrs[i - 1]!);
    elf.close();
  });
});
