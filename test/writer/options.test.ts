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
    ['--eppic', 'f'],
    ['--config'],
    ['-b', 'x'],
    ['-b', '21'],
    ['--check-params=1'],
    ['-d', '32'],
    ['-d', 'x'],
    ['-d'],
    ['--message-level', '99'],
    ['--split=1'],
  ]) {
    assert.throws(() => parseOptions(bad), UsageError, bad.join(' '));
  }
});

test("makedumpfile's --mem-usage, --check-params, -b, --partial-dmesg and --config parse", () => {
  const o = parseOptions(['--check-params', '-b', '6', '--mem-usage', '/proc/vmcore']);
  assert.equal(o.checkParams, true);
  assert.equal(o.blockOrder, 6);
  assert.equal(o.memUsage, true);
  assert.deepEqual(o.args, ['/proc/vmcore']);
  const p = parseOptions(['-b0', '--dump-dmesg', '--partial-dmesg', 'v', 'log']);
  assert.equal(p.blockOrder, 0);
  assert.equal(p.dumpDmesg, true);
  assert.equal(p.partialDmesg, true);
  const q = parseOptions(['-x', 'vmlinux', '--config=/etc/makedumpfile.conf', '-d', '31', 'v', 'd']);
  assert.equal(q.config, '/etc/makedumpfile.conf');
  assert.equal(q.vmlinux, 'vmlinux');
  assert.equal(parseOptions(['v', 'd']).blockOrder, undefined);
});
