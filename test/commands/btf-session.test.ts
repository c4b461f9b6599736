import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Program } from '../../program/index.js';
import { SAMPLE_NAMES, type SampleName } from '../lib/samples.js';
import { run, sampleProgram } from '../lib/session.js';

/** Commands whose output, with no vmlinux (types from the dump's BTF), is the vmlinux session's. */
const SAME = [
  'ps',
  'bt',
  'bt -a',
  'task',
  'kmem -i',
  'kmem -s',
  'kmem -V',
  'mod',
  'runq',
  'log -T -m',
  'foreach bt',
  'struct task_struct',
  'struct -o page',
  'union thread_union',
  'p init_task.comm',
  'p jiffies',
  'p init_task.pid',
  'whatis struct task_struct',
  'whatis init_task',
  'ptype struct list_head',
  'struct list_head init_task.tasks',
  'mce',
];

// The two samples of every oracle test, and k612: another kernel (6.12), whose dump is read as ELF (the -d 31
// kdump lacks a page its task list goes through, with the vmlinux too).
const CASES: [SampleName, string][] = [
  ...SAMPLE_NAMES.map((n): [SampleName, string] => [n, 'kdump-c-d31']),
  ['k612', 'elf-d31'],
];

for (const [name, key] of CASES) {
  describe(`the ${name} sample with no vmlinux: types from the dump's BTF`, () => {
    test('ps, bt, task, kmem, mod, runq, log -T -m, struct, p, whatis, ptype print what the vmlinux session prints', async (t) => {
      const s = await sampleProgram(name, t, key);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files[key]!.path });
      try {
        const differ: string[] = [];
        for (const line of SAME) {
          const want = await run(s.prog, line);
          const got = await run(bare, line);
          assert.ok(want.length > 0, line);
          if (got !== want) differ.push(`${line}:\n--- BTF\n${got.slice(0, 2000)}\n--- DWARF\n${want.slice(0, 2000)}`);
        }
        assert.equal(bare.debug.source, 'btf');
        assert.deepEqual(differ, []);
      } finally {
        bare.close();
      }
    });
  });
}

describe("the oops sample (a module's crash) with no vmlinux: types from the dump's BTF", () => {
  test("bt names the module's frames from its kallsyms, read through struct module, as the vmlinux session does", async (t) => {
    const s = await sampleProgram('oops', t);
    if (!s) return;
    const bare = Program.open({ vmcore: s.m.files['kdump-c-d31']!.path });
    try {
      for (const line of ['bt', 'bt -a', 'mod', 'ps'])
        assert.equal(await run(bare, line), await run(s.prog, line), line);
      const bt = await run(bare, 'bt');
      assert.match(bt, /^ ?#\d+ \[[0-9a-f]+\] \w+ at [0-9a-f]+ \[\w+\]$/m, 'a module frame');
    } finally {
      bare.close();
    }
  });
});
