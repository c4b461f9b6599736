import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dumpDmesg } from '../../core/dmesg.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { buildElfCore, tempFile } from '../lib/synth-dump.js';

const KTEXT = 0xffffffff80000000n;
const hex = (v: bigint): string => v.toString(16);

/** A 64 KiB physical memory image whose kernel-text addresses map linearly (phys_base 0). */
function kernelImage(vmcoreinfo: string, fill: (mem: Buffer) => void): KernelMemory {
  const mem = Buffer.alloc(64 * 1024);
  fill(mem);
  const info = `OSRELEASE=3.10.0-synth\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=${hex(KTEXT + 0x1000n)}\nNUMBER(phys_base)=0\n${vmcoreinfo}`;
  return new KernelMemory(openDump(tempFile(`mem-${Math.random()}`, buildElfCore([{ paddr: 0, data: mem }], info))));
}

/** struct printk_log (3.5-5.9): u64 ts_nsec; u16 len, text_len, dict_len; u8 facility; u8 flags:5 level:3. */
function putRecord(mem: Buffer, at: number, tsNsec: bigint, text: Buffer): number {
  const len = (16 + text.length + 7) & ~7;
  mem.writeBigUInt64LE(tsNsec, at);
  mem.writeUInt16LE(len, at + 8);
  mem.writeUInt16LE(text.length, at + 10);
  mem.writeUInt16LE(0, at + 12);
  text.copy(mem, at + 16);
  return at + len;
}

describe('kernel log formats, synthetic', () => {
  test('structured log_buf (3.5-5.9) with wrap-around, escapes and continuation lines', () => {
    const LOGBUF = 0x4000; // physical = kernel-text offset
    const LEN = 256;
    const first = 160;
    let next = 0;
    const km = kernelImage(
      [
        `SYMBOL(log_buf)=${hex(KTEXT + 0x3000n)}`,
        `SYMBOL(log_buf_len)=${hex(KTEXT + 0x3008n)}`,
        `SYMBOL(log_first_idx)=${hex(KTEXT + 0x3010n)}`,
        `SYMBOL(log_next_idx)=${hex(KTEXT + 0x3018n)}`,
        'SIZE(printk_log)=16',
        'OFFSET(printk_log.ts_nsec)=0',
        'OFFSET(printk_log.len)=8',
        'OFFSET(printk_log.text_len)=10',
        '',
      ].join('\n'),
      (mem) => {
        mem.writeBigUInt64LE(KTEXT + BigInt(LOGBUF), 0x3000);
        mem.writeUInt32LE(LEN, 0x3008);
        mem.writeUInt32LE(first, 0x3010);
        let p = putRecord(mem, LOGBUF + first, 1_500_000_000n, Buffer.from('first line\nsecond'));
        // p is now 160+40=200; the next record does not fit before 256: end-of-buffer marker (len 0) here.
        mem.writeUInt16LE(0, p + 8);
        p = putRecord(mem, LOGBUF, 2_000_001_000n, Buffer.from([0x41, 0x01, 0xc3, 0x09, 0x42]));
        next = putRecord(mem, p, 123_456_789_012n, Buffer.from('last')) - LOGBUF;
        mem.writeUInt32LE(next, 0x3018);
      },
    );
    const out = Buffer.from(dumpDmesg(km)).toString('latin1');
    assert.equal(
      out,
      '[    1.500000] first line\n               second\n' +
        '[    2.000001] A\\x01\\xffffffc3\tB\n' +
        '[  123.456789] last\n',
    );
  });

  test('plain character buffer (before 3.5): short and wrapped', () => {
    for (const [end, want] of [
      [5, 'hello'],
      [256 + 3, `${'y'.repeat(253)}abc`],
    ] as [number, string][]) {
      const km = kernelImage(
        [
          `SYMBOL(log_buf)=${hex(KTEXT + 0x3000n)}`,
          `SYMBOL(log_buf_len)=${hex(KTEXT + 0x3008n)}`,
          `SYMBOL(log_end)=${hex(KTEXT + 0x3010n)}`,
          '',
        ].join('\n'),
        (mem) => {
          mem.writeBigUInt64LE(KTEXT + 0x4000n, 0x3000);
          mem.writeUInt32LE(256, 0x3008);
          mem.writeUInt32LE(end, 0x3010);
          mem.fill('y', 0x4000, 0x4100);
          if (end < 256) mem.write('hello', 0x4000);
          else mem.write('abc', 0x4000);
        },
      );
      assert.equal(Buffer.from(dumpDmesg(km)).toString('latin1'), want);
    }
  });

  test('a log whose layout VMCOREINFO does not describe gives a clear error', () => {
    const km = kernelImage('', () => {});
    assert.throws(() => dumpDmesg(km), /neither SYMBOL\(prb\) nor SYMBOL\(log_buf\)/);
  });
});
