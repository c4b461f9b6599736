/**
 * kmem -i and kmem -s against crash's stored outputs on both real samples:
 * every figure and every cache line must be the same.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { listForEach } from '../../helpers/lists.js';
import { formatKmemInfo, pagesToSize } from '../../helpers/meminfo.js';
import { memMap, physToVirt, zones } from '../../helpers/mm.js';
import { cpuSlab, findCache, slabContents, slabCpus } from '../../helpers/slab.js';
import { cpuCurr, taskStructSize } from '../../helpers/tasks.js';
import { type Obj, strip } from '../../program/object.js';
import type { Program } from '../../program/program.js';
import { loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { closeSamples, crashOutputs, haveCrash, openSample, run } from './kmem-lib.js';

/** Physical address of the first free block of order > 0 on any zone's free lists. */
function firstFreeBlock(prog: Program): bigint {
  const mm = memMap(prog);
  const lru = BigInt(prog.offsetOf('struct page', 'lru'));
  for (const z of zones(prog)) {
    if (!z.free) continue;
    for (let order = 10; order > 0; order--) {
      const lists = z.obj.member('free_area').index(order).member('free_list');
      const t = strip(lists.type);
      const n = t.kind === 'array' ? (t.counts[0] ?? 1) : 1;
      for (let j = 0; j < n; j++) {
        for (const node of listForEach(lists.index(j))) return mm.pageToPhys(node - lru)!;
      }
    }
  }
  throw new Error('no free block of order > 0');
}

/** The panicking CPU's current task (panic_cpu is an atomic_t). */
function panicTaskOf(prog: Program): Obj {
  const v = prog.variable('panic_cpu');
  return cpuCurr(prog, (v.hasMember('counter') ? v.member('counter') : v).num());
}

describe('pages_to_size as crash prints it', () => {
  test('units, the dropped ".0" and printf rounding', () => {
    assert.equal(pagesToSize(0n, 4096), '0');
    assert.equal(pagesToSize(32n, 4096), '128 KB');
    assert.equal(pagesToSize(255n, 4096), '1020 KB');
    assert.equal(pagesToSize(256n, 4096), '1 MB');
    assert.equal(pagesToSize(8445n, 4096), '33 MB');
    assert.equal(pagesToSize(71102n, 4096), '277.7 MB');
    // 0.25 MB steps: printf rounds an exact tie to even.
    assert.equal(pagesToSize(256n + 64n, 4096), '1.2 MB');
    assert.equal(pagesToSize(256n * 3n + 192n, 4096), '3.8 MB');
    assert.equal(pagesToSize(262144n, 4096), '1 GB');
    assert.equal(pagesToSize(262144n + 13107n, 4096), '1 GB');
    assert.equal(pagesToSize(262144n + 13108n, 4096), '1.1 GB');
  });

  test('layout of the optional blocks', () => {
    const s = formatKmemInfo(
      {
        totalram: 1000n,
        free: 250n,
        used: 750n,
        shared: 0n,
        buffers: 0n,
        cached: 0n,
        slab: 10n,
        huge: { total: 512n, free: 0n },
        swap: { total: 2048n, used: 512n },
        commit: { limit: 0n, committed: 3n },
      },
      4096,
    );
    const lines = s.split('\n');
    assert.equal(lines[2], '         FREE      250      1000 KB   25% of TOTAL MEM');
    assert.equal(lines[9], '   TOTAL HUGE      512         2 MB         ----');
    assert.equal(lines[10], '    HUGE FREE        0            0    0% of TOTAL HUGE');
    assert.equal(lines[13], '    SWAP USED      512         2 MB   25% of TOTAL SWAP');
    assert.equal(lines[14], '    SWAP FREE     1536         6 MB   75% of TOTAL SWAP');
    // A zero commit limit prints COMMITTED without a percentage, as crash does.
    assert.equal(lines[17], '    COMMITTED        3        12 KB         ----');
  });
});

after(closeSamples);

