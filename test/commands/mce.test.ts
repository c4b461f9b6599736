import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { loadSample } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;

describe('mce on the mce sample', () => {
  test('finds the injected machine check in the dump, decodes it and explains the panic', (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const inj = m.facts.mce!;
    for (const key of ['kdump-c-d31', 'flat-c-d31']) {
      const r: SpawnSyncReturns<string> = spawnSync(BIN, [m.files[key]!.path, '-c', 'mce --json'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        records: {
          logged: Record<string, unknown>;
          decoded: {
            flags: string[];
            mcgFlags: string[];
            mca: Record<string, string>;
            severity: Record<string, string>;
          };
        }[];
        messages: string[];
        panic: string;
      };
      assert.equal(out.records.length, 1);
      const { logged, decoded } = out.records[0]!;
      assert.equal(logged.cpu, inj.cpu);
      assert.equal(logged.bank, inj.bank);
      assert.equal(logged.status, inj.status);
      assert.equal(logged.mcgStatus, inj.mcgStatus);
      assert.equal(logged.addr, inj.addr);
      assert.equal(logged.misc, inj.misc);
      assert.deepEqual(decoded.flags, ['VAL', 'UC', 'EN', 'MISCV', 'ADDRV', 'PCC']);
      assert.deepEqual(decoded.mcgFlags, ['RIPV', 'MCIP']);
      assert.equal(decoded.mca.class, 'memory controller');
      assert.equal(decoded.mca.memoryTransaction, 'memory read (RD)');
      assert.equal(decoded.severity.level, 'panic');
      // The kernel's own message for the record, as it logged it, is the decoder's severity message.
      assert.deepEqual(out.messages, [decoded.severity.message]);
      assert.equal(out.panic, m.facts.panic);
    }
    const plain = spawnSync(BIN, [m.files.elf!.path, '-c', 'mce'], { encoding: 'utf8' }).stdout;
    assert.match(plain, /MACHINE CHECK 1 of 1/);
    assert.match(plain, /STATUS 0xbe00000000800090: VAL UC EN MISCV ADDRV PCC/);
    assert.match(plain, /PANIC: "Kernel panic - not syncing: Fatal local machine check"/);
  });

  test('mce decode works on raw values and rejects bad ones', (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const r = spawnSync(
      BIN,
      [m.files.elf!.path, '-c', 'mce decode 0x9c000000000000a1 --mcgstatus 0 --vendor intel', '-c', 'mce decode zz'],
      { encoding: 'utf8' },
    );
    assert.match(r.stdout, /STATUS 0x9c000000000000a1: VAL EN MISCV ADDRV\n/);
    assert.match(r.stdout, /memory controller error: memory write \(WR\), channel 1/);
    assert.match(r.stdout, /mce: STATUS: not a 64-bit number: zz/);
  });
});

describe('mce on the sysrq sample', () => {
  test('says there was no machine check', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const r = spawnSync(BIN, [m.files.elf!.path, '-c', 'mce'], { encoding: 'utf8' });
    assert.match(
      r.stdout,
      /no machine check in the kernel log \(the panic was: "Kernel panic - not syncing: sysrq triggered crash"\)/,
    );
  });
});
