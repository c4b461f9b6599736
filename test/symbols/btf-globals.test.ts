import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BTF_GLOBALS } from '../../program/btf-globals.js';
import { Program } from '../../program/index.js';
import { typeName } from '../../program/object.js';
import type { CType } from '../../symbols/dwarf/types.js';
import { SAMPLE_NAMES, type SampleName } from '../lib/samples.js';
import { sampleProgram } from '../lib/session.js';

/**
 * A type's spelling with every typedef replaced by what it names: the table gives one spelling of each
 * declaration, and the kernel's source may spell it with or without a typedef (node_data: `pg_data_t *[]` in
 * 6.1, `struct pglist_data *[]` in 6.12); the type is the same.
 */
function canonical(t: CType, depth = 0): string {
  if (depth > 32) return '?';
  switch (t.kind) {
    case 'typedef':
      return canonical(t.target, depth + 1);
    case 'pointer':
      return `${canonical(t.target, depth + 1)} *`;
    case 'qualified':
      return `${t.qualifier} ${canonical(t.target, depth + 1)}`;
    case 'array':
      return `${canonical(t.element, depth + 1)} ${t.counts.map((c) => `[${c ?? ''}]`).join('')}`;
    default:
      return typeName(t);
  }
}

// With k612, another kernel (6.12).
const CASES: [SampleName, string][] = [
  ...SAMPLE_NAMES.map((n): [SampleName, string] => [n, 'kdump-c-d31']),
  ['k612', 'elf-d31'],
];

for (const [name, key] of CASES) {
  describe(`the globals table for BTF on the ${name} sample`, () => {
    test("every global the table types has the vmlinux DWARF's type, address and size", async (t) => {
      const s = await sampleProgram(name, t, key);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files[key]!.path });
      try {
        assert.ok(bare.loadBtf(), `BTF loaded: ${bare.btfLoadError}`);
        const bad: string[] = [];
        let compared = 0;
        for (const g of Object.keys(BTF_GLOBALS)) {
          if (!s.prog.hasVariable(g)) {
            assert.equal(bare.hasVariable(g), false, `${g}: no DWARF variable, so none from BTF`);
            continue;
          }
          const want = s.prog.variable(g);
          if (!bare.hasVariable(g)) {
            bad.push(`${g}: missing (DWARF: ${typeName(want.type)})`);
            continue;
          }
          const got = bare.variable(g);
          if (canonical(got.type) !== canonical(want.type) || got.size !== want.size || got.address !== want.address)
            bad.push(
              `${g}: ${typeName(got.type)} (${got.size} bytes at ${got.address?.toString(16)}), DWARF: ${typeName(want.type)} (${want.size} bytes at ${want.address?.toString(16)})`,
            );
          compared++;
        }
        assert.deepEqual(bad, []);
        assert.ok(compared >= 30, `${compared} globals compared`);
      } finally {
        bare.close();
      }
    });
  });
}
