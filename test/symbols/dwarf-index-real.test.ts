import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import { buildNameIndex } from '../../symbols/dwarf/name-index.js';
import { DwarfReader } from '../../symbols/dwarf/reader.js';
import { ElfFile } from '../../symbols/elf.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Maps {
  typeIndex: Map<string, number>;
  variables: Map<string, number>;
  functions: Map<string, number>;
  enumerators: Map<string, [number, number]>;
}

for (const name of SAMPLE_NAMES) {
  describe(`the DWARF name index of the ${name} sample's vmlinux`, () => {
    test('the parallel scan, the one-thread scan, a warm start and a rebuilt corrupt cache all agree', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const cache = join(dir, name);
      // Built by two worker threads (whatever the machine's CPU count), each reading and scanning a share.
      process.env.TSCRASH_INDEX_WORKERS = '2';
      const cold = (await DebugInfo.open(m.vmlinux, { cacheDir: cache })) as unknown as Maps;
      delete process.env.TSCRASH_INDEX_WORKERS;
      const elf = ElfFile.open(m.vmlinux);
      const one = buildNameIndex(new DwarfReader(elf));
      elf.close();
      assert.deepEqual(cold.typeIndex, one.types);
      assert.deepEqual(cold.variables, one.variables);
      assert.deepEqual(cold.functions, one.functions);
      assert.equal(cold.enumerators.size, one.enumerators.size);
      for (const [k, [die]] of one.enumerators) assert.equal(cold.enumerators.get(k)?.[0], die, k);
      assert.ok(one.types.size > 5000 && one.variables.size > 10000 && one.functions.size > 30000);

      const warm = await DebugInfo.open(m.vmlinux, { cacheDir: cache });
      assert.deepEqual((warm as unknown as Maps).variables, cold.variables);
      assert.deepEqual((warm as unknown as Maps).functions, cold.functions);
      assert.deepEqual((warm as unknown as Maps).typeIndex, cold.typeIndex);
      assert.deepEqual((warm as unknown as Maps).enumerators, cold.enumerators);
      assert.equal(warm.findEnumerator('PIDTYPE_PID')!.value, 0n);
      assert.equal(warm.findType('struct task_struct')!.kind, 'struct');
      assert.equal(warm.findVariable('runqueues')!.type.kind, 'struct');

      // A damaged cache file is not trusted: it is rebuilt and gives the same answers.
      const [file] = readdirSync(cache);
      writeFileSync(join(cache, file!), 'TSCRASH-NAMEIDX\0garbage');
      const rebuilt = (await DebugInfo.open(m.vmlinux, { cacheDir: cache })) as unknown as Maps;
      assert.deepEqual(rebuilt.functions, one.functions);
    });
  });
}
