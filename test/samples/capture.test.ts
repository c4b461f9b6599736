import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { openDump } from '../../core/open.js';
import { crashLive } from '../lib/crash-live.js';
import { loadSample, oracleText } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;

/**
 * The capture case: the capture kernel ran tsmakedumpfile itself as kdump's core collector (node and the built
 * tool in its initramfs): `-l -d 31` to a file and `-F -c -d 31` to a stream.
 */
describe('tsmakedumpfile at capture time (capture sample)', () => {
  for (const key of ['ts-kdump-l-d31', 'ts-flat-c-d31']) {
    test(`${key}: every dumped page equals the raw /proc/vmcore's, and the kernel log is makedumpfile's`, (t) => {
      const m = loadSample('capture', t);
      if (!m) return;
      const ours = openDump(m.files[key]!.path);
      const elf = openDump(m.files.elf!.path);
      try {
        assert.equal(ours.info.format, key.startsWith('ts-flat') ? 'flattened-kdump' : 'kdump');
        let compared = 0;
        for (const pfn of ours.presentPfns()) {
          if (ours.pageState(pfn) !== 'dumped') continue;
          if (Buffer.compare(ours.readPage(pfn), elf.readPage(pfn)) !== 0)
            assert.fail(`pfn 0x${pfn.toString(16)} differs`);
          compared++;
        }
        assert.ok(compared > 10000, `${compared} pages`);
      } finally {
        ours.close();
        elf.close();
      }
      const log = spawnSync(BIN, ['--dump-dmesg', m.files[key]!.path], { encoding: 'latin1' });
      assert.equal(log.status, 0, log.stderr);
      assert.equal(log.stdout, readFileSync(m.files.dmesg!.path, 'latin1'));
    });
  }

  test('crash reads both outputs and gives the log, bt and sys it gives on the raw core', (t) => {
    const m = loadSample('capture', t);
    if (!m) return;
    const cmds = ['log', 'bt', 'sys'];
    const noDumpfile = (s: string): string => s.replace(/^ +DUMPFILE: .*\n/m, '');
    for (const key of ['ts-kdump-l-d31', 'ts-flat-c-d31']) {
      const [log, bt, sys] = crashLive(m.vmlinux, m.files[key]!.path, cmds);
      assert.equal(log, oracleText(m, 'crash-log'), `${key}: log`);
      assert.equal(bt, oracleText(m, 'crash-bt'), `${key}: bt`);
      assert.equal(noDumpfile(sys!), noDumpfile(oracleText(m, 'crash-sys')), `${key}: sys`);
    }
  });
});
