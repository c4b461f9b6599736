/**
 * sys's choices that the real samples do not all reach: crash 8.0.2's panic-line search (its order of precedence,
 * the whole line, the Oops suffix) and its MEMORY size (rounded up to a whole GB within 64 MB of it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memorySize, panicMessage } from '../../commands/sys.js';

const OOPS_LOG = [
  'Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org)',
  'mkcore_oops: loading out-of-tree module taints kernel.',
  'BUG: kernel NULL pointer dereference, address: 0000000000000000',
  '#PF: supervisor write access in kernel mode',
  '#PF: error_code(0x0002) - not-present page',
  'Oops: 0002 [#1] PREEMPT SMP NOPTI',
  'CPU: 1 PID: 96 Comm: sh Tainted: G           OE      6.1.0-57-cloud-amd64 #1  Debian 6.1.192-3',
  'RIP: 0010:mkcore_oops_write.constprop.0+0x24/0x30 [mkcore_oops]',
  'Kernel panic - not syncing: Fatal exception',
];

describe("sys PANIC: crash 8.0.2's search of the log", () => {
  test('an oops: the Oops line, not the BUG line or the later Kernel panic line', () => {
    assert.equal(panicMessage(OOPS_LOG), 'Oops: 0002 [#1] PREEMPT SMP NOPTI');
  });

  test('a general protection fault comes before everything else, wherever it is in the log', () => {
    const log = [...OOPS_LOG, 'general protection fault, probably for non-canonical address: 0 [#2]'];
    // "general protection fault: " (with the colon) is the substring crash looks for.
    assert.equal(panicMessage(log), 'Oops: 0002 [#1] PREEMPT SMP NOPTI');
    const old = [...OOPS_LOG, 'general protection fault: 0000 [#2] SMP'];
    assert.equal(panicMessage(old), 'general protection fault: 0000 [#2] SMP');
  });

  test('panic() alone: the Kernel panic line; a machine check: Kernel panic before [Hardware Error]', () => {
    assert.equal(
      panicMessage(['sysrq: Trigger a crash', 'Kernel panic - not syncing: sysrq triggered crash']),
      'Kernel panic - not syncing: sysrq triggered crash',
    );
    assert.equal(
      panicMessage([
        'mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 1: be00000000800090',
        'Kernel panic - not syncing: Fatal local machine check',
      ]),
      'Kernel panic - not syncing: Fatal local machine check',
    );
    assert.equal(
      panicMessage(['mce: [Hardware Error]: Machine check events logged']),
      'mce: [Hardware Error]: Machine check events logged',
    );
  });

  test('old sysrq wording is a panic line; nothing found is an empty message', () => {
    assert.equal(panicMessage(['SysRq : Trigger a crash', 'Kernel panic - x']), 'SysRq : Trigger a crash');
    assert.equal(panicMessage(['just booting', 'nothing to see']), '');
    assert.equal(panicMessage([]), '');
  });
});

describe("sys MEMORY: crash's get_memory_size", () => {
  const MiB = 1n << 20n;
  const GiB = 1n << 30n;
  test('whole units drop ".0"; within 64 MB of the next GB it is rounded up', () => {
    assert.equal(memorySize(4n * GiB, 4096), '4 GB');
    assert.equal(memorySize(4n * GiB - 40n * MiB, 4096), '4 GB');
    assert.equal(memorySize(4n * GiB - 64n * MiB, 4096), '4 GB');
    assert.equal(memorySize(4n * GiB - 65n * MiB, 4096), '3.9 GB');
    assert.equal(memorySize(3n * GiB + 512n * MiB, 4096), '3.5 GB');
    // 511.5 MB is not near a GB; 1000 MB is within 64 MB of 1 GB.
    assert.equal(memorySize(511n * MiB + 512n * 1024n, 4096), '511.5 MB');
    assert.equal(memorySize(1000n * MiB, 4096), '1 GB');
    assert.equal(memorySize(900n * MiB, 4096), '900 MB');
    assert.equal(memorySize(1536n * 1024n * 1024n * 1024n, 4096), '1536 GB');
  });
});
