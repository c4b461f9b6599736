import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { panicTask } from '../../helpers/tasks.js';
import { crashLive } from '../lib/crash-live.js';
import { oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { run, runOk, sampleProgram } from '../lib/session.js';

for (const name of SAMPLE_NAMES) {
  describe(`type and value commands on the ${name} sample`, () => {
    test("struct, struct -o, whatis and p equal crash's stored outputs", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const script = join(dirname(s.m.oracle['crash-sys']!), 'crash-commands.txt');
      const cmds = readFileSync(script, 'latin1')
        .split('\n')
        .filter((l) => /^(struct|whatis|p) /.test(l))
        .map((l) => l.split(' > ') as [string, string]);
      assert.ok(cmds.length >= 28, `${cmds.length} commands`);
      for (const [cmd, file] of cmds) {
        const key = file.replace(/^.*\/(crash-.*)\.txt$/, '$1');
        const want = oracleText(s.m, key);
        // crash's p numbers values per session ($1, $2 ...): compare without the history number.
        const norm = (x: string): string => x.replace(/\$\d+ = /g, '$N = ');
        assert.equal(norm(await run(s.prog, cmd)), norm(want), cmd);
      }
    });

    test("value and type commands equal crash's live output", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const task = panicTask(s.prog)!;
      const ta = (task.address as bigint).toString(16);
      const tasks = s.prog.variable('init_task').member('tasks').address!.toString(16);
      const cmds = [
        `struct list_head ${tasks}`,
        `struct list_head.next ${tasks}`,
        `struct list_head ${tasks} 2`,
        `struct -x task_struct.pid,prio,comm ${ta}`,
        `struct task_struct.se.load ${ta}`,
        `struct task_struct.pid`,
        `struct task_struct ${ta}`,
        `struct mm_struct.mmap_base,task_size,pgd ${task.member('mm').value().toString(16)}`,
        `*list_head ${tasks}`,
        'whatis init_task',
        'whatis panic',
        'whatis spinlock_t',
        'whatis pid_t',
        'whatis list_head',
        'ptype struct list_head',
        'ptype init_task.pid',
        'p init_task.pid',
        'p &init_task',
        'p init_task.tasks',
        'p/x init_task.prio',
        'p jiffies_64',
        'p linux_banner',
        'p init_task.sched_class',
        'p init_uts_ns.name',
        'p runqueues:1',
        'p sizeof(struct task_struct)',
        'p init_task.se.load',
        'p panic',
        'p init_task.rt',
        'p init_task.pid_links',
        'p init_task.cpus_mask',
        `p ((struct task_struct *)0x${ta})->comm`,
        'p init_task.thread',
      ];
      const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, cmds);
      const norm = (x: string): string => x.replace(/\$\d+ = /g, '$N = ');
      const failures: string[] = [];
      for (let i = 0; i < cmds.length; i++) {
        const got = norm(await run(s.prog, cmds[i]!));
        if (got !== norm(want[i]!)) failures.push(`${cmds[i]}\n--- ours\n${got}\n--- crash\n${norm(want[i]!)}`);
      }
      if (failures.length && process.env.TSCRASH_TEST_DUMP)
        writeFileSync(process.env.TSCRASH_TEST_DUMP, failures.join('\n\n=====\n'));
      assert.deepEqual(failures, []);
    });

    test('bad names and members give crash-like errors and the session goes on', async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      assert.match(
        await run(s.prog, 'struct no_such_struct'),
        /struct: invalid data structure reference: no_such_struct/,
      );
      assert.match(
        await run(s.prog, 'struct task_struct.no_member'),
        /invalid data structure member reference: no_member/,
      );
      assert.match(await run(s.prog, 'p no_such_symbol_here'), /No symbol "no_such_symbol_here" in current context/);
      assert.match(await run(s.prog, 'whatis no_such_thing'), /whatis: invalid expression or symbol/);
      assert.match(await runOk(s.prog, 'p jiffies'), /^jiffies = \$\d+ = \d+\n$/);
    });
  });
}
