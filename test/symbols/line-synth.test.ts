/**
 * .debug_line versions 2-5 on hand-built line programs: header forms (DWARF 5
 * entry formats with strings inline and in .debug_line_str), every standard
 * and extended opcode, several sequences, the unit lookup through
 * .debug_aranges and the unit's first DIE, and truncated/corrupt programs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BadDataError } from '../../core/errors.js';
import { ElfFile } from '../../symbols/elf.js';
import { LineTable } from '../../symbols/line.js';
import { buildElf } from '../lib/synth-elf.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-line-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

class Bytes {
  b: number[] = [];
  u8(v: number): this {
    this.b.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: bigint): this {
    return this.u32(Number(v & 0xffffffffn)).u32(Number(v >> 32n));
  }
  uleb(v: number): this {
    do {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if (v) byte |= 0x80;
      this.u8(byte);
    } while (v);
    return this;
  }
  sleb(v: number): this {
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40)) return this.u8(byte);
      this.u8(byte | 0x80);
    }
  }
  str(s: string): this {
    for (const c of Buffer.from(s, 'latin1')) this.u8(c);
    return this.u8(0);
  }
  raw(x: number[] | Uint8Array): this {
    for (const c of x) this.u8(c);
    return this;
  }
  get length(): number {
    return this.b.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

const LINE_BASE = -5;
const LINE_RANGE = 14;
const OPCODE_BASE = 13;

/** Program opcodes (same encoding in every version). */
class Program extends Bytes {
  setAddress(a: bigint): this {
    return this.u8(0).uleb(9).u8(2).u64(a);
  }
  endSequence(): this {
    return this.u8(0).uleb(1).u8(1);
  }
  discriminator(d: number): this {
    const x = new Bytes().uleb(d);
    return this.u8(0)
      .uleb(1 + x.length)
      .u8(4)
      .raw(x.b);
  }
  defineFile(name: string, dir: number): this {
    const x = new Bytes().str(name).uleb(dir).uleb(0).uleb(0);
    return this.u8(0)
      .uleb(1 + x.length)
      .u8(3)
      .raw(x.b);
  }
  copy(): this {
    return this.u8(1);
  }
  advancePc(n: number): this {
    return this.u8(2).uleb(n);
  }
  advanceLine(n: number): this {
    return this.u8(3).sleb(n);
  }
  setFile(f: number): this {
    return this.u8(4).uleb(f);
  }
  setColumn(c: number): this {
    return this.u8(5).uleb(c);
  }
  negateStmt(): this {
    return this.u8(6);
  }
  constAddPc(): this {
    return this.u8(8);
  }
  fixedAdvancePc(n: number): this {
    return this.u8(9).u16(n);
  }
  special(addr: number, line: number): this {
    const op = line - LINE_BASE + LINE_RANGE * addr + OPCODE_BASE;
    if (line < LINE_BASE || line >= LINE_BASE + LINE_RANGE || op > 255) throw new Error('bad special');
    return this.u8(op);
  }
}

interface Header {
  version: 2 | 3 | 4 | 5;
  dirs: string[];
  files: { name: string; dir: number }[];
  lineStr?: boolean;
}

/** One line program unit: header for the version, then the program. */
function lineUnit(h: Header, prog: Program, lineStr: Bytes): Uint8Array {
  const hdr = new Bytes();
  hdr.u8(1); // min_inst_length
  if (h.version >= 4) hdr.u8(1); // max_ops
  hdr
    .u8(1)
    .u8(LINE_BASE & 0xff)
    .u8(LINE_RANGE)
    .u8(OPCODE_BASE);
  hdr.raw([0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]);
  if (h.version >= 5) {
    const strForm = (s: string): void => {
      if (h.lineStr) {
        hdr.u32(lineStr.length);
        lineStr.str(s);
      } else hdr.str(s);
    };
    hdr
      .u8(1)
      .uleb(1)
      .uleb(h.lineStr ? 0x1f : 0x08);
    hdr.uleb(h.dirs.length);
    for (const d of h.dirs) strForm(d);
    // path, directory index (udata), and an MD5 (data16) to skip.
    hdr
      .u8(3)
      .uleb(1)
      .uleb(h.lineStr ? 0x1f : 0x08)
      .uleb(2)
      .uleb(0x0f)
      .uleb(5)
      .uleb(0x1e);
    hdr.uleb(h.files.length);
    for (const f of h.files) {
      strForm(f.name);
      hdr.uleb(f.dir);
      hdr.raw(new Uint8Array(16));
    }
  } else {
    for (const d of h.dirs) hdr.str(d);
    hdr.u8(0);
    for (const f of h.files) hdr.str(f.name).uleb(f.dir).uleb(0).uleb(0);
    hdr.u8(0);
  }
  const body = new Bytes();
  body.u16(h.version);
  if (h.version >= 5) body.u8(8).u8(0);
  body.u32(hdr.length).raw(hdr.b).raw(prog.b);
  return new Bytes().u32(body.length).raw(body.b).bytes();
}

