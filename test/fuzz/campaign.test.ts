/**
 * The short fuzzing campaign CI runs on every change (fuzz/run.ts): every target under Jazzer.js for a few seconds
 * from its seeds (extracted from the real sysrq sample), two at a time; any escape (an error that is not one of
 * the project's, or a broken differential check), hang (an input over 10 s) or blow-up (over 1 GiB RSS) fails it.
 * The long campaign is `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSample } from '../lib/samples.js';

const root = mkdtempSync(join(tmpdir(), 'tscrash-fuzz-ci-'));
process.env.TSCRASH_FUZZ_ROOT = root;
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

test('every fuzz target runs without an escape, a hang or a blow-up', { timeout: 300_000 }, async (t) => {
  if (!loadSample('sysrq', t)) return;
  const { campaign, table } = await import('../../fuzz/run.js');
  const { targetNames } = await import('../../fuzz/build.js');
  const seconds = Number(process.env.TSCRASH_FUZZ_SECONDS ?? 5);
  const results = await campaign({ seconds, jobs: 2 });
  for (const line of table(results).split('\n')) t.diagnostic(line);
  assert.deepEqual(
    results.map((r) => r.target),
    targetNames(),
  );
  for (const r of results) {
    assert.ok(r.executions > 0, `${r.target}: no executions (${r.finding ?? `exit ${r.exitCode}`})`);
    assert.ok(r.seeds > 0, `${r.target}: no seeds`);
    assert.equal(r.escapes + r.hangs + r.blowups, 0, `${r.target}: ${r.finding}\ninput: ${r.artifact}`);
    assert.equal(r.exitCode, 0, `${r.target}: libFuzzer exited ${r.exitCode}: ${r.finding ?? ''}`);
  }
});
