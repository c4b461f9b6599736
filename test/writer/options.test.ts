import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions, UsageError } from '../../core/writer/options.js';

test('makedumpfile command lines parse with GNU getopt semantics', () => {
  const o = parseOptions(['-c', '-d', '31', '/proc/vmcore', '/var/crash/dump']);
  assert.equal(o.compression, 'zlib');
  assert.deepEqual(o.dumpLevels, [31]);
  assert.deepEqual(o.args, ['/proc/vmcore', '/var/crash/dump']);
  const p = parseOptions(['-ld31', '--message-level=1', 'a', '-F']);
  assert.equal(p.compression, 'lzo');
  assert.deepEqual(p.dumpLevels, [31]);
  assert.equal(p.messageLevel, 1);
  assert.equal(p.flatten, true);
  assert.deepEqual(p.args, ['a']);
  const q = parseOptions(['--num-threads', '2', '-z', '-d', '1,31', '--split', 'v', 'd1', 'd2', '--', '-odd']);
  assert.equal(q.numThreads, 2);
  assert.equal(q.compression, 'zstd');
  assert.deepEqual(q.dumpLevels, [1, 31]);
  assert.equal(q.split, true);
  assert.deepEqual(q.args, ['v', 'd1', 'd2', '-odd']);
  // tuning options makedumpfile users pass: accepted, no effect on the output
  assert.deepEqual(parseOptions(['--cyclic-buffer', '1024', '--non-mmap', 'a', 'b']).args, ['a', 'b']);
});

test('unknown, unsupported and invalid options are errors', () => {
  for (const bad of [
    ['--bogus'],
    ['-q'],
    ['-g', 'file'],
    ['--mem-usage', 'x'],
    ['--config', 'f'],
    ['-d', '32'],
    ['-d', 'x'],
    ['-d'],
    ['--message-level', '99'],
    ['--split=1'],
  ]) {
    assert.throws(() => parseOptions(bad), UsageError, bad.join(' '));
  }
});
