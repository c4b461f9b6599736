/**
 * --partial-dmesg on the structured log_buf of 3.5-5.9 (synthetic: no sample runs such a kernel): the log starts
 * at clear_idx, as makedumpfile reads it; without SYMBOL(clear_idx) the whole log. The 5.10+ ring (clear_seq) is
 * tested against makedumpfile on a real core in test/writer/options-samples.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpDmesg } from '../../core/dmesg.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { buildElfCore, tempFile } from '../lib/synth-dump.js';

const KTEXT = 0xffffffff80000000n;
const hex = (v: bigint): string => v.toString(16);

function putRecord(mem: Buffer, at: number, tsNsec: bigint, text: string): number {
  const len = (16 + text.length + 7) & ~7;
  mem.writeBigUInt64LE(tsNsec, at);
  mem.writeUInt16LE(len, at + 8);
  mem.writeUInt16LE(text.length, at + 10);
  mem.write(text, at + 16, 'latin1');
  return at + len;
}

function structuredLog(withClearIdx: boolean): KernelMemory {
  const mem = Buffer.alloc(64 * 1024);
  const LOGBUF = 0x4000;
  mem.writeBigUInt64LE(KTEXT + BigInt(LOGBUF), 0x3000);
  mem.writeUInt32LE(512, 0x3008);
  mem.writeUInt32LE(0, 0x3010); // log_first_idx
  let p = putRecord(mem, LOGBUF, 1_000_000n, 'before the clear');
  const cleared = p - LOGBUF;
  p = putRecord(mem, p, 2_000_000n, 'after the clear');
  p = putRecord(mem, p, 3_000_000n, 'last');
  mem.writeUInt32LE(p - LOGBUF, 0x3018); // log_next_idx
  mem.writeUInt32LE(cleared, 0x3020); // clear_idx
  const vi = [
    'OSRELEASE=4.19.0-synth',
    'PAGESIZE=4096',
    `SYMBOL(init_top_pgt)=${hex(KTEXT + 0x1000n)}`,
    'NUMBER(phys_base)=0',
    `SYMBOL(log_buf)=${hex(KTEXT + 0x3000n)}`,
    `SYMBOL(log_buf_len)=${hex(KTEXT + 0x3008n)}`,
    `SYMBOL(log_first_idx)=${hex(KTEXT + 0x3010n)}`,
    `SYMBOL(log_next_idx)=${hex(KTEXT + 0x3018n)}`,
    ...(withClearIdx ? [`SYMBOL(clear_idx)=${hex(KTEXT + 0x3020n)}`] : []),
    'SIZE(printk_log)=16',
    'OFFSET(printk_log.ts_nsec)=0',
    'OFFSET(printk_log.len)=8',
    'OFFSET(printk_log.text_len)=10',
    '',
  ].join('\n');
  return new KernelMemory(openDump(tempFile(`partial-${Math.random()}`, buildElfCore([{ paddr: 0, data: mem }], vi))));
}

test('--partial-dmesg on a 3.5-5.9 log starts at clear_idx', () => {
  const all = '[    0.001000] before the clear\n[    0.002000] after the clear\n[    0.003000] last\n';
  const km = structuredLog(true);
  assert.equal(Buffer.from(dumpDmesg(km)).toString('latin1'), all);
  assert.equal(
    Buffer.from(dumpDmesg(km, { sinceClear: true })).toString('latin1'),
    '[    0.002000] after the clear\n[    0.003000] last\n',
  );
  // a kernel whose VMCOREINFO has no clear_idx: the whole log
  assert.equal(Buffer.from(dumpDmesg(structuredLog(false), { sinceClear: true })).toString('latin1'), all);
});
