/**
 * Page classification on a synthetic kernel of two generations: 6.1 (PG_slab,
 * compound_order/dtor in the first tail, HUGETLB_PAGE_DTOR, negative
 * PAGE_*_MAPCOUNT_VALUEs) and 6.12 (page types as whole values in the top
 * byte of page_type, folio order in _flags_1, no PG_slab). The real 6.1 sample
 * test compares the bitmap with makedumpfile's; this one covers every class.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ElfSource } from '../../core/writer/elf-source.js';
import { Messages } from '../../core/writer/messages.js';
import { prepareDump } from '../../core/writer/prepare.js';
import { bitmapBit, readKdump } from './kdump-read.js';
import { runCli } from './run-cli.js';
import { type Generation, KERNEL_PFNS, KMAP, PG, SyntheticKernel, typeValue } from './synthetic-kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmkd-filter-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const quiet = new Messages(0, false, true);

const P = {
  buddy: 0x100, // order 3: 0x100..0x107
  cache: 0x110,
  cachePrivate: 0x111,
  anon: 0x112,
  thp: 0x114, // anon order 2: 0x114..0x117
  hugetlb: 0x120, // order 3, not anon: 0x120..0x127
  slabOdd: 0x130, // slab page whose mapping is odd (slab.slabs aliasing mapping)
  hwpoison: 0x131,
  offline: 0x132,
  swapcache: 0x133,
  zero: 0x134,
  kernelAnon: KERNEL_PFNS[0] + 5, // inside the kernel text: never excluded
  freedInit: KERNEL_PFNS[0] + 0x55, // kernel image, init section (freed after boot): an ordinary page
  freedDecrypted: KERNEL_PFNS[0] + 0x75, // kernel image, unused decrypted bss (freed): an ordinary page
  unmarkedTail: 0x140, // compound tail of a kept head: kept
};

/** `oracle`: only states a real 6.1 kernel can have (for the comparison with makedumpfile 1.7.2). */
function build(gen: Generation, oracle = false): string {
  const k = new SyntheticKernel(gen);
  const buddyVal = typeValue(gen, 'buddy');
  k.setPage(P.buddy, { mapcount: buddyVal, private: 3 });
  for (let i = 1; i < 8; i++) k.setPage(P.buddy + i, {});
  k.setPage(P.cache, { flags: 1 << PG.lru, mapping: 0x1000 });
  k.setPage(P.cachePrivate, { flags: (1 << PG.lru) | (1 << PG.private), mapping: 0x1000 });
  k.setPage(P.anon, { flags: 1 << PG.lru, mapping: 0x2001 });
  k.setCompound(P.thp, 2, { flags: 1 << PG.lru, mapping: 0x2001 }, false);
  k.setCompound(P.hugetlb, 3, { mapping: 0x3000 }, true);
  // 6.2+ aliases slab.slabs with page.mapping (odd values happen); on 6.1 it is the slab_cache pointer
  if (gen === '6.1') k.setPage(P.slabOdd, { flags: 1 << PG.slab, mapping: oracle ? 0x5000 : 0x5001 });
  else k.setPage(P.slabOdd, { mapping: 0x5001, mapcount: typeValue(gen, 'slab') });
  k.setPage(P.hwpoison, { flags: 1 << PG.hwpoison });
  k.setPage(P.offline, { mapcount: typeValue(gen, 'offline') });
  k.setPage(P.swapcache, { flags: (1 << PG.swapcache) | (1 << PG.swapbacked), mapping: 0x1000 });
  k.zeroPage(P.zero);
  if (!oracle) k.setPage(P.kernelAnon, { mapping: 0x2001 });
  k.setPage(P.freedInit, { mapping: 0x2001 });
  k.setPage(P.freedDecrypted, { mapping: 0x2001 });
  const img = (pfn: number) => KMAP + BigInt(pfn * 4096);
  const K = KERNEL_PFNS[0];
  k.addKallsyms({
    _stext: img(K),
    _etext: img(K + 0x10) - 0x123n,
    __start_rodata: img(K + 0x20),
    __end_rodata: img(K + 0x30),
    _sdata: img(K + 0x40),
    _edata: img(K + 0x50),
    __init_begin: img(K + 0x50),
    __init_end: img(K + 0x60),
    __bss_start: img(K + 0x60),
    __start_bss_decrypted_unused: img(K + 0x70),
    __end_bss_decrypted: img(K + 0x80),
    __bss_stop: img(K + 0x80),
  });
  k.setCompound(P.unmarkedTail, 1, {}, false);
  const path = join(dir, `core-${gen}${oracle ? '-oracle' : ''}`);
  k.write(path);
  return path;
}

