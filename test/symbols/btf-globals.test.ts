import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BTF_GLOBALS } from '../../program/btf-globals.js';
import { Program } from '../../program/index.js';
import { typeName } from '../../program/object.js';
import { SAMPLE_NAMES } from '../lib/samples.js';
import { sampleProgram } from '../lib/session.js';

for (const name of SAMPLE_NAMES) {
  describe(`the globals table for BTF on the ${name} sample`, () => {
    test("every global the table types has the vmlinux DWARF's type, address and size", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files['kdump-c-d31']!.path });
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
          if (typeName(got.type) !== typeName(want.type) || got.size !== want.size || got.address !== want.address)
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
