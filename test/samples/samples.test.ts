import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadSample, type ManifestFile, oracleText, SAMPLE_FILES, SAMPLE_NAMES } from '../lib/samples.js';

function sha256(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 22);
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
  }
  closeSync(fd);
  return h.digest('hex');
}

const EXPECTED_FILES = Object.keys(SAMPLE_FILES);
const PANIC: Record<string, RegExp> = {
  sysrq: /sysrq triggered crash/,
  mce: /[Mm]achine check/,
};

for (const name of SAMPLE_NAMES) {
  describe(`sample ${name}`, () => {
    test('every expected file exists and its checksum holds', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      for (const key of EXPECTED_FILES) {
        const f: ManifestFile | undefined = m.files[key];
        assert.ok(f, `manifest lists ${key}`);
        assert.ok(existsSync(f.path), `${f.path} exists`);
        assert.equal(statSync(f.path).size, f.size, `${key} size`);
        assert.equal(sha256(f.path), f.sha256, `${key} sha256`);
      }
      assert.ok(existsSync(m.vmlinux), 'vmlinux exists');
      for (const [key, p] of Object.entries(m.oracle)) assert.ok(existsSync(p), `oracle ${key} exists`);
    });

    test('the panic string appears in crash sys and in every dmesg', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const sys = oracleText(m, 'crash-sys');
      const panicLine = /PANIC: "(.*)"/.exec(sys);
      assert.ok(panicLine, `crash sys has a PANIC line:\n${sys}`);
      assert.match(panicLine[1]!, PANIC[name]!);
      assert.match(readFileSync(m.files.dmesg!.path, 'latin1'), PANIC[name]!);
      assert.match(oracleText(m, 'drgn-dmesg'), PANIC[name]!);
      assert.equal(m.facts.panic, panicLine[1], 'manifest panic fact equals crash PANIC');
    });

    test('drgn sees the workload tasks and the kernel release', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const tasks = JSON.parse(oracleText(m, 'drgn-tasks')) as { pid: number; state: string; comm: string }[];
      assert.ok(tasks.length > 20, `drgn lists ${tasks.length} tasks`);
      const facts = JSON.parse(oracleText(m, 'drgn-facts')) as Record<string, unknown>;
      assert.equal(facts.init_uts_release, m.release);
      if (name === 'sysrq') {
        const states = new Set(tasks.map((x) => x.state));
        for (const s of ['R', 'S', 'T', 'Z']) assert.ok(states.has(s), `a task in state ${s}`);
      }
    });
  });
}
