import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Dump } from '../../core/dump.js';
import { FaultError } from '../../core/errors.js';
import { openDump } from '../../core/open.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const FORMATS: [string, string][] = [
  ['kdump-c-d31', 'kdump'],
  ['flat-c-d31', 'flattened-kdump'],
  ['kdump-l-d31', 'kdump'],
  ['kdump-d31', 'kdump'],
  ['kdump-c-d0', 'kdump'],
  ['elf-d31', 'elf'],
  ['reassembled-c-d31', 'kdump'],
];

for (const name of SAMPLE_NAMES) {
  describe(`dump formats on the ${name} sample`, () => {
    for (const [key, format] of FORMATS) {
      test(`${key}: every dumped page equals the raw ELF core's, excluded pages say so`, (t) => {
        const m = loadSample(name, t);
        if (!m) return;
        const elf = openDump(m.files.elf!.path);
        const d: Dump = openDump(m.files[key]!.path);
        try {
          assert.equal(d.info.format, format);
          assert.equal(d.pageSize, 4096);
          assert.ok(d.vmcoreinfo?.includes(`OSRELEASE=${m.release}`), 'VMCOREINFO found');
          let compared = 0;
          for (const pfn of d.presentPfns()) {
            if (d.pageState(pfn) !== 'dumped') continue;
            const a = d.readPage(pfn);
            const b = elf.readPage(pfn);
            if (Buffer.compare(a, b) !== 0) assert.fail(`${key}: pfn 0x${pfn.toString(16)} differs from the ELF core`);
            compared++;
          }
          assert.ok(compared > 10000, `compared ${compared} pages`);
          if (format !== 'elf') {
            // Pfns present in memory but filtered out must raise 'excluded' naming the pfn.
            let excluded = 0;
            for (let pfn = 0; pfn < d.maxPfn && excluded < 50; pfn++) {
              if (d.pageState(pfn) !== 'excluded') continue;
              excluded++;
              assert.throws(
                () => d.readPage(pfn),
                (e: unknown) =>
                  e instanceof FaultError && e.reason === 'excluded' && e.pfn === pfn && /excluded/.test(e.message),
              );
            }
            if (key !== 'kdump-c-d0') assert.ok(excluded > 0, 'some pages are excluded at -d 31');
          }
        } finally {
          d.close();
          elf.close();
        }
      });
    }
  });
}

describe("QEMU's own kdump-zlib output (dump-guest-memory -z)", () => {
  test("opens, every dumped page decodes, and its log equals crash's log of the same file", async (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const f = m.files['qemu-kdump-zlib'];
    assert.ok(f, 'the mce sample has a QEMU dump');
    const d = openDump(f.path);
    // QEMU 7.2 writes its kdump output in makedumpfile's flattened format.
    assert.match(d.info.format, /^(flattened-)?kdump$/);
    assert.deepEqual(d.info.compression, ['zlib']);
    // Without QEMU's vmcoreinfo device the file has no VMCOREINFO note: it is found in the guest's memory.
    assert.equal(d.vmcoreinfo, undefined);
    let n = 0;
    for (const pfn of d.presentPfns()) {
      if (d.pageState(pfn) === 'dumped') {
        assert.equal(d.readPage(pfn).length, 4096);
        n++;
      }
    }
    assert.ok(n > 50000, `${n} pages`);
    const { KernelMemory } = await import('../../core/kernel-memory.js');
    const { dumpDmesg } = await import('../../core/dmesg.js');
    const { readFileSync } = await import('node:fs');
    const mem = new KernelMemory(d);
    assert.equal(mem.vmcoreinfoSource, 'memory');
    assert.equal(mem.vmcoreinfo.osrelease, m.release);
    const got = Buffer.from(dumpDmesg(mem));
    assert.ok(got.equals(readFileSync(m.oracle['crash-qemu-log']!)), "dmesg equals crash's log of the QEMU file");
    d.close();
  });
});
