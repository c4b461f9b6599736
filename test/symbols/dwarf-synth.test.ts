import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BadDataError, LookupError } from '../../core/errors.js';
import { findMember, strip } from '../../program/object.js';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import { sizeOf } from '../../symbols/dwarf/types.js';
import { AT, buildDwarf, buildDwarfUnits, FORM, type SynthDie, TAG, type Value } from '../lib/synth-dwarf.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-dwarf-'));
const cache = join(dir, 'cache');
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(bytes: Uint8Array): string {
  const p = join(dir, `v${n++}`);
  writeFileSync(p, bytes);
  return p;
}

const located = (addr: bigint): Uint8Array => {
  const e = new Uint8Array(9);
  e[0] = 3;
  new DataView(e.buffer).setBigUint64(1, addr, true);
  return e;
};
/** `struct name;` (a declaration), with extra attributes. */
const declared = (label: string, name: string, ...extra: [number, number, Value][]): SynthDie => ({
  tag: TAG.structure_type,
  label,
  attrs: [[AT.name, FORM.strp, name], [AT.declaration, FORM.flag_present, true], ...extra],
});
const pointerTo = (label: string, target: string): SynthDie => ({
  tag: TAG.pointer_type,
  label,
  attrs: [
    [AT.byte_size, FORM.data1, 8],
    [AT.type, FORM.ref4, { ref: target }],
  ],
});
/** A global variable at `addr` whose type is the DIE labelled `type`. */
const globalVar = (name: string, type: string, addr: bigint): SynthDie => ({
  tag: TAG.variable,
  attrs: [
    [AT.name, FORM.strp, name],
    [AT.type, FORM.ref4, { ref: type }],
    [AT.location, FORM.exprloc, located(addr)],
  ],
});

const member = (name: string, type: string, at: number): SynthDie => ({
  tag: TAG.member,
  attrs: [
    [AT.name, FORM.strp, name],
    [AT.type, FORM.ref4, { ref: type }],
    [AT.data_member_location, FORM.data1, at],
  ],
});
const structOf = (label: string | undefined, name: string, size: number, members: SynthDie[]): SynthDie => ({
  tag: TAG.structure_type,
  ...(label ? { label } : {}),
  attrs: [
    [AT.name, FORM.strp, name],
    [AT.byte_size, FORM.data1, size],
  ],
  children: members,
});
const longType = (label: string): SynthDie => ({
  tag: TAG.base_type,
  label,
  attrs: [
    [AT.name, FORM.strp, 'long int'],
    [AT.byte_size, FORM.data1, 8],
    [AT.encoding, FORM.data1, 5],
  ],
});

/** An enumerator, its value in the given constant form. */
const enumerator = (name: string, form: number, value: number): SynthDie => ({
  tag: TAG.enumerator,
  attrs: [
    [AT.name, FORM.strp, name],
    [AT.const_value, form, value],
  ],
});

