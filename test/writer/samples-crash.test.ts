/**
 * crash 8.0.2 opens every tsmakedumpfile output of the sysrq sample (-c, -l,
 * -p, -z, uncompressed, -E; mce: -l, -E) and gives the same `sys` (but the DUMPFILE line),
 * `log` and `bt` as on the ELF core. Debian's crash is built with lzo, snappy
 * and zstd.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './run-cli.js';
import { sample, sampleFile } from './sample-lib.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmkd-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function crash(vmlinux: string, dump: string): { sys: string; log: string; bt: string } {
  const cmds = join(dir, 'cmds');
  writeFileSync(cmds, 'sys\n!echo ==MARK==\nlog\n!echo ==MARK==\nbt\nquit\n');
  const r = spawnSync('crash', ['-s', vmlinux, dump, '-i', cmds], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `crash ${dump}: ${r.stderr}`);
  const [sys = '', log = '', bt = ''] = r.stdout.split('==MARK==\n');
  return {
    sys: sys
      .split('\n')
      .filter((l) => !/^\s*DUMPFILE:/.test(l))
      .join('\n'),
    log,
    bt,
  };
}

for (const [CASE, formats] of [
  ['sysrq', [['-c'], ['-l'], ['-p'], ['-z'], [], ['-E']]],
  ['mce', [['-l'], ['-E']]],
] as const) {
  test(`${CASE}: crash gives the same sys/log/bt on ${formats.map((f) => f.join('') || 'uncompressed').join(', ')} as on the ELF core`, {
    timeout: 900_000,
  }, async (t) => {
    const m = await sample(CASE, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    if (!elf) return;
    if (spawnSync('crash', ['--version']).status !== 0) {
      if (process.env.CI === 'true') assert.fail('crash is not installed');
      t.skip('crash not installed');
      return;
    }
    const base = crash(m.vmlinux, elf);
    assert.match(base.sys, /PANIC:/);
    for (const args of formats) {
      const out = join(dir, `${CASE}${args.join('')}`);
      const r = runCli([...args, '-d', '31', elf, out]);
      assert.equal(r.status, 0, r.stderr);
      const got = crash(m.vmlinux, out);
      assert.equal(got.sys, base.sys, `sys on ${args.join(' ') || 'uncompressed'}`);
      assert.equal(got.log, base.log, `log on ${args.join(' ') || 'uncompressed'}`);
      assert.equal(got.bt, base.bt, `bt on ${args.join(' ') || 'uncompressed'}`);
      rmSync(out);
    }
  });
}
