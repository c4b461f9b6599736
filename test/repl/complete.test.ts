/**
 * Completion of a command line on the real samples (what the TUI's Tab and the line mode's Tab offer): command
 * names, struct names after struct, members after TYPE. and after a variable's . and ->, symbols, and file
 * paths after >. The members must be the struct's as pahole lists them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { completeLine } from '../../commands/complete.js';
import { registerBuiltins } from '../../commands/index.js';
import { Program } from '../../program/index.js';
import { SAMPLE_NAMES } from '../lib/samples.js';
import { sampleProgram } from '../lib/session.js';

/** The member names pahole prints for a struct (its oracle file). */
function paholeMembers(dir: string, struct: string): string[] {
  const text = readFileSync(join(dir, 'oracle', `pahole-${struct}.txt`), 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m =
      /^\t(?!\})(?:[^;(]*?[\s*])?\(?\*?([A-Za-z_]\w*)(?:\[[^\]]*\])*\)?(?:\([^)]*\))?(?:\s*:\s*\d+)?;\s*\/\*/.exec(
        line,
      );
    if (m) names.add(m[1]!);
  }
  return [...names];
}

describe('completion', () => {
  test('command names', () => {
    registerBuiltins();
    const c = completeLine(undefined, 'sy');
    assert.deepEqual(c.candidates.sort(), ['sym', 'sys']);
    assert.equal(c.word, 'sy');
  });

  test('file paths after >', () => {
    const d = mkdtempSync(join(tmpdir(), 'tscrash-complete-'));
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'out.txt'), '');
    const c = completeLine(undefined, `log > ${d}/`);
    assert.deepEqual(c.candidates.sort(), [`${d}/out.txt`, `${d}/sub/`]);
    assert.deepEqual(completeLine(undefined, `log >> ${d}/o`).candidates, [`${d}/out.txt`]);
  });

  for (const name of SAMPLE_NAMES) {
    test(`${name}: struct names, members after TYPE. and after a variable's . and ->, symbols`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      registerBuiltins();
      const dir = join(s.m.files.elf!.path, '..');
      await s.prog.debug.buildIndex();
      assert.ok(completeLine(s.prog, 'struct task_s').candidates.includes('task_struct'));
      // Members of struct list_head after the type, and of task_struct after init_task. / ->.
      assert.deepEqual(completeLine(s.prog, 'struct list_head.').candidates.sort(), [
        'list_head.next',
        'list_head.prev',
      ]);
      const want = paholeMembers(dir, 'task_struct').filter((n) => n.startsWith('p'));
      assert.ok(want.length >= 3, `pahole lists task_struct members starting with p: ${want}`);
      const got = completeLine(s.prog, 'p init_task.p').candidates.map((x) => x.slice('init_task.'.length));
      for (const m of want) assert.ok(got.includes(m), `init_task.${m} offered (${got})`);
      const viaPtr = completeLine(s.prog, 'p init_task.mm->pg').candidates;
      assert.ok(viaPtr.includes('init_task.mm->pgd'), `${viaPtr}`);
      // Symbols.
      assert.ok(completeLine(s.prog, 'sym schedul').candidates.includes('schedule'));
    });

    test(`${name} with no vmlinux: the same completions from the dump's BTF and kallsyms`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      registerBuiltins();
      await s.prog.debug.buildIndex();
      const bare = Program.open({ vmcore: s.m.files['kdump-c-d31']!.path });
      try {
        assert.ok(bare.loadBtf());
        for (const line of [
          'struct task_s',
          'struct list_head.',
          'p init_task.p',
          'p init_task.mm->pg',
          'whatis pid_',
        ]) {
          const want = completeLine(s.prog, line).candidates.sort();
          assert.ok(want.length > 0, line);
          assert.deepEqual(completeLine(bare, line).candidates.sort(), want, line);
        }
        assert.ok(completeLine(bare, 'sym schedul').candidates.includes('schedule'));
      } finally {
        bare.close();
      }
    });
  }
});
