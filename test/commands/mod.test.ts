import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listModules, moduleSymbols } from '../../helpers/modules.js';
import { crashLive } from '../lib/crash-live.js';
import { oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { runOk, sampleProgram } from '../lib/session.js';

interface DrgnModule {
  name: string;
  module: string;
  base: string;
  size: number;
}

for (const name of SAMPLE_NAMES) {
  describe(`modules on the ${name} sample`, () => {
    test("mod equals crash's, and the modules are drgn's", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      assert.equal(await runOk(s.prog, 'mod'), oracleText(s.m, 'crash-mod'));
      const drgn = JSON.parse(oracleText(s.m, 'drgn-modules')) as DrgnModule[];
      const ours = listModules(s.prog).map((m) => ({
        name: m.name,
        module: `0x${m.address.toString(16)}`,
        base: `0x${m.base.toString(16)}`,
        size: Number(m.size),
      }));
      assert.deepEqual(ours, drgn);
    });

    test("module symbols from kallsyms resolve both ways as crash's sym shows them", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const mods = listModules(s.prog);
      if (mods.length === 0) {
        assert.match(await runOk(s.prog, 'mod'), /no modules installed/);
        return;
      }
      const picks: string[] = [];
      for (const m of mods) {
        const syms = moduleSymbols(s.prog, m).filter((x) => x.letter === 't' || x.letter === 'T');
        assert.ok(syms.length > 0, `${m.name} has text symbols`);
        const f = syms[Math.floor(syms.length / 2)]!;
        picks.push(`sym ${f.name}`, `sym ${(f.address + 4n).toString(16)}`);
      }
      const cmds = picks.slice(0, 8);
      const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, cmds);
      for (let i = 0; i < cmds.length; i++) assert.equal(await runOk(s.prog, cmds[i]!), want[i], cmds[i]);
    });
  });
}
