import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { allTasks } from '../../helpers/tasks.js';
import { unwindTask } from '../../helpers/unwind.js';
import { Program } from '../../program/index.js';
import { readKallsyms } from '../../program/kallsyms.js';
import { ElfFile } from '../../symbols/elf.js';
import { oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { runOk, sampleProgram } from '../lib/session.js';

interface DrgnStack {
  pid: number;
  task: string;
  frames: { name: string | null; pc: string; interrupted: boolean }[];
  error: string | null;
}

/** The functions the kernel's own Call Trace in the log marks unreliable ("? fn+0x../0x.."). */
function unreliable(log: string): Set<string> {
  return new Set([...log.matchAll(/\] {2}\? ([\w.]+)\+0x/g)].map((m) => m[1]!));
}

/**
 * crash 8.0.2 also lists stale return addresses it finds between real frames (the ones the kernel's own trace
 * marks "?"); drop those frames from crash's output and renumber, so the rest must match ours exactly.
 */
function withoutStale(crash: string, ours: string, stale: Set<string>): string {
  const keep = new Set(ours.split('\n').map((l) => l.replace(/^ *#\d+ /, '')));
  const out: string[] = [];
  let n = 0;
  for (const l of crash.split('\n')) {
    const m = /^ *#\d+ (\[[0-9a-f]+\] ([\w.]+) at [0-9a-f]+)$/.exec(l);
    if (m) {
      if (!keep.has(m[1]!)) {
        assert.ok(stale.has(m[2]!), `crash's frame ${l.trim()} is neither ours nor marked unreliable by the kernel`);
        continue;
      }
      out.push(`${`#${n++}`.padStart(3)} ${m[1]}`);
      continue;
    }
    if (/^PID: /.test(l)) n = 0;
    out.push(l);
  }
  return out.join('\n');
}

for (const name of SAMPLE_NAMES) {
  describe(`bt on the ${name} sample`, () => {
    test("bt and bt -a equal crash's (less the stale frames the kernel marks unreliable)", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const stale = unreliable(readFileSync(s.m.files.dmesg!.path, 'latin1'));
      for (const [cmd, key] of [
        ['bt', 'crash-bt'],
        ['bt -a', 'crash-bt-a'],
      ] as const) {
        const ours = await runOk(s.prog, cmd);
        assert.equal(ours, withoutStale(oracleText(s.m, key), ours, stale), cmd);
      }
    });

    test('the panic task has the reliable entries of the Call Trace the kernel logged', async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const log = readFileSync(s.m.files.dmesg!.path, 'latin1');
      const ours0 = await runOk(s.prog, 'bt');
      if (!log.includes('Call Trace:')) {
        // A machine-check panic logs no trace (mce_panic does not dump the stack).
        assert.match(ours0, / panic at [0-9a-f]+\n/);
        return;
      }
      const trace = log.slice(log.lastIndexOf('Call Trace:'));
      const reliable = [...trace.matchAll(/\] {2}([\w.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+( \[\w+\])?$/gm)].map((m) => m[1]!);
      const ours = [...(await runOk(s.prog, 'bt')).matchAll(/^ *#\d+ \[[0-9a-f]+\] ([\w.]+)/gm)].map((m) => m[1]!);
      // The log's trace starts inside panic (dump_stack_lvl); ours from machine_kexec, where the dump was taken.
      const from = ours.indexOf('panic');
      assert.ok(from > 0, ours.join(' '));
      assert.deepEqual(ours.slice(from), reliable.slice(reliable.indexOf('panic')));
    });

    test("every task's stack is drgn's (same return addresses, inline frames folded)", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const drgn = JSON.parse(oracleText(s.m, 'drgn-stacks')) as DrgnStack[];
      const tasks = new Map(allTasks(s.prog).map((x) => [x.address as bigint, x]));
      let compared = 0;
      for (const d of drgn) {
        const task = tasks.get(BigInt(d.task));
        assert.ok(task, `task ${d.task}`);
        // drgn reads a released stack's stale thread.sp too: it fails where that memory is unmapped.
        if (task.member('stack').value() !== 0n) assert.equal(d.error, null, `pid ${d.pid}`);
        // drgn lists inlined functions as frames of their own at the caller's pc; user-mode frames end it.
        const want = d.frames
          .filter((f, i) => !(i + 1 < d.frames.length && d.frames[i + 1]!.pc === f.pc))
          .filter((f) => BigInt(f.pc) >= 0xffff800000000000n)
          .map((f) => f.pc);
        const u = unwindTask(s.prog, task);
        if (task.member('stack').value() === 0n) {
          // An exited task whose stack was released: drgn unwinds what lies at its stale thread.sp; there are
          // no frames of the task there, and bt says so as crash does.
          assert.deepEqual(u.frames, []);
          assert.match(await runOk(s.prog, `bt ${task.address!.toString(16)}`), /\n\(no stack\)\n$/);
          continue;
        }
        assert.equal(u.error, undefined, `pid ${d.pid}: ${u.error}`);
        assert.deepEqual(
          u.frames.map((f) => `0x${f.ip.toString(16)}`),
          want,
          `pid ${d.pid}`,
        );
        compared++;
      }
      assert.ok(compared > 60);
    });

    test('bt PID, bt -l, bt -f and foreach bt', async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const two = await runOk(s.prog, 'bt 2');
      assert.match(two, /^PID: 2 +TASK: [0-9a-f]+ +CPU: \d+ +COMMAND: "kthreadd"\n #0 \[[0-9a-f]+\] __schedule at /);
      const l = await runOk(s.prog, 'bt -l 2');
      assert.match(l, /#0 \[[0-9a-f]+\] __schedule at [0-9a-f]+\n {4}\S+\/kernel\/sched\/core\.c: \d+\n/);
      const f = await runOk(s.prog, 'bt -f 2');
      assert.match(f, /\n {4}[0-9a-f]{16}: [0-9a-f]{16} [0-9a-f]{16} \n/);
      const all = await runOk(s.prog, 'foreach bt');
      assert.equal((all.match(/^PID: /gm) ?? []).length, allTasks(s.prog).length);
      assert.doesNotMatch(all, /bt: /);
    });

    test("module frames as crash prints them: ' #N [SP] NAME at ADDR [MODULE]', named as drgn names them", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const mods = (JSON.parse(oracleText(s.m, 'drgn-modules')) as { name: string; base: string; size: number }[]).map(
        (x) => ({ name: x.name, start: BigInt(x.base), end: BigInt(x.base) + BigInt(x.size) }),
      );
      const moduleOf = (pc: bigint): string | undefined => mods.find((x) => pc >= x.start && pc < x.end)?.name;
      let seen = 0;
      for (const d of JSON.parse(oracleText(s.m, 'drgn-stacks')) as DrgnStack[]) {
        // Inlined functions share their caller's pc: the frame's function is the last of them.
        const frames = d.frames.filter((f, i) => !(i + 1 < d.frames.length && d.frames[i + 1]!.pc === f.pc));
        if (!frames.some((f) => moduleOf(BigInt(f.pc)))) continue;
        const ours = (await runOk(s.prog, `bt ${d.pid}`)).split('\n').filter((l) => / #\d+ \[/.test(l));
        frames.forEach((f, i) => {
          const mod = moduleOf(BigInt(f.pc));
          if (!mod) return;
          const want = new RegExp(`^ *#${i} \\[[0-9a-f]{16}\\] ${f.name} at ${f.pc.slice(2)} \\[${mod}\\]$`);
          assert.match(ours[i] ?? '', want, `pid ${d.pid} frame ${i}`);
          seen++;
        });
      }
      // The mce guest loads ata_piix: its SCSI error handlers sleep in scsi_mod.
      if ((s.m.facts.modules as string[] | undefined)?.includes('ata_piix'))
        assert.ok(seen >= 2, `${seen} module frames`);
    });
  });
}

for (const name of SAMPLE_NAMES) {
  describe(`the ${name} sample with no vmlinux: kallsyms and ORC from the dump`, () => {
    test("every kallsyms symbol read from the dump is at the vmlinux's address (moved by KASLR)", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files['kdump-c-d31']!.path });
      try {
        const ours = readKallsyms(bare.memory);
        assert.ok(ours.length > 50_000, `${ours.length} symbols`);
        const elf = ElfFile.open(s.m.vmlinux);
        const kaslr = bare.memory.kaslrOffset;
        const byName = new Map<string, bigint[]>();
        for (const sym of elf.symbols('symtab')) {
          if (!sym.name || sym.shndx === 0) continue;
          const l = byName.get(sym.name) ?? [];
          // Image symbols move with KASLR; per-cpu ones (small values) do not.
          l.push(sym.value >= 0xffffffff80000000n ? sym.value + kaslr : sym.value);
          byName.set(sym.name, l);
        }
        elf.close();
        let checked = 0;
        for (const k of ours) {
          const want = byName.get(k.name);
          if (!want) continue;
          assert.ok(want.includes(k.address), `${k.name} at 0x${k.address.toString(16)}`);
          checked++;
        }
        assert.ok(checked > ours.length * 0.95, `${checked} of ${ours.length} symbols are in the vmlinux's symtab`);
      } finally {
        bare.close();
      }
    });

    test('bt and bt -a give the frames the session with the vmlinux gives', async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const bare = Program.open({ vmcore: s.m.files['kdump-c-d31']!.path });
      try {
        // The panic task: the same lines, but for the command name only the vmlinux's task_struct gives.
        const full = await runOk(s.prog, 'bt');
        const nov = await runOk(bare, 'bt');
        assert.equal(nov.replace(/COMMAND: .*/, ''), full.replace(/COMMAND: .*/, ''));
        assert.match(nov, /#0 \[[0-9a-f]+\] machine_kexec at /);
        // Every CPU: the same output, the crash NMI's handler found on the NMI stack (the interrupt stack of the
        // CPU's TSS it ran on, named by that) or on the task's stack, then the context it interrupted, with the
        // exception frames' registers and the stack change.
        const noCommand = (x: string): string => x.replace(/COMMAND: .*/g, '');
        const fullA = await runOk(s.prog, 'bt -a');
        const novA = await runOk(bare, 'bt -a');
        assert.equal(noCommand(novA), noCommand(fullA));
        assert.equal((novA.match(/^PID: /gm) ?? []).length, s.prog.cpus.length);
      } finally {
        bare.close();
      }
    });
  });
}