/** A unit with the shapes the kernel's DWARF has: bitfields both ways, arrays, pointers, typedefs, enums, specs. */
function kernelish(version: 4 | 5): SynthDie[] {
  const nameForm = version === 5 ? FORM.strx1 : FORM.strp;
  return [
    {
      tag: TAG.base_type,
      label: 'int',
      attrs: [
        [AT.name, FORM.string, 'int'],
        [AT.byte_size, FORM.data1, 4],
        [AT.encoding, FORM.data1, 5],
      ],
    },
    {
      tag: TAG.base_type,
      label: 'char',
      attrs: [
        [AT.name, nameForm, 'char'],
        [AT.byte_size, FORM.data1, 1],
        [AT.encoding, FORM.data1, 6],
      ],
    },
    {
      tag: TAG.base_type,
      label: 'ulong',
      attrs: [
        [AT.name, FORM.strp, 'long unsigned int'],
        [AT.byte_size, FORM.data1, 8],
        [AT.encoding, FORM.data1, 7],
      ],
    },
    pointerTo('foo_p', 'foo'),
    {
      tag: TAG.array_type,
      label: 'char16',
      attrs: [[AT.type, FORM.ref4, { ref: 'char' }]],
      children: [{ tag: TAG.subrange_type, attrs: [[AT.upper_bound, FORM.data1, 15]] }],
    },
    {
      tag: TAG.array_type,
      label: 'int2x3',
      attrs: [[AT.type, FORM.ref4, { ref: 'int' }]],
      children: [
        { tag: TAG.subrange_type, attrs: [[AT.count, FORM.data1, 2]] },
        { tag: TAG.subrange_type, attrs: [[AT.count, FORM.data1, 3]] },
      ],
    },
    {
      tag: TAG.structure_type,
      label: 'foo',
      attrs: [
        [AT.name, nameForm, 'foo'],
        [AT.byte_size, FORM.data1, 64],
        [AT.decl_file, FORM.implicit_const, 3],
        [AT.sibling, FORM.ref4, { ref: 'after_foo' }],
      ],
      children: [
        {
          tag: TAG.member,
          attrs: [
            [AT.name, FORM.string, 'a'],
            [AT.type, FORM.ref4, { ref: 'int' }],
            [AT.data_member_location, FORM.data1, 0],
          ],
        },
        member('name', 'char16', 4),
        member('next', 'foo_p', 24),
        version === 5
          ? {
              tag: TAG.member,
              attrs: [
                [AT.name, FORM.strp, 'flag'],
                [AT.type, FORM.ref4, { ref: 'int' }],
                [AT.bit_size, FORM.data1, 3],
                [AT.data_bit_offset, FORM.data2, 259],
              ],
            }
          : // DWARF 2-4: bit_offset counts from the storage unit's most significant bit: 32 - 3 - 3 = 26 → bit 3 of byte 32.
            {
              tag: TAG.member,
              attrs: [
                [AT.name, FORM.strp, 'flag'],
                [AT.type, FORM.ref4, { ref: 'int' }],
                [AT.byte_size, FORM.data1, 4],
                [AT.bit_size, FORM.data1, 3],
                [AT.bit_offset, FORM.data1, 26],
                [AT.data_member_location, FORM.data1, 32],
              ],
            },
        member('grid', 'int2x3', 36),
      ],
    },
    {
      tag: TAG.typedef,
      label: 'after_foo',
      attrs: [
        [AT.name, FORM.strp, 'foo_t'],
        [AT.type, FORM.ref4, { ref: 'foo' }],
      ],
    },
    {
      tag: TAG.enumeration_type,
      attrs: [
        [AT.name, FORM.strp, 'color'],
        [AT.byte_size, FORM.data1, 4],
      ],
      children: [enumerator('RED', FORM.data1, 0), enumerator('BLUE', FORM.sdata, -7)],
    },
    // An anonymous enum: its enumerators are names too.
    {
      tag: TAG.enumeration_type,
      attrs: [[AT.byte_size, FORM.data1, 4]],
      children: [enumerator('ANON_MAX', FORM.udata, 300)],
    },
    {
      tag: TAG.structure_type,
      attrs: [
        [AT.name, FORM.strp, 'opaque'],
        [AT.declaration, FORM.flag_present, true],
      ],
    },
    {
      tag: TAG.variable,
      attrs: [
        [AT.name, FORM.strp, 'counter'],
        [AT.type, FORM.ref4, { ref: 'ulong' }],
        [AT.external, FORM.flag_present, true],
        [AT.location, FORM.exprloc, Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 0)],
      ],
    },
    {
      tag: TAG.variable,
      label: 'decl',
      attrs: [
        [AT.name, FORM.strp, 'the_foo'],
        [AT.type, FORM.ref4, { ref: 'foo' }],
        [AT.declaration, FORM.flag_present, true],
      ],
    },
    {
      tag: TAG.variable,
      attrs: [
        [AT.specification, FORM.ref4, { ref: 'decl' }],
        [AT.location, FORM.exprloc, Uint8Array.of(3, 8, 0, 0, 0, 0, 0, 0, 0)],
      ],
    },
    {
      tag: TAG.subprogram,
      attrs: [
        [AT.name, FORM.strp, 'do_thing'],
        [AT.type, FORM.ref4, { ref: 'int' }],
      ],
      children: [
        {
          tag: TAG.formal_parameter,
          attrs: [
            [AT.name, FORM.strp, 'f'],
            [AT.type, FORM.ref4, { ref: 'foo_p' }],
          ],
        },
        {
          tag: TAG.variable,
          attrs: [
            [AT.name, FORM.strp, 'local_only'],
            [AT.type, FORM.ref4, { ref: 'int' }],
          ],
        },
      ],
    },
  ];
}

