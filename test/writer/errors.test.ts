/**
 * tsmakedumpfile's errors on an input it cannot open are makedumpfile's one line (the path once, the cause in
 * glibc's words), with its exit code, compared with makedumpfile run here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/tsmakedumpfile', import.meta.url));

test('a missing input and a directory as input: one line naming the path, exit 1, as makedumpfile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-mdf-errors-'));
  try {
    const missing = join(dir, 'nonesuch');
    const ours = spawnSync(BIN, ['-d', '31', missing, join(dir, 'out')], { encoding: 'utf8' });
    const theirs = spawnSync('makedumpfile', ['-d', '31', missing, join(dir, 'out')], { encoding: 'utf8' });
    assert.equal(ours.status, 1);
    assert.equal(ours.status, theirs.status);
    const line = `open_dump_memory: Can't open the dump memory(${missing}). No such file or directory`;
    assert.ok(theirs.stderr.includes(line), theirs.stderr);
    assert.equal(
      ours.stderr
        .split('\n')
        .filter((l) => l.includes(missing))
        .join('\n'),
      line,
    );
    assert.doesNotMatch(ours.stderr, /ENOENT|EISDIR/);
    const d = spawnSync(BIN, ['-d', '31', dir, join(dir, 'out2')], { encoding: 'utf8' });
    assert.equal(d.status, 1);
    assert.match(d.stderr, new RegExp(`^Can't read a file\\(${dir}\\)\\. Is a directory$`, 'm'));
    assert.doesNotMatch(d.stderr, /ENOENT|EISDIR|illegal operation/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
