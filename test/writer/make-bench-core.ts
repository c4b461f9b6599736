/**
 * A 512 MiB synthetic 6.1-style kernel core for benchmarking against
 * makedumpfile when the real samples are not available:
 *   npx tsx test/writer/make-bench-core.ts OUT [MiB]
 * Memory mix: kernel data (pages of the debug vmlinux when present, else
 * pseudo-text), page cache, anon pages, buddy free blocks, zero pages.
 */
import { existsSync, openSync, readSync } from 'node:fs';
import { PG, SyntheticKernel } from './synthetic-kernel.js';

const out = process.argv[2] ?? '/tmp/bench-core.elf';
const mib = Number(process.argv[3] ?? '512');
const npages = (mib << 20) / 4096;
const k = new SyntheticKernel('6.1', npages);
const VMLINUX = '/tmp/k/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64';
const text = Buffer.alloc(32 << 20);
if (existsSync(VMLINUX)) {
  const fd = openSync(VMLINUX, 'r');
  readSync(fd, text, 0, text.length, 16 << 20);
} else {
  for (let i = 0; i < text.length; i++) text[i] = (i * 2654435761) >>> 27;
}
let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed >>> 8;
};
const first = 0x3000; // leave the tables, vmemmap and kernel image area alone
for (let pfn = first; pfn < npages; ) {
  const r = rnd() % 100;
  if (r < 30) {
    // a free buddy block of order 0..4; content: stale data
    const order = rnd() % 5;
    if (pfn % (1 << order) !== 0 || pfn + (1 << order) > npages) {
      pfn++;
      continue;
    }
    k.setPage(pfn, { mapcount: -129, private: order });
    pfn += 1 << order;
  } else if (r < 45) {
    k.setPage(pfn, { flags: 1 << PG.lru, mapping: 0x1000 }); // page cache
    pfn++;
  } else if (r < 55) {
    k.setPage(pfn, { flags: 1 << PG.lru, mapping: 0x2001 }); // anon
    pfn++;
  } else if (r < 75) {
    k.zeroPage(pfn);
    pfn++;
  } else {
    // kernel data: a page of the vmlinux image
    const o = (rnd() % (text.length / 4096)) * 4096;
    text.copy(k.mem, pfn * 4096, o, o + 4096);
    pfn++;
  }
}
k.write(out);
console.log(`${out}: ${mib} MiB synthetic 6.1 kernel core`);
