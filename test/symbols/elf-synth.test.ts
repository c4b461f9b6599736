/**
 * ElfFile on synthetic files: every feature (notes, compressed sections,
 * ET_REL relocations, positioned range reads, shared buffers) and hostile
 * input (truncation at every byte of the headers, absurd counts, offsets past
 * the end, lying compressed sizes, bad string indices, random corruption).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { BadDataError } from '../../core/errors.js';
import {
  ElfFile,
  ET_EXEC,
  ET_REL,
  R_X86_64_32,
  R_X86_64_32S,
  R_X86_64_64,
  R_X86_64_PC32,
  R_X86_64_PC64,
  R_X86_64_PLT32,
} from '../../symbols/elf.js';
import { buildElf, SHF, SHN_ABS, SHT, STB, STT, type SynthElfSpec } from '../lib/synth-elf.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(dir, `f${n++}.elf`);
  writeFileSync(p, bytes);
  return p;
}

const text = Uint8Array.from({ length: 64 }, (_, i) => i);
const debugInfo = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);

function baseSpec(): SynthElfSpec {
  return {
    buildId: '0123456789abcdef0123456789abcdef01234567',
    sections: [
      { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, addr: 0xffffffff81000000n, data: text, align: 16 },
      { name: '.data', flags: SHF.ALLOC | SHF.WRITE, addr: 0xffffffff81200000n, data: new Uint8Array(32), align: 8 },
      { name: '.bss', type: SHT.NOBITS, flags: SHF.ALLOC | SHF.WRITE, addr: 0xffffffff81400000n, size: 1 << 20 },
      { name: '.debug_info', data: debugInfo },
      { name: '.debug_str', flags: SHF.MERGE | SHF.STRINGS, data: Buffer.from('hello\0world\0') },
    ],
    symbols: [
      { name: 'start', value: 0xffffffff81000000n, size: 16, type: STT.FUNC, section: '.text' },
      { name: 'helper', value: 0xffffffff81000010n, size: 16, type: STT.FUNC, bind: STB.LOCAL, section: '.text' },
      { name: 'abs_thing', value: 0x1234n, section: SHN_ABS },
    ],
    segments: [{ type: 1, vaddr: 0xffffffff81000000n, paddr: 0x1000000n, section: '.text' }],
  };
}

describe('ElfFile on synthetic files', () => {
  test('headers, sections, program headers, build-id, symbols', () => {
    const s = buildElf(baseSpec());
    const elf = ElfFile.open(file(s.bytes));
    assert.equal(elf.type, ET_EXEC);
    assert.equal(elf.machine, 62);
    assert.equal(elf.buildId, '0123456789abcdef0123456789abcdef01234567');
    assert.deepEqual(
      elf.sections.map((x) => x.name),
      [
        '',
        '.text',
        '.data',
        '.bss',
        '.debug_info',
        '.debug_str',
        '.note.gnu.build-id',
        '.symtab',
        '.strtab',
        '.shstrtab',
      ],
    );
    const t = elf.section('.text')!;
    assert.equal(t.addr, 0xffffffff81000000n);
    assert.equal(t.offset, s.dataOffset[1]);
    assert.deepEqual(elf.sectionData('.text'), text);
    assert.equal(elf.sectionData('.bss').length, 0);
    assert.equal(elf.programHeaders.length, 1);
    assert.equal(elf.programHeaders[0]!.vaddr, 0xffffffff81000000n);
    assert.deepEqual(elf.readVirtual(0xffffffff81000008n, 4), text.subarray(8, 12));
    assert.equal(elf.readVirtual(0xffffffff81000040n, 1), undefined);
    const syms = elf.symbols();
    assert.deepEqual(
      syms.map((x) => [x.name, x.value, x.bind]),
      [
        ['', 0n, 0],
        ['helper', 0xffffffff81000010n, STB.LOCAL],
        ['start', 0xffffffff81000000n, STB.GLOBAL],
        ['abs_thing', 0x1234n, STB.GLOBAL],
      ],
    );
    assert.equal(syms[3]!.shndx, SHN_ABS);
    elf.close();
  });

  test('readSectionRange reads pieces without loading the section, and agrees with sectionData', () => {
    const elf = ElfFile.open(file(buildElf(baseSpec()).bytes));
    const piece = elf.readSectionRange('.debug_info', 1000, 100);
    assert.deepEqual(piece, debugInfo.subarray(1000, 1100));
    assert.deepEqual(elf.readSectionRange('.debug_info', 4990, 10), debugInfo.subarray(4990));
    assert.throws(() => elf.readSectionRange('.debug_info', 4990, 11), BadDataError);
    assert.throws(() => elf.readSectionRange('.debug_info', -1, 1), BadDataError);
    const all = elf.sectionData('.debug_info');
    assert.deepEqual(all, debugInfo);
    assert.equal(elf.readSectionRange('.debug_info', 10, 5).buffer, all.buffer, 'served from the cached section');
    elf.close();
  });

  test('shared: the bytes live in a SharedArrayBuffer, equal to the plain read', () => {
    const elf = ElfFile.open(file(buildElf(baseSpec()).bytes));
    const plain = elf.sectionData('.debug_info');
    const shared = elf.sectionData('.debug_info', { shared: true });
    assert.ok(shared.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(Uint8Array.from(shared), Uint8Array.from(plain));
    // A fresh file read straight into shared memory.
    const elf2 = ElfFile.open(file(buildElf(baseSpec()).bytes));
    const s2 = elf2.sectionData('.debug_str', { shared: true });
    assert.ok(s2.buffer instanceof SharedArrayBuffer);
    assert.equal(Buffer.from(s2).toString('latin1'), 'hello\0world\0');
    elf.close();
    elf2.close();
  });

  for (const kind of ['zlib', 'zstd', 'zdebug'] as const) {
    test(`compressed section (${kind}) is decompressed, and found under its .debug_ name`, () => {
      const name = kind === 'zdebug' ? '.zdebug_info' : '.debug_info';
      const spec = baseSpec();
      spec.sections![3] = { name, data: debugInfo, compress: kind };
      const elf = ElfFile.open(file(buildElf(spec).bytes));
      assert.ok(elf.isCompressed('.debug_info'));
      assert.equal(elf.dataSize('.debug_info'), debugInfo.length);
      assert.deepEqual(elf.sectionData('.debug_info'), debugInfo);
      assert.deepEqual(elf.readSectionRange('.debug_info', 100, 50), debugInfo.subarray(100, 150));
      elf.close();
    });

    test(`compressed section (${kind}) whose header lies about its size is refused`, () => {
      for (const claimed of [debugInfo.length - 1, debugInfo.length + 1, 0, 2 ** 31 - 1, 2 ** 40]) {
        const name = kind === 'zdebug' ? '.zdebug_info' : '.debug_info';
        const spec = baseSpec();
        spec.sections![3] = { name, data: debugInfo, compress: kind, claimedSize: claimed };
        const p = file(buildElf(spec).bytes);
        const elf = ElfFile.open(p);
        assert.throws(
          () => elf.sectionData('.debug_info'),
          (e: unknown) => e instanceof BadDataError && e.file === p,
          `claimed ${claimed}`,
        );
        elf.close();
      }
    });
  }

  test('ET_REL: debug sections get their relocations (64, 32, 32S, PC32, PLT32, PC64), raw on request', () => {
    const info = new Uint8Array(64);
    const spec: SynthElfSpec = {
      type: ET_REL,
      sections: [
        { name: '.text', flags: SHF.ALLOC | SHF.EXECINSTR, data: new Uint8Array(0x100), align: 16 },
        { name: '.debug_str', data: Buffer.from('\0abc\0def\0') },
        { name: '.debug_info', data: info },
      ],
      symbols: [{ name: 'fn', value: 0x40n, size: 8, type: STT.FUNC, section: '.text' }],
      relocations: [
        { target: '.debug_info', offset: 0, type: R_X86_64_32, symbol: { section: '.debug_str' }, addend: 5n },
        { target: '.debug_info', offset: 8, type: R_X86_64_64, symbol: 'fn', addend: 3n },
        { target: '.debug_info', offset: 16, type: R_X86_64_32S, symbol: 'fn', addend: -0x50n },
        { target: '.debug_info', offset: 24, type: R_X86_64_PC32, symbol: 'fn', addend: 0n },
        { target: '.debug_info', offset: 28, type: R_X86_64_PLT32, symbol: 'fn', addend: -4n },
        { target: '.debug_info', offset: 32, type: R_X86_64_PC64, symbol: 'fn', addend: 0n },
      ],
    };
    const elf = ElfFile.open(file(buildElf(spec).bytes));
    assert.equal(elf.type, ET_REL);
    assert.ok(elf.needsRelocation('.debug_info'));
    const d = elf.sectionData('.debug_info');
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    assert.equal(dv.getUint32(0, true), 5);
    assert.equal(dv.getBigUint64(8, true), 0x43n);
    assert.equal(dv.getInt32(16, true), -0x10);
    assert.equal(dv.getInt32(24, true), 0x40 - 24);
    assert.equal(dv.getInt32(28, true), 0x40 - 4 - 28);
    assert.equal(dv.getBigInt64(32, true), BigInt(0x40 - 32));
    assert.deepEqual(elf.sectionData('.debug_info', { raw: true }), info);
    // With the module's .text loaded somewhere, addresses follow it.
    elf.setSectionAddress('.text', 0xffffffffc0001000n);
    const d2 = elf.sectionData('.debug_info');
    assert.equal(new DataView(d2.buffer, d2.byteOffset).getBigUint64(8, true), 0xffffffffc0001043n);
    assert.deepEqual(elf.readSectionRange('.debug_info', 8, 8), d2.subarray(8, 16));
    elf.close();
  });

  test('ET_EXEC: .rela.* sections (ld --emit-relocs) are never applied again', () => {
    const info = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const spec: SynthElfSpec = {
      type: ET_EXEC,
      sections: [
        { name: '.debug_str', data: Buffer.from('\0abc\0') },
        { name: '.debug_info', data: info },
      ],
      relocations: [
        { target: '.debug_info', offset: 0, type: R_X86_64_32, symbol: { section: '.debug_str' }, addend: 1n },
      ],
    };
    const elf = ElfFile.open(file(buildElf(spec).bytes));
    assert.equal(elf.relocationSections('.debug_info').length, 1);
    assert.equal(elf.needsRelocation('.debug_info'), false);
    assert.deepEqual(elf.sectionData('.debug_info'), info);
    elf.close();
  });

  test('relocation pointing outside its section, or at a missing symbol, is refused', () => {
    for (const bad of [
      { target: '.debug_info', offset: 14, type: R_X86_64_64, symbol: 'fn', addend: 0n },
      { target: '.debug_info', offset: 0, type: 37, symbol: 'fn', addend: 0n },
    ]) {
      const spec: SynthElfSpec = {
        type: ET_REL,
        sections: [
          { name: '.text', flags: 6, data: new Uint8Array(16) },
          { name: '.debug_info', data: new Uint8Array(16) },
        ],
        symbols: [{ name: 'fn', value: 0n, section: '.text' }],
        relocations: [bad],
      };
      const elf = ElfFile.open(file(buildElf(spec).bytes));
      assert.throws(() => elf.sectionData('.debug_info'), BadDataError);
      elf.close();
    }
  });
});

/** Opening, then touching everything: only BadDataError may come out. */
function exercise(p: string): void {
  try {
    const elf = ElfFile.open(p);
    try {
      void elf.buildId;
      for (const s of elf.sections) {
        try {
          elf.sectionData(s);
          if (elf.dataSize(s) > 2) elf.readSectionRange(s, 1, 1);
        } catch (e) {
          if (!(e instanceof BadDataError)) throw e;
        }
      }
      try {
        elf.symbols();
      } catch (e) {
        if (!(e instanceof BadDataError)) throw e;
      }
    } finally {
      elf.close();
    }
  } catch (e) {
    if (!(e instanceof BadDataError)) throw e;
    assert.ok(e.message.startsWith(p), `error names the file: ${e.message}`);
  }
}

