import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ORACLE_STRUCTS } from '../../samples/oracles.js';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

// Every struct the samples' pahole oracle covers (mce has no definition in some kernels: skipped when absent).
const STRUCTS = ORACLE_STRUCTS;

interface PaholeMember {
  name: string;
  offset: number;
  bit?: number;
}

/** pahole -C output: the struct's size and its top-level named members (one tab deep). */
function parsePahole(text: string): { size: number; members: PaholeMember[] } {
  const members: PaholeMember[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('\t') || line.startsWith('\t\t')) continue;
    const m = /\s\**(\w+)(?:\[[^\]]*\])*(?::\s*\d+)?;\s*\/\*\s*(\d+)(?::\s*(\d+))?\s+\d+\s*\*\//.exec(line);
    if (m && !/^\t}/.test(line))
      members.push({ name: m[1]!, offset: Number(m[2]), bit: m[3] !== undefined ? Number(m[3]) : undefined });
  }
  const size = /\/\* size: (\d+)/.exec(text);
  return { size: size ? Number(size[1]) : -1, members };
}

for (const name of SAMPLE_NAMES) {
  describe(`DWARF types of the ${name} sample's vmlinux`, () => {
    test("struct layouts equal pahole's (size, every top-level member's offset, bitfield positions)", async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const dt = (await DebugInfo.open(m.vmlinux)).types;
      let compared = 0;
      for (const s of STRUCTS) {
        const file = m.oracle[`pahole-${s}`];
        if (!file) continue;
        const want = parsePahole(readFileSync(file, 'latin1'));
        const got = dt.lookup(`struct ${s}`);
        assert.ok(got.kind === 'struct', s);
        assert.equal(got.size, want.size, `${s} size`);
        const named = new Map(got.members.filter((x) => x.name).map((x) => [x.name!, x]));
        for (const w of want.members) {
          const g = named.get(w.name);
          assert.ok(g, `${s}.${w.name} exists`);
          if (g.bitSize !== undefined && w.bit !== undefined) {
            assert.equal(g.bitOffset, w.offset * 8 + w.bit, `${s}.${w.name} bit position`);
          } else assert.equal(g.offset, w.offset, `${s}.${w.name} offset`);
          compared++;
        }
      }
      assert.ok(compared > 300, `${compared} members compared`);
    });
  });
}
