import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadDataError } from '../../core/errors.js';
import { typeName } from '../../program/object.js';
import { BtfDebugInfo } from '../../symbols/btf/debug-info.js';
import { Btf } from '../../symbols/btf/format.js';
import type { CType } from '../../symbols/dwarf/types.js';
import { BtfBuilder } from '../lib/synth-btf.js';

function members(t: CType | undefined): { name?: string; offset: number; bitSize?: number; bitOffset?: number }[] {
  assert.ok(t && (t.kind === 'struct' || t.kind === 'union'));
  return t.members.map((m) => ({ name: m.name, offset: m.offset, bitSize: m.bitSize, bitOffset: m.bitOffset }));
}

describe('BTF reader: the kinds', () => {
  test('bitfields in both encodings: kind_flag (size in the offset word) and without (the INT encodes them)', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const u8 = b.int('unsigned char', 1);
    // struct a { unsigned int x:3, y:5; unsigned char z; } with kind_flag.
    b.struct(
      'a',
      8,
      [
        { name: 'x', type: u32, bitOffset: 0, bitSize: 3 },
        { name: 'y', type: u32, bitOffset: 3, bitSize: 5 },
        { name: 'z', type: u8, bitOffset: 32 },
      ],
      { kflag: true },
    );
    // The same without kind_flag: each bitfield's own INT carries bits and the offset within the place.
    const x3 = b.int('unsigned int', 4, { bits: 3 });
    const y5 = b.int('unsigned int', 4, { bits: 5, offset: 3 });
    b.struct('b', 8, [
      { name: 'x', type: x3, bitOffset: 0 },
      { name: 'y', type: y5, bitOffset: 0 },
      { name: 'z', type: u8, bitOffset: 32 },
    ]);
    const d = new BtfDebugInfo(new Btf(b.build(), 'synth'));
    const want = [
      { name: 'x', offset: 0, bitSize: 3, bitOffset: 0 },
      { name: 'y', offset: 0, bitSize: 5, bitOffset: 3 },
      { name: 'z', offset: 4, bitSize: undefined, bitOffset: undefined },
    ];
    assert.deepEqual(members(d.findType('struct a')), want);
    assert.deepEqual(members(d.findType('struct b')), want);
  });

  test('pointers, arrays (several counts merged), typedefs, qualifiers, type tags, enums, floats, functions, variables', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const ul = b.int('long unsigned int', 8);
    const ch = b.int('char', 1, { signed: true });
    const inner = b.array(int, int, 3);
    const outer = b.array(inner, int, 2);
    const cc = b.qualifier('const', ch);
    const tagged = b.typeTag('user', cc);
    const pcc = b.ptr(tagged);
    const vol = b.qualifier('volatile', ul);
    b.typedef('myint', int);
    const st = b.struct('s', 40, [
      { name: 'grid', type: outer, bitOffset: 0 },
      { name: 'name', type: pcc, bitOffset: 192 },
      { name: 'j', type: vol, bitOffset: 256 },
    ]);
    b.declTag('tag', st, -1);
    b.enum(
      'e',
      4,
      [
        ['E_NEG', -1],
        ['E_ONE', 1],
      ],
      true,
    );
    b.enum('u', 4, [['U_BIG', 0xffffffff]]);
    b.enum64('big', [['B_HUGE', 0x1_0000_0000n]]);
    b.float('double', 8);
    const proto = b.proto(int, [
      ['fmt', pcc],
      ['', 0],
    ]);
    b.func('printk', proto);
    const v = b.variable('runqueues', st);
    b.datasec('.data..percpu', 40, [[v, 0, 40]]);
    const d = new BtfDebugInfo(new Btf(b.build(), 'synth'));
    const s = d.findType('struct s');
    assert.ok(s?.kind === 'struct');
    assert.equal(typeName(s.members[0]!.type), 'int [2][3]');
    assert.equal(typeName(s.members[1]!.type), 'const char *');
    assert.equal(typeName(s.members[2]!.type), 'volatile long unsigned int');
    assert.equal(typeName(d.findType('myint')!), 'myint');
    assert.equal(typeName(d.findType('unsigned long')!), 'long unsigned int');
    assert.equal(typeName(d.findType('struct s *')!), 'struct s *');
    assert.equal(d.findEnumerator('E_NEG')?.value, -1n);
    assert.equal(d.findEnumerator('U_BIG')?.value, 0xffffffffn);
    assert.equal(d.findEnumerator('B_HUGE')?.value, 0x1_0000_0000n);
    assert.deepEqual(d.findType('double'), { kind: 'base', name: 'double', size: 8 });
    const f = d.findFunction('printk')?.type;
    assert.ok(f?.kind === 'function');
    assert.equal(f.variadic, true);
    assert.equal(typeName(f), 'int (const char *, ...)');
    assert.deepEqual(d.percpuVariables(), ['runqueues']);
    assert.equal(d.findVariable('runqueues')?.type, s);
    assert.equal(d.findVariable('nosuch'), undefined);
    assert.equal(d.findType('struct nosuch'), undefined);
  });

  test('a declaration (FWD) is completed from the definition of its name; without one it stays a declaration', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    const fwd = b.fwd('later');
    const lone = b.fwd('never');
    b.struct('holder', 16, [
      { name: 'p', type: b.ptr(fwd), bitOffset: 0 },
      { name: 'q', type: b.ptr(lone), bitOffset: 64 },
    ]);
    b.struct('later', 4, [{ name: 'v', type: int, bitOffset: 0 }]);
    const d = new BtfDebugInfo(new Btf(b.build(), 'synth'));
    const h = d.findType('struct holder');
    assert.ok(h?.kind === 'struct');
    const p = h.members[0]!.type;
    const q = h.members[1]!.type;
    assert.ok(p.kind === 'pointer' && q.kind === 'pointer');
    assert.ok(p.target.kind === 'struct');
    assert.equal(p.target.size, 4);
    assert.equal(p.target.members[0]?.name, 'v');
    assert.ok(q.target.kind === 'struct');
    assert.equal(q.target.declaration, true);
    assert.equal(d.findType('struct later')?.kind, 'struct');
  });

  test("split BTF: a module's types refer to the base's ids and strings", () => {
    const base = new BtfBuilder();
    const int = base.int('int', 4, { signed: true });
    base.struct('list_head', 16, []);
    const baseBtf = new Btf(base.build(), 'vmlinux');
    const mod = new BtfBuilder(base.counts);
    mod.struct('mod_state', 8, [
      { name: 'count', type: int, bitOffset: 0 },
      { name: 'int', type: int, bitOffset: 32 },
    ]);
    const split = new Btf(mod.build(), 'module', baseBtf);
    assert.equal(split.firstId, baseBtf.endId);
    const d = new BtfDebugInfo(split);
    const t = d.findType('struct mod_state');
    assert.ok(t?.kind === 'struct');
    assert.deepEqual(
      t.members.map((m) => [m.name, typeName(m.type)]),
      [
        ['count', 'int'],
        ['int', 'int'],
      ],
    );
    assert.equal(d.findType('struct list_head')?.kind, 'struct');
  });
});

