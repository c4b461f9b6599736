import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listModules, moduleSymbols } from '../../helpers/modules.js';
import { crashLive } from '../lib/crash-live.js';
import { SAMPLE_NAMES } from '../lib/samples.js';
import { runOk, sampleProgram } from '../lib/session.js';

for (const name of SAMPLE_NAMES) {
  describe(`dis on the ${name} sample`, () => {
    test("dis equals crash's, line for line", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const panic = s.prog.symbols.lookup('panic')!.address;
      const cmds = [
        'dis panic',
        'dis -l panic 5',
        `dis -r ${(panic + 28n).toString(16)}`,
        'dis schedule',
        'dis __schedule 60',
      ];
      const mods = listModules(s.prog);
      if (mods.length) {
        const f = moduleSymbols(s.prog, mods[0]!).find((x) => x.letter === 't' || x.letter === 'T');
        if (f) cmds.push(`dis ${f.name} 20`);
      } else cmds.push('dis sysrq_handle_crash');
      const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, cmds);
      let lines = 0;
      const diffs: string[] = [];
      for (let i = 0; i < cmds.length; i++) {
        const ours: string[] = (await runOk(s.prog, cmds[i]!)).split('\n');
        const theirs = want[i]!.split('\n');
        assert.equal(ours.length, theirs.length, `${cmds[i]}: line count`);
        for (let k = 0; k < ours.length; k++) {
          lines++;
          if (ours[k] !== theirs[k]) diffs.push(`${cmds[i]}\n  ours:  ${ours[k]}\n  crash: ${theirs[k]}`);
        }
      }
      assert.ok(lines > 300, `${lines} lines compared`);
      assert.deepEqual(diffs, []);
    });
  });
}
