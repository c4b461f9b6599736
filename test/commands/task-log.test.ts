import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { panicTask, taskPid } from '../../helpers/tasks.js';
import { crashLive } from '../lib/crash-live.js';
import { oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { runOk, sampleProgram } from '../lib/session.js';

for (const name of SAMPLE_NAMES) {
  describe(`task, ps -t and log options on the ${name} sample`, () => {
    test("log -T and log -m equal crash's", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      assert.equal(await runOk(s.prog, 'log -T'), oracleText(s.m, 'crash-log-T'));
      assert.equal(await runOk(s.prog, 'log -m'), oracleText(s.m, 'crash-log-m'));
      const tm = await runOk(s.prog, 'log -t -m');
      assert.match(tm.split('\n')[0]!, /^<\d>Linux version /);
    });

    test("sys DATE and log -T in other time zones equal crash's run in them", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      for (const tz of ['Asia/Kolkata', 'America/New_York']) {
        const [sys, logT] = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, ['sys', 'log -T'], { TZ: tz });
        const saved = process.env.TZ;
        process.env.TZ = tz;
        try {
          const date = (text: string): string | undefined => /^ {8}DATE: (.*)$/m.exec(text)?.[1];
          assert.equal(date(await runOk(s.prog, 'sys')), date(sys!), `TZ=${tz}`);
          assert.ok(date(sys!), 'crash printed a DATE');
          assert.equal(await runOk(s.prog, 'log -T'), logT, `TZ=${tz}: log -T`);
        } finally {
          process.env.TZ = saved;
        }
      }
    });

    test("task, task -R, ps -t and rd -s equal crash's for the panic task", async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const pid = taskPid(panicTask(s.prog)!);
      const slot = /#0 \[([0-9a-f]+)\]/.exec(await runOk(s.prog, 'bt'))![1]!;
      const cmds = [
        'task',
        `task -R pid,comm,prio,se.load ${pid}`,
        `ps -t ${pid}`,
        `task -x -R prio,stack ${pid}`,
        `rd -s ${slot} 64`,
        'rd -s init_task 12',
        // Short last lines of each unit size keep the ASCII column in place.
        'rd -8 linux_banner 20',
        'rd -16 linux_banner 11',
        'rd -32 linux_banner 9',
        'rd -64 linux_banner 3',
      ];
      const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, cmds);
      for (let i = 0; i < cmds.length; i++) assert.equal(await runOk(s.prog, cmds[i]!), want[i], cmds[i]);
    });
  });
}