/** The error a blob gives: a BadDataError naming the file, else a failure. */
function badData(bytes: Uint8Array, base?: Btf): BadDataError {
  try {
    new Btf(bytes, 'hostile.btf', base);
  } catch (e) {
    if (e instanceof BadDataError) {
      assert.equal(e.file, 'hostile.btf');
      return e;
    }
    throw e;
  }
  assert.fail('no error');
}

describe('BTF reader: hostile input gives one clear error, never a hang', () => {
  const good = (): BtfBuilder => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, { signed: true });
    b.struct('s', 4, [{ name: 'a', type: int, bitOffset: 0 }]);
    return b;
  };

  test('header: too short, wrong magic, wrong version, sections past the end', () => {
    assert.match(badData(new Uint8Array(10)).message, /header: need 24 bytes, 10 present/);
    const bytes = good().build();
    const wrong = Uint8Array.from(bytes);
    // Big-endian BTF (another machine's): not read.
    wrong[0] = 0xeb;
    wrong[1] = 0x9f;
    assert.match(badData(wrong).message, /not BTF: magic 0x9feb, expected 0xeb9f/);
    const v2 = Uint8Array.from(bytes);
    v2[2] = 2;
    assert.match(badData(v2).message, /version 2/);
    assert.match(badData(bytes.subarray(0, bytes.length - 4)).message, /string section .* past the end/);
    const huge = Uint8Array.from(bytes);
    new DataView(huge.buffer).setUint32(12, 0xfffffff0, true);
    assert.match(badData(huge).message, /type section .* past the end/);
  });

  test('records: truncated, an absurd member count, an unknown kind', () => {
    const t = new BtfBuilder();
    t.raw('x', 4, 0xffff, false, 4);
    assert.match(badData(t.build()).message, /65535 entries\) runs past the type section's end/);
    const u = new BtfBuilder();
    u.raw('x', 27, 0, false, 0);
    assert.match(badData(u.build()).message, /type 1: unknown kind 27/);
    const bytes = good().build();
    const cut = Uint8Array.from(bytes);
    // The type section claims 4 bytes more than its records fill: a truncated record.
    const dv = new DataView(cut.buffer);
    const typeLen = dv.getUint32(12, true);
    const strLen = dv.getUint32(20, true);
    const grown = new Uint8Array(cut.length + 4);
    grown.set(cut.subarray(0, 24 + typeLen));
    grown.set(cut.subarray(24 + typeLen), 24 + typeLen + 4);
    const g = new DataView(grown.buffer);
    g.setUint32(12, typeLen + 4, true);
    g.setUint32(16, typeLen + 4, true);
    g.setUint32(20, strLen, true);
    assert.match(badData(grown).message, /type record truncated/);
  });

  test('references: a type id past the last, a string offset past the strings', () => {
    const a = new BtfBuilder();
    a.ptr(99);
    assert.match(badData(a.build()).message, /type reference 99 outside 1\.\.1/);
    const s = new BtfBuilder();
    s.raw(5000, 1, 0, false, 4, [32]);
    assert.match(badData(s.build()).message, /string offset 5000 past the string section/);
  });

  test('cycles not through a pointer: a typedef of itself, a struct holding itself, through an array', () => {
    const a = new BtfBuilder();
    a.typedef('a', 2);
    a.qualifier('const', 1);
    assert.match(badData(a.build()).message, /refers to itself by value/);
    const s = new BtfBuilder();
    s.struct('loop', 8, [{ name: 'self', type: 2, bitOffset: 0 }]);
    s.array(1, 1, 2);
    assert.match(badData(s.build()).message, /refers to itself by value/);
    // Through a pointer is what every linked list is: fine.
    const ok = new BtfBuilder();
    ok.struct('list_head', 16, [
      { name: 'next', type: 2, bitOffset: 0 },
      { name: 'prev', type: 2, bitOffset: 64 },
    ]);
    ok.ptr(1);
    const d = new BtfDebugInfo(new Btf(ok.build(), 'ok'));
    const t = d.findType('struct list_head');
    assert.ok(t?.kind === 'struct');
    const next = t.members[0]!.type;
    assert.ok(next.kind === 'pointer' && next.target === t);
  });

  test('a large random blob after a valid header fails fast with a BadDataError', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    };
    for (let round = 0; round < 50; round++) {
      const bytes = good().build();
      const body = Uint8Array.from(bytes);
      for (let i = 24; i < body.length; i++) if (rnd() < 40) body[i] = rnd();
      const start = performance.now();
      try {
        const btf = new Btf(body, 'fuzz.btf');
        const d = new BtfDebugInfo(btf);
        for (let id = 1; id < btf.endId; id++) {
          try {
            typeName(d.types.typeAt(id));
          } catch (e) {
            if (!(e instanceof BadDataError) && !(e instanceof Error && e.name === 'LookupError')) throw e;
          }
        }
      } catch (e) {
        if (!(e instanceof BadDataError)) throw e;
      }
      assert.ok(performance.now() - start < 1000);
    }
  });
});
