/**
 * The JSON view: every built-in command run in a JSON session on both real samples gives one JSON document a
 * line, valid against its committed schema (a result model's, or TextResult for a command that has none yet);
 * the schemas are what the TypeScript types generate; the text view of a result-model command is what a text
 * session prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { listCommands, registerBuiltins, resolveCommand } from '../../commands/index.js';
import { setOutputFormat } from '../../commands/result.js';
import { allTasks } from '../../helpers/tasks.js';
import { resultTypes, schemaText } from '../../scripts/schemas.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';
import { run, sampleProgram } from '../lib/session.js';

const root = join(import.meta.dirname, '..', '..');

function schemaOf(type: string): object {
  return JSON.parse(readFileSync(join(root, 'schemas', `${type}.json`), 'utf8')) as object;
}

/** A command line for every built-in (the test fails when a command is added without one here). */
const LINES: Record<string, string[]> = {
  help: ['help', 'help sys'],
  log: ['log', 'log -T'],
  mce: ['mce'],
  rd: ['rd jiffies', 'rd -s init_task 4', 'rd -a linux_banner', 'rd -32 linux_banner 9'],
  sym: ['sym schedule'],
  sys: ['sys'],
  vtop: ['vtop init_task'],
  kmem: ['kmem -i', 'kmem -s kmalloc-64'],
  ps: ['ps', 'ps -t 1'],
  runq: ['runq'],
  set: ['set', 'set output'],
  foreach: ['foreach bt', 'foreach RU ps', 'foreach 1 ps -t'],
  struct: ['struct list_head', 'struct task_struct.pid,comm init_task'],
  union: ['union fpregs_state'],
  '*': ['*list_head init_task.tasks'],
  whatis: ['whatis init_task'],
  ptype: ['ptype struct list_head'],
  p: ['p jiffies', 'p/x init_task.pid'],
  mod: ['mod', 'mod nvme', 'mod nonesuch'],
  bt: ['bt', 'bt -a'],
  task: ['task -R pid,comm'],
  dis: ['dis schedule 4'],
  triage: ['triage'],
};

describe('the JSON view of every command', () => {
  test('the committed schemas are the ones the result types generate (npm run schemas)', () => {
    for (const { type, file } of resultTypes())
      assert.equal(readFileSync(join(root, 'schemas', `${type}.json`), 'utf8'), schemaText(type, file), type);
  });

  for (const name of SAMPLE_NAMES) {
    test(`${name}: every command's JSON validates against its schema; errors are JSON too`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      registerBuiltins();
      const ajv = new Ajv({ allErrors: true, strict: false });
      const validators = new Map<string, ReturnType<typeof ajv.compile>>();
      const commands = await listCommands();
      assert.deepEqual(
        commands.map((c) => c.name).sort(),
        Object.keys(LINES).sort(),
        'a command line for every built-in',
      );
      setOutputFormat(s.prog, 'json');
      try {
        for (const cmd of commands) {
          const type = cmd.resultType ?? 'TextResult';
          if (!validators.has(type)) validators.set(type, ajv.compile(schemaOf(type)));
          const validate = validators.get(type)!;
          for (const line of LINES[cmd.name]!) {
            const out = await run(s.prog, line);
            assert.match(out, /^[\x20-\x7e]*\n$/, `${line}: one line of ASCII`);
            const doc = JSON.parse(out) as { command: string; ok: boolean; result?: unknown; error?: unknown };
            assert.equal(doc.command, line);
            assert.equal(doc.ok, true, `${line}: ${JSON.stringify(doc.error)}`);
            assert.ok(validate(doc.result), `${line}: ${ajv.errorsText(validate.errors)}`);
          }
        }
        const bad = JSON.parse(await run(s.prog, 'p no_such_symbol_here')) as { ok: boolean; error: { kind: string } };
        assert.equal(bad.ok, false);
        assert.match(bad.error.kind, /Error$/);
        const missing = JSON.parse(await run(s.prog, 'nonesuch')) as { ok: boolean; error: { message: string } };
        assert.deepEqual([missing.ok, /command not found/.test(missing.error.message)], [false, true]);
      } finally {
        setOutputFormat(s.prog, 'text');
      }
    });

    test(`${name}: result-model commands: the text view is the text session's output, the JSON holds the facts`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      registerBuiltins();
      const sysText = await run(s.prog, 'sys');
      setOutputFormat(s.prog, 'json');
      let sys: Record<string, unknown>;
      try {
        sys = (JSON.parse(await run(s.prog, 'sys')) as { result: Record<string, unknown> }).result;
      } finally {
        setOutputFormat(s.prog, 'text');
      }
      const field = (k: string): string | undefined => new RegExp(`^ *${k}: (.*)$`, 'm').exec(sysText)?.[1];
      assert.equal(sys.release, field('RELEASE'));
      assert.equal(sys.tasks, allTasks(s.prog).length);
      assert.equal((sys.memory as { text: string }).text, field('MEMORY'));
      assert.match((sys.memory as { bytes: string }).bytes, /^0x[0-9a-f]+$/);
      assert.equal(`"${sys.panic}"`, field('PANIC'));
      assert.ok((await resolveCommand('sys'))?.text, 'sys has a text view');
    });
  }

  test('tscrash --json prints one document a line, the failing command included', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const r = spawnSync(
      join(root, 'bin', 'tscrash'),
      ['--json', m.vmlinux, m.files['kdump-c-d31']!.path, '-c', 'sys', '-c', 'nonesuch'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; ok: boolean });
    assert.deepEqual(
      lines.map((l) => [l.command, l.ok]),
      [
        ['sys', true],
        ['nonesuch', false],
      ],
    );
    assert.equal(r.status, 1, 'a failed command makes the exit status 1');
  });
});
