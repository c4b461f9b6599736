/**
 * The irq plugin on the real samples: crash's irq and irq -s byte for byte (crash run live), every descriptor,
 * action and per-CPU count against drgn (radix_tree_lookup of irq_desc_tree, kstat_irqs per CPU), and each
 * handler's name against crash's sym (module handlers included).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import type { IrqResult } from '../../plugins/irq.js';
import { crashLive } from '../lib/crash-live.js';
import { drgnLive } from '../lib/drgn-live.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const DRGN = new URL('./drgn/irq.py', import.meta.url).pathname;
const hx = (v: string): string => `0x${BigInt(v).toString(16)}`;

interface DrgnIrqs {
  cpus: number[];
  irqs: { irq: number; desc: string; actions: { action: string; name: string; handler: string }[]; counts: number[] }[];
}

for (const name of SAMPLE_NAMES) {
  test(`irq on ${name}: crash's irq and irq -s, drgn's descriptors and counts, the handlers' names`, async (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const session = (args: string[]) =>
      spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '--plugin', 'irq', ...args], { encoding: 'latin1' });
    const text = session(['-c', 'irq', '-c', 'irq -s', '-c', 'irq -s 0 1']);
    assert.equal(text.stderr, '');
    const json = session(['--json', '-c', 'irq', '-c', 'irq -H']);
    const [table, handlers] = json.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { result: IrqResult }).result);
    const validate = new Ajv({ strict: false }).compile(
      JSON.parse(readFileSync(new URL('../../schemas/IrqResult.json', import.meta.url), 'utf8')) as object,
    );
    assert.ok(validate(table), JSON.stringify(validate.errors));
    // drgn: the same descriptors, actions and per-CPU counts.
    const drgn = drgnLive(m.vmlinux, vmcore, DRGN) as DrgnIrqs;
    assert.deepEqual(table!.cpus, drgn.cpus);
    const ours = table!.irqs.filter((i) => i.desc !== undefined);
    assert.deepEqual(
      ours.map((i) => ({
        irq: i.irq,
        desc: hx(i.desc as unknown as string),
        actions: i.actions.map((a) => ({ action: hx(a.action as unknown as string), name: a.name })),
        counts: i.counts,
      })),
      drgn.irqs.map((i) => ({ ...i, actions: i.actions.map((a) => ({ action: a.action, name: a.name })) })),
    );
    assert.ok(drgn.irqs.filter((i) => i.actions.length).length >= 8);
    assert.ok(drgn.irqs.some((i) => i.counts.some((c) => c > 0)));
    // crash: irq and irq -s byte for byte; each handler's symbol as crash's sym names it.
    const handlerAddrs = drgn.irqs.flatMap((i) => i.actions.map((a) => a.handler));
    const [cIrq, cStats, ...syms] = crashLive(m.vmlinux, vmcore, [
      'irq',
      'irq -s',
      ...handlerAddrs.map((a) => `sym ${a.slice(2)}`),
    ]);
    const outs = text.stdout;
    assert.ok(outs.startsWith(`${cIrq}${cStats}`), `tscrash:\n${outs.slice(0, 3000)}`);
    const two = cStats!.split('\n');
    assert.equal(
      outs.slice(cIrq!.length + cStats!.length),
      `${[two[0], ...two.filter((l) => /^ {2}[01]:/.test(l))].join('\n')}\n`,
    );
    const named = handlers!.irqs.flatMap((i) => i.actions.map((a) => a.handler));
    assert.deepEqual(
      named,
      syms.map((s) => / \(\w\) ([^ +\n]+)/.exec(s)?.[1]),
    );
  });
}
