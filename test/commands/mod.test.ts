import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { listModules, moduleSymbols } from '../../helpers/modules.js';
import { objectFileInfo, Program } from '../../program/index.js';
import { crashLive } from '../lib/crash-live.js';
import { moduleDebugRoot } from '../lib/module-debug.js';
import { loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { run, runOk, sampleProgram } from '../lib/session.js';

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

/**
 * The mce sample's modules' debug objects (root stands for /usr/lib/debug), and a session of its own: the
 * modules' types must not leak into other tests' sessions.
 */
async function moduleSession(t: TestContext) {
  const m = loadSample('mce', t);
  if (!m) return undefined;
  const root = moduleDebugRoot(m, t);
  if (!root) return undefined;
  const dir = join(root, 'lib', 'modules', m.release);
  const nvme = join(dir, 'kernel', 'drivers', 'nvme', 'host', 'nvme.ko');
  const prog = await Program.load({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
  return { m, root, dir, nvme, prog };
}

describe('module debug info (mod -s, -S, -d) on the mce sample', () => {
  test("mod -s with a file, then struct/sym/whatis/dis -l/p of module code and data, mod -S, mod -d: equal to crash's", async (t) => {
    const s = await moduleSession(t);
    if (!s) return;
    const { m, dir, nvme, prog } = s;
    try {
      assert.match(
        await run(prog, 'struct nvme_dev'),
        /invalid data structure reference: nvme_dev/,
        'a module-only type before mod -s',
      );
      const cmds = [
        `mod -s nvme ${nvme}`,
        'mod',
        'sym nvme_probe',
        'struct nvme_dev',
        'struct -o nvme_queue',
        'whatis nvme_irq',
        'dis -l nvme_irq 3',
        // (crash's `p` of a module variable fails when its output is redirected, as crashLive does: checked below.)
        'rd -32 -d nvme_io_timeout',
        `mod -S ${dir}`,
        'mod',
        'sym nvme_complete_rq',
        'mod -d nvme',
        'mod',
      ];
      const want = crashLive(m.vmlinux, m.files['kdump-c-d31']!.path, cmds);
      for (let i = 0; i < cmds.length; i++) {
        if (cmds[i]!.startsWith('rd ')) continue;
        assert.equal(await runOk(prog, cmds[i]!), want[i], cmds[i]);
        if (cmds[i] === 'dis -l nvme_irq 3') {
          // A module variable (nvme_core's, typed by its DWARF): the value crash reads at its address.
          const value = /(\d+)\s*$/.exec(want[cmds.indexOf('rd -32 -d nvme_io_timeout')]!)![1];
          assert.equal(await runOk(prog, 'p nvme_io_timeout'), `nvme_io_timeout = $1 = ${value}\n`);
        }
      }
      assert.ok(prog.modulesWithDebug.size >= 6);
      await runOk(prog, 'mod -D');
      assert.equal(prog.modulesWithDebug.size, 0);
    } finally {
      prog.close();
    }
  });

  test('mod -s without a file finds it under the debug tree, by name or by build-id; a wrong file is refused', async (t) => {
    const s = await moduleSession(t);
    if (!s) return;
    const { root, dir, nvme, prog } = s;
    const saved = process.env.TSCRASH_DEBUG_ROOT;
    const scratch = mkdtempSync(join(tmpdir(), 'tscrash-moddebug-'));
    try {
      process.env.TSCRASH_DEBUG_ROOT = root;
      // By name ('nvme_core' is nvme-core.ko), under ROOT/lib/modules/RELEASE.
      assert.match(await runOk(prog, 'mod -s nvme_core'), /nvme_core .*\/nvme-core\.ko \n$/);
      // By build-id: ROOT/.build-id/xx/yyyy.debug (only there: another root with nothing else).
      const id = objectFileInfo(nvme)!.buildId!;
      const byId = join(scratch, '.build-id', id.slice(0, 2));
      mkdirSync(byId, { recursive: true });
      symlinkSync(nvme, join(byId, `${id.slice(2)}.debug`));
      process.env.TSCRASH_DEBUG_ROOT = scratch;
      assert.match(await runOk(prog, 'mod -s nvme'), new RegExp(`nvme .*${id.slice(2)}\\.debug \\n$`));
      assert.match(await runOk(prog, 'struct nvme_dev'), /^struct nvme_dev \{/);
      // Another module's object under this module's name: its build-id does not match.
      const wrong = join(scratch, 'nvme.ko');
      copyFileSync(join(dir, 'kernel', 'lib', 'crc64.ko'), wrong);
      assert.match(await run(prog, `mod -s nvme ${wrong}`), /build-id .* does not match module nvme/);
      assert.match(await run(prog, 'mod -s t10_pi'), /cannot find an object file with debug info for module t10_pi/);
      assert.match(await run(prog, 'mod -s no_such_module'), /no_such_module: not loaded/);
    } finally {
      if (saved === undefined) delete process.env.TSCRASH_DEBUG_ROOT;
      else process.env.TSCRASH_DEBUG_ROOT = saved;
      rmSync(scratch, { recursive: true, force: true });
      prog.close();
    }
  });
});
