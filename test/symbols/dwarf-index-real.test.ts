import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import { buildNameIndex, type NameIndex } from '../../symbols/dwarf/name-index.js';
import { type NameKind, NameSearch, searchUnsupported } from '../../symbols/dwarf/name-search.js';
import { DwarfReader } from '../../symbols/dwarf/reader.js';
import { ElfFile } from '../../symbols/elf.js';
import { SymbolTable } from '../../symbols/symtab.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Maps {
  typeIndex: Map<string, number>;
  variables: Map<string, number>;
  functions: Map<string, number>;
  enumerators: Map<string, [number, number]>;
}

/** The full name index a DebugInfo holds, as the maps the one-thread scan gives. */
function maps(d: DebugInfo): Maps {
  const idx = (d as unknown as { index: NameIndex | undefined }).index;
  assert.ok(idx, 'the full index is built');
  return { typeIndex: idx.types, variables: idx.variables, functions: idx.functions, enumerators: idx.enumerators };
}

/** Every `step`-th key of a map, in its order. */
function every<K, V>(m: Map<K, V>, step: number): K[] {
  const out: K[] = [];
  let i = 0;
  for (const k of m.keys()) if (i++ % step === 0) out.push(k);
  return out;
}

for (const name of SAMPLE_NAMES) {
  describe(`the DWARF name index of the ${name} sample's vmlinux`, () => {
    test('the parallel scan, the one-thread scan, a warm start and a rebuilt corrupt cache all agree', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const cache = join(dir, name);
      // Built by two threads (whatever the machine's CPU count): this one and a worker, each reading and scanning a share.
      process.env.TSCRASH_INDEX_WORKERS = '2';
      const cold = maps(await DebugInfo.open(m.vmlinux, { cacheDir: cache, index: 'full' }));
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
      assert.deepEqual(maps(warm).variables, cold.variables);
      assert.deepEqual(maps(warm).functions, cold.functions);
      assert.deepEqual(maps(warm).typeIndex, cold.typeIndex);
      assert.deepEqual(maps(warm).enumerators, cold.enumerators);
      assert.equal(warm.findEnumerator('PIDTYPE_PID')!.value, 0n);
      assert.equal(warm.findType('struct task_struct')!.kind, 'struct');
      assert.equal(warm.findVariable('runqueues')!.type.kind, 'struct');

      // A damaged cache file is not trusted: it is rebuilt and gives the same answers.
      const [file] = readdirSync(cache);
      writeFileSync(join(cache, file!), 'TSCRASH-NAMEIDX\0garbage');
      const rebuilt = maps(await DebugInfo.open(m.vmlinux, { cacheDir: cache, index: 'full' }));
      assert.deepEqual(rebuilt.functions, one.functions);
    });

    test('with no cached index, the targeted search answers as the full index does', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const full = buildNameIndex(new DwarfReader(elf));
      const linked = SymbolTable.fromElf(elf, 0n);
      const reader = new DwarfReader(elf, { units: DwarfReader.unitRecords(elf) });
      assert.equal(searchUnsupported(elf, reader.units), undefined);
      const search = new NameSearch(reader, elf, (n) => linked.lookupAll(n).map((e) => e.address));
      // A spread of each kind's names (one search serving them all, in turn, as in a session), the names the
      // helpers look up first, and names that are not there.
      const cases: [NameKind, string, number | [number, number] | undefined][] = [];
      const kinds: [NameKind, Map<string, number | [number, number]>, number][] = [
        ['types', full.types, Math.ceil(full.types.size / 40)],
        ['variables', full.variables, Math.ceil(full.variables.size / 40)],
        ['functions', full.functions, Math.ceil(full.functions.size / 30)],
        ['enumerators', full.enumerators, Math.ceil(full.enumerators.size / 30)],
      ];
      for (const [kind, map, step] of kinds) for (const k of every(map, step)) cases.push([kind, k, map.get(k)]);
      for (const k of [
        'struct task_struct',
        'struct rq',
        'struct list_head',
        'u64',
        'long unsigned int',
        'enum pid_type',
      ])
        cases.push(['types', k, full.types.get(k)]);
      for (const k of ['jiffies', 'runqueues', 'init_task', 'modules', 'nr_cpu_ids', '__per_cpu_offset'])
        cases.push(['variables', k, full.variables.get(k)]);
      cases.push(['types', 'struct no_such_struct_here', undefined], ['variables', 'no_such_variable', undefined]);
      for (const [kind, key, want] of cases) {
        const got = search.lookup(kind, key);
        if (kind === 'enumerators')
          assert.equal(
            (got as [number, number] | undefined)?.[0],
            (want as [number, number] | undefined)?.[0],
            `${kind} ${key}`,
          );
        else assert.equal(got, want, `${kind} ${key}`);
      }
      assert.ok(cases.length > 150);
      // Far less than the full scan read and decoded.
      const size = elf.section('.debug_info')!.size;
      assert.ok(search.bytesIndexed < size / 2, `${search.bytesIndexed} of ${size} bytes indexed`);
      elf.close();
    });
  });
}
