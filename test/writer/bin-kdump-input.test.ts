/**
 * The shipped tsmakedumpfile (bin/, the esbuild bundle) reads a kdump input: the format readers are in the bundle
 * (core/writer/dump-source.ts imports them by a literal specifier).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDump } from '../../core/open.js';
import { loadSample } from '../lib/samples.js';
import { tempPath } from '../lib/synth-dump.js';

const BIN = fileURLToPath(new URL('../../bin/tsmakedumpfile', import.meta.url));

test("bin/tsmakedumpfile -d 31 of the sysrq sample's kdump file keeps its pages", (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const input = m.files['kdump-c-d31']!.path;
  const out = tempPath('bin-kdump-input.out');
  const r = spawnSync(BIN, ['-d', '31', input, out], { encoding: 'latin1' });
  assert.equal(r.status, 0, r.stderr);
  const a = openDump(input);
  const b = openDump(out);
  try {
    assert.equal(b.maxPfn, a.maxPfn);
    let n = 0;
    for (const pfn of a.presentPfns()) {
      if (Buffer.compare(a.readPage(pfn), b.readPage(pfn)) !== 0) assert.fail(`pfn 0x${pfn.toString(16)} differs`);
      n++;
    }
    assert.equal(n, [...b.presentPfns()].length);
  } finally {
    a.close();
    b.close();
  }
});
