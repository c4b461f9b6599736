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
import type { Program } from '../../program/program.js';
import { resultTypes, schemaText } from '../../scripts/schemas.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';
import { run, runOk, sampleProgram } from '../lib/session.js';

const root = join(import.meta.dirname, '..', '..');

/** A line's text (a text session's output) and its JSON result. */
async function both(prog: Program, line: string): Promise<{ text: string; result: Json }> {
  const text = await runOk(prog, line);
  setOutputFormat(prog, 'json');
  try {
    const doc = JSON.parse(await run(prog, line)) as { ok: boolean; result: Json };
    assert.equal(doc.ok, true, line);
    return { text, result: doc.result };
  } finally {
    setOutputFormat(prog, 'text');
  }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are walked freely in assertions
type Json = any;

/** The member of a JSON value tree's struct by name. */
function memberOf(v: Json, name: string): Json {
  const m = (v.members as Json[]).find((x) => x.name === name);
  assert.ok(m, `member ${name}`);
  return m;
}

function schemaOf(type: string): object {
  return JSON.parse(readFileSync(join(root, 'schemas', `${type}.json`), 'utf8')) as object;
}

/** A command line for every built-in (the test fails when a command is added without one here). */
const LINES: Record<string, string[]> = {
  help: ['help', 'help sys', 'help input'],
  h: ['h'],
  alias: ['alias', 'alias hex', 'alias kp kmem -p'],
  log: ['log', 'log -T'],
  mce: ['mce'],
  rd: ['rd jiffies', 'rd -s init_task 4', 'rd -a linux_banner', 'rd -32 linux_banner 9'],
  sym: ['sym schedule', 'sym jiffies init_task', 'sym -q sched_clock'],
  sys: ['sys'],
  vtop: ['vtop init_task'],
  kmem: [
    'kmem -i',
    'kmem -s',
    'kmem -s kmalloc-64',
    'kmem -s list',
    'kmem -S kmalloc-64',
    'kmem -p pfn:256 pfn:4096',
    'kmem -p',
    'kmem -f',
    'kmem -F',
    'kmem -f 1000000',
    'kmem -v',
    'kmem -V',
    'kmem -z',
    'kmem 1000000',
  ],
  ps: ['ps', 'ps -t 1'],
  runq: ['runq'],
  set: ['set', 'set output', 'set radix', 'set scroll'],
  foreach: ['foreach bt', 'foreach RU ps', 'foreach 1 ps -t', 'foreach 1 task -R pid,comm', 'foreach nonesuch bt'],
  struct: [
    'struct list_head',
    'struct -o list_head',
    'struct task_struct.pid,comm',
    'struct task_struct.pid,comm init_task',
    'struct list_head init_task.tasks 2',
  ],
  union: ['union fpregs_state'],
  '*': ['*list_head init_task.tasks'],
  whatis: [
    'whatis init_task',
    'whatis task_struct',
    'whatis spinlock_t',
    'whatis pid_t',
    'whatis schedule',
    'whatis PIDTYPE_PID',
  ],
  ptype: ['ptype struct list_head', 'ptype init_task.pid', 'ptype enum pid_type'],
  p: ['p jiffies', 'p/x init_task.pid', 'p init_task.comm', 'p &init_task', 'p schedule', 'p runqueues:a'],
  mod: ['mod', 'mod nvme', 'mod nonesuch'],
  bt: ['bt', 'bt -a'],
  task: ['task -R pid,comm', 'task', 'task -x -R pid,se.vruntime 1'],
  dis: ['dis schedule 4', 'dis -l schedule 8'],
  eval: ['eval 128m', 'eval -b jiffies', 'eval (jiffies & 0xff)'],
  triage: ['triage'],
  plugins: ['plugins'],
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

  for (const name of SAMPLE_NAMES) {
    test(`${name}: value, type and symbol commands: the JSON holds what the text view prints`, async (t) => {
      const s = await sampleProgram(name, t);
      if (!s) return;
      const prog = s.prog;

      // p: the value (hex in JSON) is the number the text prints; the history number is the text's $N.
      const pj = await both(prog, 'p jiffies');
      const [, hist, num] = /^jiffies = \$(\d+) = (\d+)\n$/.exec(pj.text)!;
      const pv = pj.result.values[0];
      assert.equal(pv.value.kind, 'int');
      assert.equal(BigInt(pv.value.value), BigInt(num!));
      assert.equal(pv.history, Number(hist) + 1, 'the JSON run is the next history number');
      assert.equal(pv.label, 'jiffies');
      const pa = await both(prog, 'p &init_task');
      assert.equal(pa.result.values[0].cast, 'struct task_struct *');
      assert.equal(pa.result.values[0].value.address, /0x[0-9a-f]+/.exec(pa.text)![0]);
      assert.equal(BigInt(pa.result.values[0].value.address), prog.symbolAddress('init_task'));
      const pc = await both(prog, 'p runqueues:a');
      assert.deepEqual(
        pc.result.values.map((v: Json) => v.label),
        [...pc.text.matchAll(/^(per_cpu\(runqueues, \d+\)) = /gm)].map((m) => m[1]),
      );

      // struct: members by name with the values the text shows; a char array as its bytes.
      const st = await both(prog, 'struct task_struct.pid,comm init_task');
      const [pidM, commM] = st.result.blocks[0].members;
      assert.equal(pidM.path, 'pid');
      assert.equal(BigInt(pidM.value.value), BigInt(/^ {2}pid = (-?\d+),$/m.exec(st.text)![1]!));
      assert.equal(commM.value.kind, 'chars');
      const comm = (commM.value.bytes as string).split('\0')[0]!;
      assert.ok(comm.length > 0);
      assert.match(st.text, new RegExp(`^ {2}comm = "${comm.replace(/[/\\^$.*+?()[\]{}|]/g, '\\$&')}`, 'm'));
      assert.equal(BigInt(st.result.blocks[0].address), prog.symbolAddress('init_task'));
      const whole = await both(prog, 'struct list_head init_task.tasks 2');
      assert.equal(whole.result.blocks.length, 2);
      const next = memberOf(whole.result.blocks[0].value, 'next');
      assert.equal(next.type, 'struct list_head *');
      assert.equal(next.offset, 0);
      assert.equal(next.value.address, /next = (0x[0-9a-f]+)/.exec(whole.text)![1]);
      // struct -o: every offset the text's column shows is a member's offset in the model.
      const so = await both(prog, 'struct -o task_struct');
      const flat = (ms: Json[]): Json[] => ms.flatMap((m) => [m, ...(m.members ? flat(m.members) : [])]);
      const model = flat(so.result.definition.members);
      const shown = [...so.text.matchAll(/^ *\[(\d+)\] .*?(\w+)(?:\[\d+\])*(?: : \d+)?;$/gm)];
      assert.ok(shown.length > 50);
      for (const [, off, field] of shown)
        assert.ok(
          model.some((m) => m.name === field && m.offset === Number(off)),
          `${field} at ${off}`,
        );
      assert.equal(so.result.definition.size, Number(/^SIZE: (\d+)$/m.exec(so.text)![1]));

      // union and *: the same model as struct.
      const un = await both(prog, 'union fpregs_state');
      assert.deepEqual([un.result.kind, un.result.definition.kind], ['union', 'union']);
      assert.equal(un.result.definition.size, Number(/^SIZE: (\d+)$/m.exec(un.text)![1]));
      const star = await both(prog, '*list_head init_task.tasks');
      assert.equal(
        memberOf(star.result.blocks[0].value, 'prev').value.address,
        /prev = (0x[0-9a-f]+)/.exec(star.text)![1],
      );

      // whatis: a variable's declaration and address; a type's size; a typedef's struct; an enumerator's value.
      const wi = await both(prog, 'whatis init_task');
      assert.deepEqual([wi.result.form, `${wi.result.declaration};\n`], ['variable', wi.text]);
      assert.equal(BigInt(wi.result.address), prog.symbolAddress('init_task'));
      const wt = await both(prog, 'whatis task_struct');
      assert.equal(wt.result.definition.size, Number(/^SIZE: (\d+)$/m.exec(wt.text)![1]));
      const ws = await both(prog, 'whatis spinlock_t');
      assert.equal(ws.result.form, 'typedef');
      assert.equal(ws.result.size, Number(/^SIZE: (\d+)$/m.exec(ws.text)![1]));
      assert.ok(ws.text.startsWith(`typedef ${ws.result.definition.kind} ${ws.result.definition.name} {`));
      const we = await both(prog, 'whatis PIDTYPE_PID');
      assert.equal(`${we.result.type} PIDTYPE_PID = ${BigInt(we.result.value)};\n`, we.text);

      // sym: the address, letter, name and source line the text shows; an address inside a symbol: its offset.
      const sy = await both(prog, 'sym schedule');
      const [, sa, sl, sn, sf, sline] = /^([0-9a-f]+) \((\w)\) (\w+) (\S+): (\d+)\n$/.exec(sy.text)!;
      assert.deepEqual(sy.result.symbols, [
        { address: `0x${sa}`, letter: sl, name: sn, file: sf, line: Number(sline) },
      ]);
      assert.equal(BigInt(`0x${sa}`), prog.symbolAddress('schedule'));
      const inside = await both(prog, `sym ${(BigInt(`0x${sa}`) + 4n).toString(16)}`);
      assert.deepEqual([inside.result.symbols[0].name, inside.result.symbols[0].offset], ['schedule', 4]);
      assert.match(inside.text, /^[0-9a-f]+ \(\w\) schedule\+4 /);
      const sq = await both(prog, 'sym -q sched_clock');
      assert.equal(sq.result.symbols.length, sq.text.split('\n').length - 1);
      assert.ok(sq.result.symbols.every((x: Json) => x.name.includes('sched_clock')));

      // task: the task the header names; its members' values as the text prints them.
      const tk = await both(prog, 'task -R pid,comm,prio 1');
      const [, tpid, ttask] = /^PID: (\d+) +TASK: ([0-9a-f]+) /.exec(tk.text)!;
      const entry = tk.result.tasks[0];
      assert.deepEqual([entry.task.pid, entry.task.task], [Number(tpid), `0x${ttask}`]);
      assert.equal(BigInt(entry.members[0].value.value), BigInt(tpid!));
      assert.equal(BigInt(entry.members[2].value.value), BigInt(/^ {2}prio = (-?\d+),$/m.exec(tk.text)![1]!));
      const full = await both(prog, 'task');
      const ft = full.result.tasks[0];
      assert.equal(BigInt(memberOf(ft.taskStruct, 'pid').value.value), BigInt(ft.task.pid));
      assert.ok(full.text.startsWith(`PID: ${ft.task.pid} `));
      assert.ok(memberOf(ft.threadInfo, 'flags'));

      // dis: each instruction's address, symbol, mnemonic as the text's line shows them; its bytes span it.
      const di = await both(prog, 'dis -l schedule 6');
      const ins = di.result.instructions as Json[];
      const textLines = di.text.split('\n').filter((l) => l.startsWith('0x'));
      assert.equal(ins.length, 6);
      assert.equal(textLines.length, 6);
      assert.equal(BigInt(ins[0].address), prog.symbolAddress('schedule'));
      ins.forEach((x, k) => {
        assert.ok(textLines[k]!.startsWith(`${x.address} <${x.symbol}>:\t${x.mnemonic}`), textLines[k]);
        if (k + 1 < ins.length)
          assert.equal(BigInt(ins[k + 1].address) - BigInt(x.address), BigInt(x.bytes.length / 2));
      });
      assert.ok(di.text.startsWith(`${ins[0].file}: ${ins[0].line}\n`));
      const last = BigInt(ins[3].address).toString(16);
      const dr = await both(prog, `dis -r ${last}`);
      assert.deepEqual(
        dr.result.instructions.map((x: Json) => x.address),
        ins.slice(0, 4).map((x) => x.address),
      );

      // foreach: one run per task, in PID order, each the task's own result (the header the text shows).
      const fe = await both(prog, 'foreach RU task -R pid');
      const runs = fe.result.runs as Json[];
      assert.ok(runs.length > 0);
      assert.deepEqual(
        runs.map((r) => `${r.task.pid} ${r.task.task}`),
        [...fe.text.matchAll(/^PID: (\d+) +TASK: ([0-9a-f]+) /gm)].map((m) => `${m[1]} 0x${m[2]}`),
      );
      for (const r of runs) assert.equal(BigInt(r.result.tasks[0].members[0].value.value), BigInt(r.task.pid));
      const fp = await both(prog, 'foreach RU ps');
      assert.equal(fp.result.table.tasks.length, runs.length, 'ps and task select the same tasks');

      // kmem: each form's records are what its text shows.
      const ks = await both(prog, 'kmem -s kmalloc-64');
      const cache = ks.result.items[0].cache;
      const [, caddr, osize, alloc, total] = /^([0-9a-f]+) +(\d+) +(\d+) +(\d+) .* kmalloc-64$/m.exec(ks.text)!;
      assert.deepEqual(
        [cache.address, cache.objectSize, BigInt(cache.allocated), BigInt(cache.total)],
        [`0x${caddr}`, Number(osize), BigInt(alloc!), BigInt(total!)],
      );
      const kS = await both(prog, 'kmem -S kmalloc-64');
      const slabsOf = (e: Json): Json[] => [
        ...(e.cpus ?? []).flatMap((c: Json) => [...(c.slab ? [c.slab] : []), ...(c.partial ?? [])]),
      ];
      const objects = slabsOf(kS.result.items[0]).flatMap((x) => x.objects ?? []);
      assert.equal(objects.length, [...kS.text.matchAll(/^ {2}[ [][0-9a-f]{16}/gm)].length);
      const used = objects.find((o: Json) => !o.free);
      assert.ok(used, 'an allocated object on a CPU slab');
      assert.ok(kS.text.includes(`[${used.address.slice(2)}]`));
      const ka = await both(prog, `kmem ${used.address.slice(2)}`);
      const hit = ka.result.addresses[0].parts.find((p: Json) => p.kind === 'object');
      assert.equal(hit.cache.name, 'kmalloc-64');
      assert.deepEqual(
        hit.slab.objects.map((o: Json) => [o.address, o.free]),
        [[used.address, false]],
      );
      const page = ka.result.addresses[0].parts.find((p: Json) => p.kind === 'page').page;
      assert.match(ka.text, new RegExp(`^${page.page.slice(2)} +${page.phys.slice(2)} `, 'm'));
      const kp = await both(prog, 'kmem -p pfn:256 pfn:4096');
      assert.deepEqual(
        kp.result.lookups.map((l: Json) => BigInt(l.page.pfn)),
        [256n, 4096n],
      );
      for (const { page: pg } of kp.result.lookups) {
        const flags = `${pg.flags.slice(2)}${pg.flagNames.length ? ` ${pg.flagNames.join(',')}` : ''}`;
        assert.match(kp.text, new RegExp(`^${pg.page.slice(2)} +${pg.phys.slice(2)} .* ${flags}$`, 'm'));
      }
      const kl = await both(prog, 'kmem -s list');
      assert.deepEqual(
        kl.result.caches.map((c: Json) => `${c.address.slice(2)} ${c.name}`),
        kl.text.split('\n').slice(0, -1),
      );
      assert.ok(kl.result.caches.some((c: Json) => c.name === 'kmalloc-64' && c.address === cache.address));
      // kmem -p: the text streams; the JSON has every page, in the text's order.
      const kall = await both(prog, 'kmem -p');
      const lines = kall.text.split('\n').slice(1, -1);
      assert.equal(kall.result.pages.length, lines.length);
      for (const k of [0, lines.length >> 1, lines.length - 1]) {
        const pg = kall.result.pages[k];
        assert.ok(lines[k]!.startsWith(`${pg.page.slice(2)} `), lines[k]);
      }
      const kf = await both(prog, 'kmem -f');
      assert.equal(BigInt(kf.result.nrFreePages), BigInt(/^nr_free_pages: (\d+) /m.exec(kf.text)![1]!));
      const pagesListed = kf.result.zones
        .flatMap((z: Json) => z.areas)
        .reduce((n: bigint, a: Json) => n + BigInt(a.pages), 0n);
      assert.equal(pagesListed, BigInt(kf.result.found));
      const kF = await both(prog, 'kmem -F');
      const blocks = kF.result.zones.flatMap((z: Json) => z.areas).flatMap((a: Json) => a.blockPages);
      assert.equal(blocks.length, [...kF.text.matchAll(/^[0-9a-f]{16}$/gm)].length);
      const kv = await both(prog, 'kmem -v');
      assert.equal(kv.result.areas.length, kv.text.split('\n').length - 2);
      const kz = await both(prog, 'kmem -z');
      assert.deepEqual(
        kz.result.zones.map((z: Json) => z.name),
        [...kz.text.matchAll(/NAME: "(\w+)"/g)].map((m) => m[1]),
      );
      const kV = await both(prog, 'kmem -V');
      for (const g of kV.result.groups)
        for (const it of g.items) assert.match(kV.text, new RegExp(`^ *${it.name}: ${BigInt(it.value)}$`, 'm'));
      const panicTask = (await both(prog, 'set')).result.context;
      const kt = await both(prog, `kmem ${panicTask.task.slice(2)}`);
      const tp = kt.result.addresses[0].parts.find((p: Json) => p.kind === 'task');
      assert.deepEqual([tp.pid, tp.task], [panicTask.pid, panicTask.task]);
      assert.ok(kt.text.includes(`    PID: ${tp.pid}\n`));

      // ptype: the members, in order, as the text lists them.
      const pt = await both(prog, 'ptype struct list_head');
      assert.deepEqual(
        pt.result.type.members.map((m: Json) => m.name),
        [...pt.text.matchAll(/\*(\w+);$/gm)].map((m) => m[1]),
      );
      const pp = await both(prog, 'ptype init_task.pid');
      assert.equal(`type = ${pp.result.type.type}\n`, pp.text);
      const pe = await both(prog, 'ptype enum pid_type');
      assert.ok(pe.result.type.enumerators.length > 2);
      assert.ok(pe.text.includes(pe.result.type.enumerators[0].name));
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
