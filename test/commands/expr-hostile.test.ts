/**
 * Hostile expressions for `p` (issue 18): deep nesting is refused in one line (no stack overflow), a literal wider
 * than 64 bits is gdb's "Numeric constant too large.", and casts to narrower integers convert as crash's gdb does
 * (compared with crash run live on the sample).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crashLive } from '../lib/crash-live.js';
import { run, sampleProgram } from '../lib/session.js';

describe('p on hostile expressions', () => {
  test('casts to narrower integers and 64-bit literals print as crash prints them', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    const cmds = [
      'p (char)jiffies',
      'p (short)jiffies',
      'p (unsigned char)jiffies',
      'p/x (int)jiffies',
      'p (unsigned short)jiffies',
      'p 0xffffffffffffffff',
      'p (char)65',
    ];
    const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, cmds);
    // Numbered as crash numbers them: one session, in order.
    for (const [i, c] of cmds.entries()) assert.equal(await run(s.prog, c), want[i], c);
  });

  test('a literal wider than 64 bits, 5,000 parentheses, 10,000 minus signs: one line each, the session goes on', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    assert.equal(await run(s.prog, 'p 0xffffffffffffffffffffffffffffffff'), 'p: Numeric constant too large.\n');
    for (const line of [
      `p ${'('.repeat(5000)}1${')'.repeat(5000)}`,
      `p ${'-'.repeat(10000)}1`,
      `p ${'*'.repeat(20000)}jiffies`,
    ]) {
      const out = await run(s.prog, line);
      assert.equal(out, 'p: expression nested too deeply (more than 1000 levels of parentheses or unary operators)\n');
    }
    assert.match(await run(s.prog, `p ${'('.repeat(900)}41+1${')'.repeat(900)}`), /^\$\d+ = 42\n$/);
    assert.match(await run(s.prog, `p ${'-'.repeat(998)}7`), /^\$\d+ = 7\n$/);
  });
});
