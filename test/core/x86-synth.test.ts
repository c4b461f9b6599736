import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaultError } from '../../core/errors.js';
import { canonical, type PhysReader, X86Translator } from '../../core/x86_64.js';

/** Sparse physical memory of u64 entries. */
class FakePhys implements PhysReader {
  readonly words = new Map<bigint, bigint>();
  set(addr: bigint, v: bigint): void {
    this.words.set(addr, v);
  }
  readPhysU64(paddr: bigint): bigint {
    return this.words.get(paddr) ?? 0n;
  }
}

const P = 0x1n;
const RW = 0x2n;
const PSE = 0x80n;
const NX = 1n << 63n;

function idx(v: bigint, shift: bigint): bigint {
  return (v >> shift) & 0x1ffn;
}

describe('x86-64 page-table walks, synthetic', () => {
  test('4-level: 4 KiB, 2 MiB and 1 GiB pages; not-present entries fault', () => {
    const mem = new FakePhys();
    const pgd = 0x1000n;
    const t = new X86Translator(
      { physBase: 0n, pgdPhys: pgd, levels: 4, smeMask: 0n, kernelImageSize: 1n << 30n },
      mem,
    );
    // 4K page: 0xffffc90000001000 -> 0x5000
    const v4k = 0xffffc90000001234n;
    mem.set(pgd + idx(v4k, 39n) * 8n, 0x2000n | P | RW);
    mem.set(0x2000n + idx(v4k, 30n) * 8n, 0x3000n | P | RW);
    mem.set(0x3000n + idx(v4k, 21n) * 8n, 0x4000n | P | RW);
    mem.set(0x4000n + idx(v4k, 12n) * 8n, 0x5000n | P | RW | NX);
    assert.equal(t.translate(v4k), 0x5234n);
    const w = t.walk(v4k);
    assert.deepEqual(
      w.steps.map((s) => s.level),
      ['PGD', 'PUD', 'PMD', 'PTE'],
    );
    assert.equal(w.pageSize, 4096);
    // 2M page
    const v2m = 0xffffc90000200000n + 0x12345n;
    mem.set(0x3000n + idx(v2m, 21n) * 8n, 0x40000000n | P | PSE);
    assert.equal(t.translate(v2m), 0x40012345n);
    assert.equal(t.walk(v2m).pageSize, 2 << 20);
    // 1G page
    const v1g = 0xffff888000000000n + 0x2345678n;
    mem.set(pgd + idx(v1g, 39n) * 8n, 0x6000n | P);
    mem.set(0x6000n + idx(v1g, 30n) * 8n, 0x80000000n | P | PSE);
    assert.equal(t.translate(v1g), 0x82345678n);
    // not present
    assert.throws(
      () => t.translate(0xffffc90000400000n),
      (e: unknown) => e instanceof FaultError && e.reason === 'not-mapped',
    );
    // non-canonical
    assert.equal(canonical(0x0000900000000000n, 4), -1n);
    assert.throws(() => t.translate(0x0000900000000000n), FaultError);
    // the kernel text map is linear from phys_base
    assert.equal(t.translate(0xffffffff81000000n), 0x1000000n);
  });

  test('5-level walk and the direct map is found from the page tables', () => {
    const mem = new FakePhys();
    const pgd = 0x10000n;
    const t = new X86Translator(
      { physBase: 0x200000n, pgdPhys: pgd, levels: 5, smeMask: 0n, kernelImageSize: 1n << 30n },
      mem,
    );
    const base = 0xff11000000000000n; // a 5-level direct map base, 1 GiB aligned
    mem.set(pgd + idx(base, 48n) * 8n, 0x11000n | P);
    mem.set(0x11000n + idx(base, 39n) * 8n, 0x12000n | P);
    mem.set(0x12000n + idx(base, 30n) * 8n, 0n | P | PSE); // 1 GiB page at phys 0
    assert.equal(t.findDirectMapBase(), base);
    assert.equal(t.translate(base + 0x1234n), 0x1234n);
    assert.deepEqual(
      t.walk(base).steps.map((s) => s.level),
      ['PGD', 'P4D', 'PUD'],
    );
    assert.equal(t.translate(0xffffffff80000000n + 0x10n), 0x200010n);
  });

  test('an SME mask is stripped from table addresses', () => {
    const mem = new FakePhys();
    const sme = 1n << 47n;
    const t = new X86Translator(
      { physBase: 0n, pgdPhys: 0x1000n, levels: 4, smeMask: sme, kernelImageSize: 1n << 30n },
      mem,
    );
    const v = 0xffffc90000000000n;
    mem.set(0x1000n + idx(v, 39n) * 8n, sme | 0x2000n | P);
    mem.set(0x2000n + idx(v, 30n) * 8n, sme | 0x40000000n | P | PSE);
    assert.equal(t.translate(v + 5n), 0x40000005n);
  });
});