describe('DebugInfo on synthetic DWARF', () => {
  for (const version of [4, 5] as const) {
    test(`DWARF ${version}: types, members, bitfields, arrays, enumerators, variables (with specifications), functions`, async () => {
      const { elf } = buildDwarf(kernelish(version), version);
      const d = await DebugInfo.open(write(elf.bytes), { cacheDir: cache });
      const foo = d.findType('struct foo')!;
      assert.equal(foo.kind, 'struct');
      assert.equal(sizeOf(foo), 64);
      const flag = findMember(foo, 'flag')!;
      assert.equal(flag.member.bitSize, 3);
      assert.equal(flag.member.bitOffset, 259);
      assert.equal(findMember(foo, 'name')!.offset, 4);
      assert.equal(sizeOf(findMember(foo, 'name')!.member.type), 16);
      assert.equal(sizeOf(findMember(foo, 'grid')!.member.type), 24);
      assert.equal(strip(d.findType('foo_t')!).kind, 'struct');
      assert.equal(d.findType('struct foo *')!.kind, 'pointer');
      assert.equal(sizeOf(d.findType('char [16]')!), 16);
      assert.equal(d.findType('unsigned long')!.kind, 'base');
      assert.equal(d.findType('struct opaque'), undefined, 'a declaration is not a definition');
      assert.equal(d.findEnumerator('BLUE')!.value, -7n);
      assert.equal(d.findEnumerator('ANON_MAX')!.value, 300n);
      assert.equal(d.findVariable('counter')!.type.kind, 'base');
      assert.equal(strip(d.findVariable('the_foo')!.type).kind, 'struct');
      assert.equal(d.findVariable('local_only'), undefined, 'function locals are not globals');
      const fn = d.findFunction('do_thing')!.type;
      assert.ok(fn.kind === 'function' && fn.params.length === 1);
      assert.deepEqual(d.typeNames('struct f'), ['struct foo']);
    });
  }

  test('a warm start from the cache answers as the cold scan did; a corrupt cache is rebuilt', async () => {
    const { elf } = buildDwarf(kernelish(5), 5);
    const bytes = elf.bytes;
    const own = join(dir, 'cache-own');
    const p = write(bytes);
    const cold = await DebugInfo.open(p, { cacheDir: own });
    const warm = await DebugInfo.open(p, { cacheDir: own });
    for (const name of ['counter', 'the_foo'])
      assert.deepEqual(warm.findVariable(name)?.dieOffset, cold.findVariable(name)?.dieOffset);
    assert.equal(warm.findEnumerator('BLUE')!.value, -7n);
    assert.equal(sizeOf(warm.findType('struct foo')!), 64);
  });

  for (const version of [5, 4] as const)
    test(`truncated and corrupted .debug_info (DWARF ${version}${version === 4 ? ', names as strp: the targeted search' : ''}): only BadDataError or LookupError, never a hang or a crash`, async () => {
      const { elf } = buildDwarf(kernelish(version), version);
      const infoAt = elf.dataOffset[elf.index.get('.debug_info')!]!;
      const good = elf.bytes;
      let seed = 12345;
      const rand = (k: number): number => {
        seed = (seed * 1103515245 + 12345) >>> 0;
        return seed % k;
      };
      const cases: Uint8Array[] = [];
      // Every byte of the unit set to 0xff, 0x00 and a random value, one at a time.
      const infoLen = 400;
      for (let i = 0; i < infoLen; i += 3) {
        for (const v of [0xff, 0x00, rand(256)]) {
          const b = good.slice();
          b[infoAt + i] = v;
          cases.push(b);
        }
      }
      let opened = 0;
      for (const b of cases) {
        try {
          const d = await DebugInfo.open(write(b), { cacheDir: join(dir, 'nocache') });
          opened++;
          for (const t of ['struct foo', 'foo_t', 'struct foo *']) {
            const ty = d.findType(t);
            if (ty) sizeOf(ty);
          }
          d.findVariable('the_foo');
          d.findEnumerator('BLUE');
          d.findFunction('do_thing');
        } catch (e) {
          if (!(e instanceof BadDataError) && !(e instanceof LookupError)) throw e;
          if (e instanceof BadDataError) assert.match(e.message, /\.debug_(info|abbrev|str)/);
        }
      }
      assert.ok(opened > 0 && opened < cases.length, `${opened} of ${cases.length} opened`);
    });

  test('a type that refers to itself does not loop', async () => {
    const dies: SynthDie[] = [
      {
        tag: TAG.typedef,
        label: 'loop',
        attrs: [
          [AT.name, FORM.strp, 'loop_t'],
          [AT.type, FORM.ref4, { ref: 'loop' }],
        ],
      },
    ];
    const { elf } = buildDwarf(dies, 5);
    const d = await DebugInfo.open(write(elf.bytes), { cacheDir: join(dir, 'nocache') });
    const t = d.findType('loop_t')!;
    assert.equal(sizeOf(t), 0);
    assert.equal(strip(t).kind, 'typedef');
  });

  for (const version of [5, 4] as const) {
    test(`DWARF ${version} type units (${version === 5 ? 'in .debug_info' : 'in .debug_types'}): DW_FORM_ref_sig8 and DW_AT_signature lead to the type`, async () => {
      const sig = 0x1122334455667788n;
      const { elf } = buildDwarfUnits([
        {
          version,
          name: 'user.c',
          dies: [
            // The skeleton a DWARF 4 unit keeps for a type it moved to a type unit.
            declared('skel', 'in_tu', [AT.signature, FORM.ref_sig8, sig]),
            pointerTo('p_skel', 'skel'),
            {
              tag: TAG.variable,
              attrs: [
                [AT.name, FORM.strp, 'by_sig'],
                [AT.type, FORM.ref_sig8, sig],
                [AT.location, FORM.exprloc, located(0xffffffff82000000n)],
              ],
            },
            globalVar('by_skeleton', 'p_skel', 0xffffffff82000040n),
          ],
        },
        {
          kind: 'type',
          version,
          signature: sig,
          typeLabel: 'tu_struct',
          dies: [
            longType('tu_long'),
            structOf('tu_struct', 'in_tu', 16, [member('a', 'tu_long', 0), member('b', 'tu_long', 8)]),
          ],
        },
      ]);
      const d = await DebugInfo.open(write(elf.bytes), { cacheDir: join(dir, 'nocache') });
      const t = d.findType('struct in_tu')!;
      assert.equal(t.kind, 'struct');
      assert.equal(sizeOf(t), 16);
      assert.equal(findMember(t, 'b')!.offset, 8);
      const v = strip(d.findVariable('by_sig')!.type);
      assert.ok(v.kind === 'struct' && v.members.length === 2, "ref_sig8 resolves to the type unit's struct");
      const p = strip(d.findVariable('by_skeleton')!.type);
      assert.ok(p.kind === 'pointer');
      assert.equal(sizeOf(p.target), 16, "the skeleton declaration is the type unit's struct");
      assert.equal(findMember(p.target, 'a')!.offset, 0);
    });
  }

  test('partial units (dwz-style) imported by a compile unit: their types and references between units', async () => {
    const { elf } = buildDwarfUnits([
      {
        kind: 'partial',
        name: 'shared',
        dies: [longType('pu_long'), structOf('pu_struct', 'shared_s', 8, [member('x', 'pu_long', 0)])],
      },
      {
        name: 'main.c',
        dies: [
          { tag: TAG.imported_unit, attrs: [[AT.import, FORM.ref_addr, { ref: 'pu_struct' }]] },
          {
            tag: TAG.variable,
            attrs: [
              [AT.name, FORM.strp, 'uses_shared'],
              [AT.type, FORM.ref_addr, { ref: 'pu_struct' }],
              [AT.location, FORM.exprloc, located(0xffffffff82000080n)],
            ],
          },
        ],
      },
    ]);
    const d = await DebugInfo.open(write(elf.bytes), { cacheDir: join(dir, 'nocache') });
    assert.equal(sizeOf(d.findType('struct shared_s')!), 8);
    const t = strip(d.findVariable('uses_shared')!.type);
    assert.ok(t.kind === 'struct' && t.name === 'shared_s' && findMember(t, 'x')!.offset === 0);
  });

  for (const index of ['search', 'full'] as const) {
    test(`a struct only declared in one unit is completed from its definition in another (${index} index)`, async () => {
      const { elf } = buildDwarfUnits([
        {
          version: 4,
          name: 'a.c',
          dies: [
            declared('decl', 'opaque_here'),
            pointerTo('p_decl', 'decl'),
            globalVar('ptr_to_opaque', 'p_decl', 0xffffffff820000c0n),
            declared('nodef', 'never_defined'),
            pointerTo('p_nodef', 'nodef'),
            globalVar('ptr_to_nothing', 'p_nodef', 0xffffffff82000100n),
          ],
        },
        {
          version: 4,
          name: 'b.c',
          dies: [
            longType('b_long'),
            structOf(undefined, 'opaque_here', 24, [member('first', 'b_long', 0), member('third', 'b_long', 16)]),
          ],
        },
      ]);
      const d = await DebugInfo.open(write(elf.bytes), { cacheDir: join(dir, 'nocache'), index });
      assert.equal(d.indexed, index === 'full');
      const p = strip(d.findVariable('ptr_to_opaque')!.type);
      assert.ok(p.kind === 'pointer' && p.target.kind === 'struct');
      assert.equal(sizeOf(p.target), 24);
      assert.equal(findMember(p.target, 'third')!.offset, 16);
      assert.equal(p.target.declaration, undefined);
      const q = strip(d.findVariable('ptr_to_nothing')!.type);
      assert.ok(q.kind === 'pointer' && q.target.kind === 'struct');
      assert.equal(q.target.declaration, true);
      assert.equal(q.target.members.length, 0);
    });
  }
});