/** A compile unit whose first DIE has DW_AT_name, DW_AT_comp_dir (strings) and DW_AT_stmt_list. */
function infoUnit(version: number, stmtList: number, compDir: string): { info: Uint8Array; abbrev: Uint8Array } {
  const abbrev = new Bytes()
    .uleb(1)
    .uleb(0x11)
    .u8(0) // compile_unit, no children
    .uleb(0x03)
    .uleb(0x08) // name: string
    .uleb(0x1b)
    .uleb(0x08) // comp_dir: string
    .uleb(0x10)
    .uleb(version >= 4 ? 0x17 : 0x06) // stmt_list: sec_offset / data4
    .uleb(0)
    .uleb(0)
    .uleb(0);
  const die = new Bytes().uleb(1).str('unit.c').str(compDir).u32(stmtList);
  const body = new Bytes().u16(version);
  if (version >= 5) body.u8(1).u8(8).u32(0);
  else body.u32(0).u8(8);
  body.raw(die.b);
  return { info: new Bytes().u32(body.length).raw(body.b).bytes(), abbrev: abbrev.bytes() };
}

function aranges(unit: number, ranges: [bigint, bigint][]): Uint8Array {
  const b = new Bytes().u16(2).u32(unit).u8(8).u8(0).u32(0); // header 12 bytes incl. length → pad to 16
  for (const [a, l] of ranges) b.u64(a).u64(l);
  b.u64(0n).u64(0n);
  return new Bytes().u32(b.length).raw(b.b).bytes();
}

function elfWith(sections: Record<string, Uint8Array>): ElfFile {
  const p = join(dir, `l${n++}.elf`);
  writeFileSync(p, buildElf({ sections: Object.entries(sections).map(([name, data]) => ({ name, data })) }).bytes);
  return ElfFile.open(p);
}

const BASE = 0xffffffff81000000n;

/** Two sequences, the second placed below the first, touching every opcode. */
function sampleProgram(version: number): Program {
  const p = new Program();
  // Sequence A at BASE+0x100.
  p.setAddress(BASE + 0x100n)
    .advanceLine(9)
    .copy(); // 0x100 line 10
  p.special(4, 2); // 0x104 line 12
  p.setColumn(7).special(3, 0); // 0x107 line 12 col 7
  p.setFile(2).advanceLine(88).special(1, 0); // 0x108 line 100, file 2
  p.negateStmt().discriminator(3).special(2, 1); // 0x10a line 101, not stmt
  p.constAddPc().special(0, 1); // const_add_pc adds (255-13)/14 = 17: 0x11b line 102
  p.fixedAdvancePc(0x20).copy(); // 0x13b line 102
  if (version < 5) p.defineFile('gen.c', 0).setFile(4).advanceLine(-50).special(1, 0); // 0x13c line 52 file 4
  p.advancePc(5).endSequence(); // end at 0x141 (or 0x140)
  // Sequence B at BASE (lower), file 1.
  p.setAddress(BASE).advanceLine(1).copy(); // line 2
  p.special(0x10, 3); // 0x10 line 5
  p.advancePc(0x10).endSequence(); // end 0x20
  return p;
}

