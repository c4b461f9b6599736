import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { dumpDmesg } from '../../core/dmesg.js';
import { describeDump } from '../../core/info.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { DUMP_KEYS, loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';

const ALL = DUMP_KEYS;

for (const name of SAMPLE_NAMES) {
  describe(`kernel memory on the ${name} sample`, () => {
    test('KASLR offset, phys_base and page_offset_base equal drgn; init_uts_ns gives OSRELEASE', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const facts = JSON.parse(oracleText(m, 'drgn-facts')) as Record<string, string>;
      for (const key of ['elf', 'kdump-c-d31', 'flat-c-d31']) {
        const mem: KernelMemory = new KernelMemory(openDump(m.files[key]!.path));
        assert.equal(`0x${mem.kaslrOffset.toString(16)}`, facts.kaslr_offset, `${key} KASLR`);
        assert.equal(`0x${mem.physBase.toString(16)}`, facts.phys_base, `${key} phys_base`);
        assert.equal(`0x${mem.pageOffsetBase?.toString(16)}`, facts.page_offset_base, `${key} page_offset_base`);
        const vi = mem.vmcoreinfo;
        const name0 = vi.symbol('init_uts_ns') + BigInt(vi.offsets.get('uts_namespace.name') ?? 0);
        // struct new_utsname: sysname[65], nodename[65], release[65]
        assert.equal(mem.readCString(name0 + 130n, 65, 'init_uts_ns.name.release'), vi.osrelease);
        assert.equal(mem.readCString(name0, 65, 'init_uts_ns.name.sysname'), 'Linux');
        // A direct-map read and a page-table walk of the same page agree.
        const pob = mem.pageOffsetBase!;
        const viaWalk = mem.walk(pob + 0x100000n);
        assert.equal(viaWalk.paddr, 0x100000n);
        mem.dump.close();
      }
    });

    test('--dump-dmesg equals makedumpfile --dump-dmesg for every format, and crash log', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const want = readFileSync(m.files.dmesg!.path);
      for (const key of ALL) {
        const d = openDump(m.files[key]!.path);
        const got = Buffer.from(dumpDmesg(new KernelMemory(d)));
        d.close();
        assert.ok(
          got.equals(want),
          `${key}: dmesg differs from makedumpfile's (${got.length} vs ${want.length} bytes)`,
        );
      }
      assert.equal(oracleText(m, 'crash-log'), want.toString('latin1'), 'crash log agrees too');
    });

    test('info finds the panic string crash shows', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const sys = oracleText(m, 'crash-sys');
      const panic = /PANIC: "(.*)"/.exec(sys)![1];
      for (const key of ['elf', 'kdump-c-d31', 'flat-c-d31']) {
        const d = openDump(m.files[key]!.path);
        const f = describeDump(d);
        d.close();
        assert.equal(f.panic, panic, key);
        assert.equal(f.release, m.release);
        assert.equal(f.cpus, key === 'elf' ? 2 : f.cpus);
        assert.deepEqual(f.warnings, []);
      }
    });
  });
}
