/**
 * Output as it is produced: a long command's text reaches the session's writer piece by piece while it runs
 * (foreach bt: each task's backtrace as it is made), not once at the end; with `> file` it is gathered; and an
 * interrupt stops the command at its next piece of output or page read, the session going on.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { SAMPLE_NAMES } from '../lib/samples.js';
import { run, sampleProgram } from '../lib/session.js';

describe('streaming and interrupting', () => {
  for (const name of SAMPLE_NAMES) {
    test(`${name}: foreach bt streams task by task; an interrupt stops it and the session goes on`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      registerBuiltins();
      const whole = await run(s.prog, 'foreach bt');
      const tasks = whole.match(/^PID: /gm)!.length;
      assert.ok(tasks > 10);
      // Streamed: the writer is called many times, and the pieces add up to the whole.
      const pieces: string[] = [];
      const r = await runLine(s.prog, 'foreach bt', (x) => pieces.push(x));
      assert.equal(r.ok, true);
      assert.equal(pieces.join(''), whole);
      assert.ok(pieces.length >= tasks, `${pieces.length} pieces for ${tasks} tasks`);
      // The first task's backtrace was written before the last one was made: count the tasks seen at each write.
      let seen = 0;
      const when: number[] = [];
      await runLine(s.prog, 'foreach bt', (x) => {
        seen += (x.match(/^PID: /gm) ?? []).length;
        when.push(seen);
      });
      assert.ok(when[0]! < tasks, 'the first piece came before every task was done');
      // Interrupted after the third task: the command stops there, says so, and the next command runs.
      let n = 0;
      let out = '';
      const stopped = await runLine(
        s.prog,
        'foreach bt',
        (x) => {
          out += x;
        },
        {
          interrupted: () => {
            n = (out.match(/^PID: /gm) ?? []).length;
            return n >= 3;
          },
        },
      );
      assert.equal(stopped.interrupted, true);
      assert.match(out, /\(interrupted\)\n$/);
      assert.ok((out.match(/^PID: /gm) ?? []).length < tasks);
      assert.match(await run(s.prog, 'sys'), /RELEASE: /);
    });
  }
});