for (const version of [2, 3, 4, 5] as const) {
  describe(`.debug_line version ${version}`, () => {
    const files =
      version >= 5
        ? [
            { name: 'unit.c', dir: 0 },
            { name: 'unit.c', dir: 0 },
            { name: 'linux/list.h', dir: 1 },
            { name: '/abs/x.h', dir: 2 },
          ]
        : [
            { name: 'unit.c', dir: 0 },
            { name: 'linux/list.h', dir: 1 },
            { name: '/abs/x.h', dir: 2 },
          ];
    const dirs = version >= 5 ? ['build/dir', 'include', '/usr/include'] : ['include', '/usr/include'];

    for (const lineStr of version >= 5 ? [false, true] : [false]) {
      test(`rows, files and lookups${lineStr ? ' (.debug_line_str)' : ''}`, () => {
        const ls = new Bytes().u8(0);
        const prog = sampleProgram(version);
        const line = lineUnit({ version, dirs, files, lineStr }, prog, ls);
        const pad = new Uint8Array(7); // the program is not at offset 0
        const lineSec = new Uint8Array(pad.length + line.length);
        lineSec.set(line, pad.length);
        const { info, abbrev } = infoUnit(version, pad.length, 'build/dir');
        const elf = elfWith({
          '.debug_info': info,
          '.debug_abbrev': abbrev,
          '.debug_line': lineSec,
          '.debug_line_str': ls.bytes(),
          '.debug_aranges': aranges(0, [
            [BASE, 0x20n],
            [BASE + 0x100n, 0x41n],
          ]),
        });
        const lt = new LineTable(elf);
        const at = (off: number): string => {
          const r = lt.lookup(BASE + BigInt(off));
          return r ? `${r.file}:${r.line}:${r.column}${r.isStmt ? '' : ' !stmt'}` : 'none';
        };
        const unitC = 'build/dir/unit.c';
        const listH = 'build/dir/include/linux/list.h';
        assert.equal(at(0), `${unitC}:2:0`);
        assert.equal(at(0xf), `${unitC}:2:0`);
        assert.equal(at(0x10), `${unitC}:5:0`);
        assert.equal(at(0x1f), `${unitC}:5:0`);
        assert.equal(at(0x20), 'none', 'end of sequence B');
        assert.equal(at(0x80), 'none', 'between sequences');
        assert.equal(at(0x100), `${unitC}:10:0`);
        assert.equal(at(0x103), `${unitC}:10:0`);
        assert.equal(at(0x104), `${unitC}:12:0`);
        assert.equal(at(0x107), `${unitC}:12:7`);
        assert.equal(at(0x108), `${listH}:100:7`);
        assert.equal(at(0x10a), `${listH}:101:7 !stmt`);
        assert.equal(at(0x11b), `${listH}:102:7 !stmt`);
        assert.equal(at(0x13b), `${listH}:102:7 !stmt`);
        if (version < 5) {
          assert.equal(at(0x13c), `${unitC.replace('unit.c', 'gen.c')}:52:7 !stmt`);
          assert.equal(at(0x140), `${unitC.replace('unit.c', 'gen.c')}:52:7 !stmt`);
          assert.equal(at(0x141), 'none');
        } else {
          assert.equal(at(0x13f), `${listH}:102:7 !stmt`);
          assert.equal(at(0x140), 'none');
        }
        const prog2 = lt.program(pad.length);
        assert.equal(prog2.version, version);
        const abs = prog2.files.find((f) => f.name === '/abs/x.h');
        assert.equal(abs?.path, '/abs/x.h');
        elf.close();
      });
    }

    test('truncated programs and headers give BadDataError, never a hang', () => {
      const prog = sampleProgram(version);
      const ls = new Bytes().u8(0);
      const line = lineUnit({ version, dirs, files }, prog, ls);
      const dv = new DataView(line.buffer);
      const headerEnd = 4 + 2 + (version >= 5 ? 2 : 0) + 4 + dv.getUint32(version >= 5 ? 8 : 6, true);
      const { info, abbrev } = infoUnit(version, 0, '/b');
      for (let cut = 1; cut < line.length; cut++) {
        for (const fixLength of [false, true]) {
          const broken = line.slice(0, cut);
          // Either the unit claims more than there is, or its length is made to agree with the cut.
          if (fixLength && cut >= 4) new DataView(broken.buffer).setUint32(0, cut - 4, true);
          const elf = elfWith({
            '.debug_info': info,
            '.debug_abbrev': abbrev,
            '.debug_line': broken,
            '.debug_aranges': aranges(0, [[BASE, 0x200n]]),
          });
          let threw = false;
          try {
            new LineTable(elf).lookup(BASE + 4n);
          } catch (e) {
            assert.ok(e instanceof BadDataError, `cut at ${cut}: ${e}`);
            threw = true;
          }
          if (!fixLength || cut < headerEnd) assert.ok(threw, `cut at ${cut} (length ${fixLength ? 'fixed' : 'kept'})`);
          elf.close();
        }
      }
    });
  });
}

describe('.debug_line lookups without .debug_aranges and with bad data', () => {
  test('finds the unit from the line programs themselves', () => {
    const ls = new Bytes().u8(0);
    const line = lineUnit({ version: 4, dirs: ['inc'], files: [{ name: 'a.c', dir: 0 }] }, sampleProgram(4), ls);
    const { info, abbrev } = infoUnit(4, 0, '/src');
    const elf = elfWith({ '.debug_info': info, '.debug_abbrev': abbrev, '.debug_line': line });
    const r = new LineTable(elf).lookup(BASE + 0x10n);
    assert.equal(`${r?.file}:${r?.line}`, '/src/a.c:5');
    elf.close();
  });

  test('a unit pointing past .debug_line, or an unknown abbreviation, is a BadDataError', () => {
    const ls = new Bytes().u8(0);
    const line = lineUnit({ version: 4, dirs: [], files: [{ name: 'a.c', dir: 0 }] }, sampleProgram(4), ls);
    const a = infoUnit(4, 1 << 20, '/src');
    const elf = elfWith({
      '.debug_info': a.info,
      '.debug_abbrev': a.abbrev,
      '.debug_line': line,
      '.debug_aranges': aranges(0, [[BASE, 0x20n]]),
    });
    assert.throws(() => new LineTable(elf).lookup(BASE), /past .debug_line/);
    elf.close();
    const b = infoUnit(4, 0, '/src');
    b.abbrev[0] = 2; // the DIE's abbreviation 1 no longer exists
    const elf2 = elfWith({
      '.debug_info': b.info,
      '.debug_abbrev': b.abbrev,
      '.debug_line': line,
      '.debug_aranges': aranges(0, [[BASE, 0x20n]]),
    });
    assert.throws(() => new LineTable(elf2).lookup(BASE), /abbreviation code 1 not in the unit's table/);
    elf2.close();
  });
});
