/**
 * Counts a hostile user gives (issue 18): `struct ... -c 99999999`, `dis schedule 99999999`. The output streams
 * (the first blocks reach the writer long before the count is done, and nothing is held), an interrupt stops it,
 * and a JSON result, which must hold every block, refuses a count it cannot hold instead of exhausting memory.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { run, sampleProgram } from '../lib/session.js';

/** Run a line until `enough` bytes of output arrived, then interrupt it; the output so far. */
async function firstOutput(prog: Parameters<typeof runLine>[0], line: string, enough: number): Promise<string> {
  registerBuiltins();
  let out = '';
  let writes = 0;
  const r = await runLine(
    prog,
    line,
    (x) => {
      out += x;
      writes++;
    },
    { interrupted: () => out.length >= enough },
  );
  assert.equal(r.interrupted, true, `${line} was interrupted`);
  assert.ok(writes > 1, `${line} wrote ${writes} times`);
  assert.match(out, /\(interrupted\)\n$/);
  return out.replace(/\(interrupted\)\n$/, '');
}

describe('huge counts stream and are bounded', () => {
  test('struct list_head init_task -c 99999999 streams the same blocks as a small count', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    const small = await run(s.prog, 'struct list_head init_task 50');
    const big = await firstOutput(s.prog, 'struct list_head init_task -c 99999999', 1 << 20);
    assert.ok(big.startsWith(small), 'the first 50 blocks are those of a count of 50');
    const few = await run(s.prog, 'struct task_struct.comm,pid init_task 3');
    const many = await firstOutput(s.prog, 'struct task_struct.comm,pid init_task -c 2000000', 1 << 18);
    assert.ok(many.startsWith(few));
    const one = await run(s.prog, 'struct task_struct init_task 2');
    const lots = await firstOutput(s.prog, 'struct task_struct init_task -c 100000', 1 << 18);
    assert.ok(lots.startsWith(one));
    // The session goes on.
    assert.match(await run(s.prog, 'p jiffies'), /\$\d+ = \d+\n$/);
  });

  test('a JSON struct result refuses a count it cannot hold, in one line', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    registerBuiltins();
    let out = '';
    const r = await runLine(s.prog, 'struct task_struct init_task -c 100000', (x) => (out += x), { format: 'json' });
    assert.equal(r.ok, false);
    const doc = JSON.parse(out) as { ok: boolean; error: { kind: string; message: string } };
    assert.equal(doc.error.kind, 'CommandError');
    assert.match(
      doc.error.message,
      /count of 100000 is too large for a JSON result \(at most \d+ of struct task_struct\)/,
    );
    const ok = await runLine(s.prog, 'struct list_head init_task -c 3', () => {}, { format: 'json' });
    assert.equal(ok.ok, true);
  });

  test('dis schedule 99999999 streams: its first lines are dis schedule, and it stops when interrupted', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    const whole = await run(s.prog, 'dis schedule');
    const big = await firstOutput(s.prog, 'dis schedule 99999999', 1 << 20);
    assert.ok(big.startsWith(whole), 'the function first, then what follows it');
    // The window seams decode as one pass does: the count form and a large count agree line for line.
    const n = big.split('\n').length - 1;
    assert.equal(await run(s.prog, `dis schedule ${n}`), big.split('\n').slice(0, n).join('\n') + '\n');
  });
});