for (const name of SAMPLE_NAMES) {
  describe(`kmem on the ${name} sample`, () => {
    test('kmem -i: every figure equals crash 8.0.2', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const prog = await openSample(m);
      assert.equal(await run(prog, 'kmem -i'), oracleText(m, 'crash-kmem-i'));
    });

    test('kmem -s: the same caches, sizes and counts as crash 8.0.2', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const prog = await openSample(m);
      const got = await run(prog, 'kmem -s');
      const want = oracleText(m, 'crash-kmem-s');
      assert.ok(want.split('\n').length > 100, 'the oracle lists the caches');
      assert.equal(got, want);
      // One cache by name: its header and line.
      const line = want.split('\n').find((l) => / kmalloc-64$/.test(l))!;
      assert.equal(await run(prog, 'kmem -s kmalloc-64'), `${want.split('\n')[0]}\n${line}\n`);
      assert.match(await run(prog, 'kmem -s no-such-cache'), /no-such-cache: no such kmem_cache/);
    });

    // kmem -S, kmem ADDR and kmem -p against crash run live (one crash start per sample). The addresses
    // come from tscrash's own results: the panic task, objects of a cache's CPU slabs (one allocated, one
    // free), an address inside the panic task's stack, a kernel text address, physical addresses.
    test('kmem -S, kmem ADDR, kmem -p, -f, -F, -v equal crash 8.0.2 run live (and -V, -s list)', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      if (!haveCrash()) {
        t.skip('crash is not installed');
        return;
      }
      const prog = await openSample(m);
      const task = panicTaskOf(prog);
      const taskAddr = task.address as bigint;
      const stackAddr = task.member('stack').value() + 0x3e00n;
      const text = prog.symbolAddress('schedule')! + 0x10n;
      const cache = findCache(prog, 'kmalloc-1k')!;
      let allocated: bigint | undefined;
      let free: bigint | undefined;
      for (const cpu of slabCpus(prog)) {
        const cs = cpuSlab(prog, cache, cpu);
        if (!cs.slab) continue;
        const c = slabContents(prog, cache, cs.slab);
        allocated ??= c.list.find((o) => !o.free)?.address;
        free ??= c.list.find((o) => o.free)?.address;
      }
      assert.ok(allocated !== undefined && free !== undefined, 'kmalloc-1k has an allocated and a free object');
      const taskPhys = prog.memory.virtToPhys(taskAddr);
      // The second page of the first free buddy block of order > 0 (crash misses a block's first page).
      const block = firstFreeBlock(prog);
      const freePage = block + BigInt(prog.memory.pageSize);
      const h = (v: bigint): string => v.toString(16);
      const commands = [
        'kmem -S kmalloc-1k',
        'kmem -S kmalloc-64',
        `kmem ${h(taskAddr)}`,
        `kmem ${h(allocated + 8n)}`,
        `kmem ${h(free)}`,
        `kmem ${h(stackAddr)}`,
        `kmem ${h(text)}`,
        `kmem ${h(taskPhys)}`,
        `kmem -s ${h(allocated)}`,
        `kmem -p ${h(taskAddr)}`,
        `kmem -p ${h(taskPhys)}`,
        'kmem -p 1000',
        'kmem -v',
        `kmem ${h(physToVirt(prog, freePage))}`,
        `kmem ${h(freePage + 0x10n)}`,
        'kmem -f',
        'kmem -F',
        `kmem -f ${h(physToVirt(prog, freePage))}`,
        'kmem -s list',
        'kmem -V',
        'kmem -z',
      ];
      const want = crashOutputs(m, commands);
      for (let i = 0; i < commands.length; i++) {
        assert.equal(await run(prog, commands[i]!), want[i]!, `${name}: ${commands[i]}`);
      }
      // The task's own lines say what it is.
      const k = await run(prog, `kmem ${h(taskAddr)}`);
      assert.match(k, / {2}task_struct\n/);
      assert.match(k, new RegExp(`\\[${h(taskAddr)}\\]`));
      assert.match(k, /STATE: TASK_RUNNING \(PANIC\)/);
    });

    test("kmem on each task's first and last byte names that task, as crash's ps lists them", async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const prog = await openSample(m);
      // The task's real extent: the FPU area at its end is sized to the CPU (arch_task_struct_size).
      const size = taskStructSize(prog);
      assert.ok(size <= BigInt(prog.sizeof('struct task_struct')));
      // Every task drgn lists, and the active ones crash 8.0.2 lists (drgn leaves out the other CPUs' idle tasks).
      const tasks = new Map<string, [string, string]>();
      for (const d of JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; task: string; comm: string }[])
        tasks.set(BigInt(d.task).toString(16), [String(d.pid), d.comm]);
      for (const l of oracleText(m, 'crash-ps').split('\n')) {
        const x = /^[ >]\s*(\d+)\s+\S+\s+\d+\s+([0-9a-f]+)\s+\S+\s+\S+\s+\d+\s+\d+\s+(.*)$/.exec(l);
        if (x) tasks.set(x[2]!, [x[1]!, x[3]!.replace(/^\[(.*)\]$/, '$1')]);
      }
      assert.ok(tasks.size > 20, `the oracles list ${tasks.size} tasks`);
      for (const [addr, [pid, comm]] of tasks) {
        const a = BigInt(`0x${addr}`);
        for (const at of [a, a + size - 1n]) {
          const out = await run(prog, `kmem ${at.toString(16)}`);
          const ctx = /PID: (\d+)\n\s*COMMAND: "(.*)"\n\s*TASK: ([0-9a-f]+)/.exec(out);
          assert.ok(ctx, `kmem ${at.toString(16)} names no task:\n${out}`);
          assert.deepEqual([ctx[1], ctx[2], ctx[3]], [pid, comm, addr], `kmem ${at.toString(16)}`);
        }
      }
    });
  });
}