describe('ElfFile on hostile input', () => {
  const good = buildElf(baseSpec());

  test('truncated at every byte up to the end of the section headers: opens or gives BadDataError', () => {
    const p = join(dir, 'trunc.elf');
    for (let len = 0; len < good.bytes.length; len += len < 200 ? 1 : 7) {
      writeFileSync(p, good.bytes.subarray(0, len));
      exercise(p);
      if (len < good.shoff + 64 * 10) {
        assert.throws(() => ElfFile.open(p), BadDataError, `truncated to ${len} bytes must not open`);
      }
    }
  });

  test('not ELF64 little-endian: clear errors', () => {
    const cases: [Partial<SynthElfSpec>, RegExp][] = [
      [{ class: 1 }, /not a 64-bit ELF/],
      [{ data: 2 }, /not a little-endian/],
      [{ type: 9 }, /ELF type 9/],
    ];
    for (const [over, re] of cases) {
      const p = file(buildElf({ ...baseSpec(), ...over }).bytes);
      assert.throws(
        () => ElfFile.open(p),
        (e: unknown) => e instanceof BadDataError && re.test(e.message),
      );
    }
    assert.throws(
      () => ElfFile.open(file(Buffer.from('hello world, not an ELF file at all, no sir, not at all........'))),
      /not an ELF file/,
    );
  });

  function patched(edit: (dv: DataView, s: typeof good) => void): string {
    const b = good.bytes.slice();
    edit(new DataView(b.buffer), good);
    return file(b);
  }

  test('absurd section and program header counts and sizes', () => {
    const cases: [(dv: DataView, s: typeof good) => void, RegExp][] = [
      [(dv) => dv.setUint16(60, 0xfff0, true), /section headers .* run past the end/],
      [
        (dv, s) => {
          dv.setUint16(60, 0, true);
          dv.setBigUint64(s.shoff + 32, 1n << 40n, true);
        },
        /absurd/,
      ],
      [(dv) => dv.setUint16(58, 12, true), /e_shentsize 12/],
      [(dv) => dv.setBigUint64(40, 1n << 62n, true), /absurd|run past/],
      [(dv) => dv.setUint16(56, 60000, true), /program headers .* run past the end/],
      [(dv) => dv.setUint16(62, 200, true), /e_shstrndx 200/],
      [(dv, s) => dv.setBigUint64(s.shoff + 4 * 64 + 24, 1n << 40n, true), /runs past the end of the file/],
      [(dv, s) => dv.setBigUint64(s.shoff + 4 * 64 + 32, 1n << 62n, true), /absurd|runs past/],
      [(dv, s) => dv.setUint32(s.shoff + 2 * 64, 0x7fffffff, true), /name offset .* outside the section name table/],
    ];
    for (const [edit, re] of cases) {
      const p = patched(edit);
      assert.throws(
        () => ElfFile.open(p),
        (e: unknown) => e instanceof BadDataError && re.test(e.message) && e.message.startsWith(p),
        String(edit),
      );
    }
  });

  test('bad symbol name offsets and string table links', () => {
    const symtab = good.index.get('.symtab')!;
    const p1 = patched((dv, s) => dv.setUint32(s.dataOffset[symtab]! + 24, 0xffffff, true));
    const e1 = ElfFile.open(p1);
    assert.throws(() => e1.symbols(), /name offset 16777215 outside .strtab/);
    e1.close();
    const p2 = patched((dv, s) => dv.setUint32(s.shoff + symtab * 64 + 40, 1, true));
    const e2 = ElfFile.open(p2);
    assert.throws(() => e2.symbols(), /sh_link 1 is not a string table/);
    e2.close();
  });

  test('random corruption of the headers never escapes as anything but BadDataError', () => {
    const p = join(dir, 'fuzz.elf');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.boolean(),
        (edits, headersOnly) => {
          const b = good.bytes.slice();
          for (const [at, v] of edits) {
            const pos = headersOnly ? (at % 64 < 64 && at < 64 ? at : good.shoff + (at % (b.length - good.shoff))) : at;
            b[pos] = v;
          }
          writeFileSync(p, b);
          exercise(p);
        },
      ),
      { numRuns: 400 },
    );
  });
});
