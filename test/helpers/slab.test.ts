/**
 * The SLUB walker on the real samples: internal consistency that any slab
 * layout or free-pointer mistake would break.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { memMap } from '../../helpers/mm.js';
import {
  cacheCounts,
  cacheNodes,
  cpuPartialSlabs,
  cpuSlab,
  findSlabObject,
  kmemCaches,
  nodeListSlabs,
  readSlab,
  slabContents,
  slabCpus,
} from '../../helpers/slab.js';
import { closeSamples, openSample } from '../commands/kmem-lib.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

after(closeSamples);

for (const name of SAMPLE_NAMES) {
  describe(`SLUB on the ${name} sample`, () => {
    test('caches, slabs, freelists and object lookup agree with each other', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const prog = await openSample(m);
      {
        const caches = kmemCaches(prog);
        assert.ok(caches.length > 100);
        const mm = memMap(prog);
        let checkedObjects = 0;
        for (const c of caches.filter((x) => /^(kmalloc-(64|1k)|task_struct|dentry|kmem_cache)$/.test(x.name))) {
          assert.ok(c.size >= c.objectSize && c.objects > 0, c.name);
          const counts = cacheCounts(prog, c);
          assert.ok(counts.allocated <= counts.total, c.name);
          // Every slab we can reach belongs to the cache, is a struct page, and its freelists stay inside it.
          const slabs: bigint[] = [];
          for (const cpu of slabCpus(prog)) {
            const cs = cpuSlab(prog, c, cpu);
            if (cs.slab) slabs.push(cs.slab);
            slabs.push(...cpuPartialSlabs(prog, cs.partial));
          }
          for (const n of cacheNodes(prog, c)) if (n.address) slabs.push(...nodeListSlabs(prog, n.address, 'partial'));
          let freeSeen = 0n;
          for (const s of slabs) {
            assert.ok(mm.isPagePtr(s), `${c.name}: slab ${s.toString(16)} is a struct page`);
            const contents = slabContents(prog, c, s);
            assert.equal(contents.error, undefined, `${c.name}: ${contents.error}`);
            assert.equal(contents.list.length, readSlab(prog, s).objects);
            const nfree = contents.list.filter((o) => o.free).length;
            assert.equal(contents.objects - contents.inuse, nfree, `${c.name}: free objects of slab ${s.toString(16)}`);
            freeSeen += BigInt(nfree);
            // Every object maps back to this cache and slab, with the same state.
            for (const o of contents.list.slice(0, 8)) {
              const hit = findSlabObject(prog, o.address + 1n);
              assert.ok(hit, `${c.name}: ${o.address.toString(16)} is found`);
              assert.equal(hit.cache.address, c.address);
              assert.equal(hit.slab, s);
              assert.equal(hit.object?.address, o.address);
              assert.equal(hit.object?.free, o.free);
              checkedObjects++;
            }
          }
          // Full slabs have no free objects: the free objects counted are all on the slabs walked.
          assert.equal(counts.total - counts.allocated, freeSeen, `${c.name}: free objects`);
        }
        assert.ok(checkedObjects > 50);
        // A task_struct is an object of the task_struct cache.
        const init = prog.variable('init_task').member('tasks').member('next').value();
        const t1 = init - BigInt(prog.offsetOf('struct task_struct', 'tasks'));
        assert.equal(findSlabObject(prog, t1)?.cache.name, 'task_struct');
        // Kernel image data is not slab.
        assert.equal(findSlabObject(prog, prog.variable('init_task').address as bigint), undefined);
      }
    });
  });
}
