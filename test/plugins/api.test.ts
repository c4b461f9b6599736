/**
 * The public API (the package's entry, `import * as tscrash from 'tscrash'`, and nothing internal) runs every
 * built-in command on the real samples and gives the text the line mode prints for the same command line
 * (`tscrash VMLINUX VMCORE -i FILE`, each line's output to a file): plugins can do what the built-ins do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tscrash from 'tscrash';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const hx = (v: bigint): string => `0x${v.toString(16)}`;

/** The line mode's output of each line, from one `tscrash -i` run. */
function lineMode(vmlinux: string, vmcore: string, lines: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-api-'));
  try {
    const script = join(dir, 'cmds');
    writeFileSync(script, `${lines.map((l, i) => `${l} > ${join(dir, `${i}.txt`)}`).join('\n')}\n`);
    const r = spawnSync(process.execPath, [BIN, vmlinux, vmcore, '-i', script], { encoding: 'latin1' });
    assert.equal(r.status, 0, r.stderr);
    return lines.map((_, i) => readFileSync(join(dir, `${i}.txt`), 'latin1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of SAMPLE_NAMES) {
  test(`every built-in command through the public API gives the line mode's text (${name})`, async (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const prog = await tscrash.open({ vmcore, vmlinux: m.vmlinux });
    try {
      const initTask = prog.variable('init_task');
      const tasks = initTask.member('tasks').address!;
      // Each built-in with arguments that work on every sample (addresses are this boot's, read here).
      const calls: [string, string[]][] = [
        ['help', []],
        ['help', ['bt']],
        ['sys', []],
        ['log', []],
        ['log', ['-m']],
        ['mce', []],
        ['ps', []],
        ['ps', ['-k']],
        ['bt', []],
        ['bt', ['-a']],
        ['bt', ['1']],
        ['set', []],
        ['task', ['-R', 'pid,comm', '1']],
        ['foreach', ['kthreadd', 'bt']],
        ['runq', []],
        ['struct', ['list_head']],
        ['struct', ['list_head', '-o']],
        ['struct', ['task_struct.pid,comm', hx(initTask.address!)]],
        ['union', ['sigval']],
        ['*', ['list_head', hx(tasks)]],
        ['whatis', ['init_task']],
        ['ptype', ['struct', 'list_head']],
        ['p', ['jiffies']],
        ['p', ['/x', 'jiffies']],
        ['p', ['init_task.comm']],
        ['sym', ['schedule']],
        ['rd', ['jiffies']],
        ['rd', ['-64', 'linux_banner', '4']],
        ['dis', ['panic', '5']],
        ['vtop', [hx(initTask.address!)]],
        ['mod', []],
        ['kmem', ['-i']],
        ['kmem', ['-s']],
        ['kmem', [hx(initTask.address!)]],
        ['triage', []],
        ['plugins', []],
        ['eval', ['jiffies', '+', '1']],
        ['eval', ['-b', '0x1234']],
        ['alias', []],
        ['alias', ['hex']],
      ];
      // Every registered built-in is run here: a new built-in must join the list.
      const all = await tscrash.commands();
      // run (a script) takes the process's stdout while the script runs: here node:test reports through it, so
      // run is checked in a session of its own instead (scripts.test.ts, against tscrash run).
      // h lists the lines a session ran as typed (the line mode's here would be this test's own script): through
      // the API, which runs none as typed, it is empty; input.test.ts checks it against crash's.
      const covered = new Set([...calls.map(([n]) => n), 'run', 'h']);
      const h = await tscrash.command('h');
      let hText = '';
      await tscrash.runForText(h!, { program: prog, out: (s) => (hText += s), format: 'text' }, []);
      assert.equal(hText, '');
      assert.deepEqual(
        all.map((c) => c.name).filter((n) => !covered.has(n)),
        [],
        'built-ins not run through the API',
      );
      const expected = lineMode(
        m.vmlinux,
        vmcore,
        calls.map(([n, a]) => (n === 'p' && a[0]?.startsWith('/') ? `p${a.join(' ')}` : [n, ...a].join(' '))),
      );
      for (const [i, [n, args]] of calls.entries()) {
        const cmd = await tscrash.command(n);
        assert.ok(cmd, `${n} is registered`);
        let text = '';
        const ctx: tscrash.CommandContext = { program: prog, out: (s) => (text += s), format: 'text' };
        await tscrash.runForText(cmd, ctx, args);
        assert.ok(text.length > 0, `${n} ${args.join(' ')} printed something`);
        assert.equal(text, expected[i], `${n} ${args.join(' ')}`);
      }
    } finally {
      prog.close();
    }
  });
}

test('the public API: drgn names on the real sample agree with the built-ins', async (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const prog = await tscrash.open({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
  try {
    const { helpers } = tscrash;
    // forEachTask: the tasks drgn's for_each_task gave (the stored oracle of this build).
    const drgn = JSON.parse(readFileSync(m.oracle['drgn-tasks']!, 'utf8')) as { pid: number; comm: string }[];
    const ours = [...helpers.forEachTask(prog)].map((x) => ({
      pid: x.member('pid').num(),
      comm: x.member('comm').string(),
    }));
    // init_task (swapper/0) comes first, as crash's task list has it; drgn's for_each_task leaves it out.
    assert.equal(ours[0]!.pid, 0);
    assert.deepEqual(
      ours
        .slice(1)
        .map((x) => `${x.pid} ${x.comm}`)
        .sort(),
      drgn.map((x) => `${x.pid} ${x.comm}`).sort(),
    );
    // listForEach(head, type, member) and containerOf: the same tasks as forEachTask's leaders.
    const init = prog.variable('init_task');
    const viaList = [...helpers.listForEach(init.member('tasks'), 'struct task_struct', 'tasks')];
    const viaNodes = [...helpers.listForEach(init.member('tasks'))].map(
      (a) => prog.object('struct list_head', a).containerOf('struct task_struct', 'tasks').address,
    );
    assert.deepEqual(
      viaList.map((x) => x.address),
      viaNodes,
    );
    assert.ok(viaList.length > 10);
    // perCpu(obj, cpu) and perCpu(prog, name, cpu): runqueues' cpu member is the CPU.
    for (const cpu of helpers.onlineCpus(prog)) {
      assert.equal(helpers.perCpu(prog.variable('runqueues'), cpu).member('cpu').num(), cpu);
      assert.equal(
        helpers.perCpu(prog, 'runqueues', cpu).address,
        helpers.perCpu(prog.variable('runqueues'), cpu).address,
      );
    }
    // stackTrace: the pcs drgn's stack_trace gave for every sleeping task (drgn gives an inlined function a frame
    // of its own at its caller's pc; user-mode frames end it), and the symbol of each pc.
    const stacks = JSON.parse(readFileSync(m.oracle['drgn-stacks']!, 'utf8')) as {
      pid: number;
      task: string;
      frames: { pc: string }[];
    }[];
    const active = helpers.activeTasks(prog);
    let compared = 0;
    for (const d of stacks) {
      const task = prog.object('struct task_struct', BigInt(d.task));
      if (active.has(BigInt(d.task)) || task.member('stack').value() === 0n) continue;
      const want = d.frames
        .filter((f, i) => !(i + 1 < d.frames.length && d.frames[i + 1]!.pc === f.pc))
        .filter((f) => BigInt(f.pc) >= 0xffff800000000000n)
        .map((f) => f.pc);
      const trace = helpers.stackTrace(task);
      assert.deepEqual(
        trace.frames.map((f) => hx(f.pc)),
        want,
        `pid ${d.pid}`,
      );
      for (const f of trace.frames) assert.equal(f.name, prog.symbols.symbolize(f.pc)?.symbol.name);
      compared++;
    }
    assert.ok(compared > 20, `${compared} stacks`);
    // The errors are the classes the built-ins throw.
    assert.throws(() => prog.variable('no_such_variable_here'), tscrash.LookupError);
    assert.throws(() => prog.memory.readU64(0n), tscrash.FaultError);
    // runCommand: a line as the session runs it, and its JSON.
    const sys = await tscrash.runCommand(prog, 'sys', { format: 'json' });
    assert.equal(JSON.parse(sys.text).result.panic, m.facts.panic);
  } finally {
    prog.close();
  }
});