for (const gen of ['6.1', '6.12'] as const) {
  test(`page classes on a synthetic ${gen} kernel`, () => {
    const path = build(gen);
    const src = new ElfSource(path);
    try {
      const d31 = prepareDump(src, { dumpLevel: 31, messages: quiet });
      const kept = (pfn: number) => d31.bitmap2.get(pfn);
      for (let i = 0; i < 8; i++) assert.equal(kept(P.buddy + i), false, `buddy +${i}`);
      assert.equal(kept(P.cache), false);
      assert.equal(kept(P.cachePrivate), false);
      assert.equal(kept(P.anon), false);
      for (let i = 0; i < 4; i++) assert.equal(kept(P.thp + i), false, `thp +${i}`);
      for (let i = 0; i < 8; i++) assert.equal(kept(P.hugetlb + i), false, `hugetlb +${i}`);
      assert.equal(kept(P.slabOdd), true, 'a slab page is never user data');
      assert.equal(kept(P.hwpoison), false);
      assert.equal(kept(P.offline), false);
      assert.equal(kept(P.swapcache), false);
      assert.equal(kept(P.kernelAnon), true, 'kernel text pages are kept');
      assert.equal(kept(P.freedInit), false, 'a freed init page reused as anon is user data');
      assert.equal(kept(P.freedDecrypted), false, 'a freed decrypted-bss page reused as anon is user data');
      assert.equal(kept(P.unmarkedTail), true);
      assert.equal(kept(P.unmarkedTail + 1), true);
      assert.equal(kept(P.zero), true, 'zero pages are decided while writing, from the data');
      assert.deepEqual(
        { ...d31.counts },
        {
          zero: 0,
          cache: 2,
          cachePrivate: 1,
          user: 1 + 4 + 8 + 2,
          free: 8,
          hwpoison: 1,
          offline: 1,
          keptKernelImage: 1,
        },
      );
      assert.equal(d31.header.crashTime, 1700000001n);
      assert.equal(
        Buffer.from(d31.header.utsname.subarray(65, 130)).toString('latin1').replace(/\0.*$/s, ''),
        'synthhost',
      );

      // each level alone
      const only = (lvl: number) => prepareDump(src, { dumpLevel: lvl, messages: quiet }).bitmap2;
      const b2 = only(2);
      assert.equal(b2.get(P.cache), false);
      assert.equal(b2.get(P.cachePrivate), true);
      assert.equal(b2.get(P.anon), true);
      assert.equal(b2.get(P.buddy), true);
      assert.equal(b2.get(P.hwpoison), false, 'hwpoison always');
      assert.equal(b2.get(P.offline), false, 'offline always');
      const b4 = only(4);
      assert.equal(b4.get(P.cachePrivate), false);
      assert.equal(b4.get(P.cache), false);
      const b8 = only(8);
      assert.equal(b8.get(P.anon), false);
      assert.equal(b8.get(P.hugetlb + 7), false);
      assert.equal(b8.get(P.cache), true);
      const b16 = only(16);
      assert.equal(b16.get(P.buddy + 7), false);
      assert.equal(b16.get(P.anon), true);
      const b0 = only(0);
      assert.equal(b0.get(P.anon), true);
      assert.equal(b0.get(P.offline), false);
    } finally {
      src.close();
    }
  });
}

test("synthetic 6.1 kernel: our 2nd bitmap equals makedumpfile's for every dump level bit", (t) => {
  if (spawnSync('makedumpfile', ['-v']).status !== 0) {
    t.skip('makedumpfile not installed');
    return;
  }
  const path = build('6.1', true);
  for (const level of [0, 1, 2, 4, 8, 16, 31]) {
    const theirs = join(dir, `mdf-${level}`);
    const ours = join(dir, `ours-${level}`);
    const m = spawnSync('makedumpfile', ['-d', String(level), path, theirs], { encoding: 'utf8' });
    assert.equal(m.status, 0, m.stdout + m.stderr);
    const r = runCli(['-d', String(level), path, ours]);
    assert.equal(r.status, 0, r.stderr);
    const a = readKdump(ours);
    const b = readKdump(theirs);
    assert.ok(a.bitmap1.equals(b.bitmap1), `-d ${level}: 1st bitmap`);
    const diff: string[] = [];
    for (let p = 0; p < a.maxPfn && diff.length < 8; p++) {
      if (bitmapBit(a.bitmap2, p) !== bitmapBit(b.bitmap2, p))
        diff.push(`0x${p.toString(16)}:${bitmapBit(a.bitmap2, p)}/${bitmapBit(b.bitmap2, p)}`);
    }
    assert.deepEqual(diff, [], `-d ${level}: 2nd bitmap (ours/theirs)`);
    assert.ok(a.raw.subarray(0, 424).equals(b.raw.subarray(0, 424)), `-d ${level}: header`);
    for (let p = 0; p < a.maxPfn; p++) {
      const pa = a.page(p);
      if (pa) assert.ok(pa.equals(b.page(p)!), `-d ${level}: pfn 0x${p.toString(16)}`);
    }
  }
});

test("synthetic 6.1 kernel: uncompressed kdump and -E outputs are byte-identical to makedumpfile's", (t) => {
  if (spawnSync('makedumpfile', ['-v']).status !== 0) {
    t.skip('makedumpfile not installed');
    return;
  }
  const path = build('6.1', true);
  for (const level of [0, 1, 31]) {
    for (const elf of [false, true]) {
      const args = [...(elf ? ['-E'] : []), '-d', String(level), path];
      const theirs = join(dir, `mdf-bytes-${level}-${elf}`);
      const ours = join(dir, `ours-bytes-${level}-${elf}`);
      const m = spawnSync('makedumpfile', [...args, theirs], { encoding: 'utf8' });
      assert.equal(m.status, 0, m.stdout + m.stderr);
      const r = runCli([...args, ours]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(readFileSync(ours).equals(readFileSync(theirs)), `${args.join(' ')}: not byte-identical`);
    }
  }
});
