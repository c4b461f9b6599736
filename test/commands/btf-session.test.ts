import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Program } from '../../program/index.js';
import { loadSample, oracleText, SAMPLE_NAMES, type SampleName } from '../lib/samples.js';
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

describe("a dump whose BTF is damaged (the sysrq sample's ELF dump, its BTF header's type length made absurd)", () => {
  test('the session says once what is wrong with it and where, commands that need types say so, the rest work', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['elf-d31']!.path;
    const good = Program.open({ vmcore: src });
    let phys: bigint;
    try {
      phys = good.memory.virtToPhys(good.symbolAddress('__start_BTF')!);
    } finally {
      good.close();
    }
    // The file offset of that physical address: the ELF core's PT_LOAD segment holding it.
    const bytes = readFileSync(src);
    let at = -1;
    const phoff = Number(bytes.readBigUInt64LE(0x20));
    for (let i = 0; i < bytes.readUInt16LE(0x38); i++) {
      const ph = phoff + i * bytes.readUInt16LE(0x36);
      const paddr = bytes.readBigUInt64LE(ph + 0x18);
      const filesz = bytes.readBigUInt64LE(ph + 0x20);
      if (bytes.readUInt32LE(ph) === 1 && phys >= paddr && phys < paddr + filesz)
        at = Number(bytes.readBigUInt64LE(ph + 8) + (phys - paddr));
    }
    assert.ok(at > 0, '__start_BTF is in a PT_LOAD segment');
    assert.equal(bytes.readUInt16LE(at), 0xeb9f, 'the BTF magic is there');
    // type_len (header offset 12): far past the end of the blob.
    bytes.writeUInt32LE(0x7fffff00, at + 12);
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-btf-bad-'));
    const bad = join(dir, 'vmcore');
    writeFileSync(bad, bytes);
    const p = Program.open({ vmcore: bad });
    try {
      const ps = await run(p, 'ps');
      assert.match(
        ps,
        /^ps: .*needs debug info: the dump's BTF is not usable; start tscrash with the matching vmlinux/,
      );
      assert.equal(p.warnings.length, 1);
      assert.match(
        p.warnings[0]!,
        /^types: the dump's BTF is not usable: the dump's BTF \(__start_BTF at 0x[0-9a-f]+\): offset 0x8: type section \[0x18, 0x7fffff18\) past the end/,
      );
      // Asked again: the same answer, no second warning.
      assert.match(await run(p, 'struct list_head'), /needs debug info/);
      assert.equal(p.warnings.length, 1);
      // What needs no types still works: the log, and bt from kallsyms and ORC.
      assert.equal(await run(p, 'log'), oracleText(m, 'crash-log'));
      assert.match(await run(p, 'bt'), /#0 \[[0-9a-f]+\] machine_kexec at /);
    } finally {
      p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
