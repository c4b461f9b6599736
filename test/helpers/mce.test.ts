import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeMcaCode, decodeMce, severity } from '../../helpers/mce.js';
import { parseMceLog } from '../../helpers/mce-log.js';

// Expected values written from the Intel SDM vol. 3B, section 16.9 (Interpreting the MCA Error Codes):
// Table 16-7 (simple error codes) and Tables 16-8 to 16-13 (compound codes and their sub-fields).
describe('MCA error codes (SDM tables 16-7 to 16-13)', () => {
  const cases: [number, string, Record<string, unknown>][] = [
    [0x0000, 'no error', {}],
    [0x0001, 'unclassified', {}],
    [0x0002, 'microcode ROM parity', {}],
    [0x0003, 'external error', {}],
    [0x0004, 'FRC error', {}],
    [0x0005, 'internal parity', {}],
    [0x0006, 'SMM handler code access violation', {}],
    [0x0400, 'internal timer', {}],
    [0x0e0b, 'I/O error', {}],
    [0x0401, 'internal unclassified', {}], // 0000 01xx xxxx xxxx, not all x zero
    [0x000f, 'generic cache hierarchy', { level: 'generic level (LG)' }], // 0000 0000 0000 11LL
    [0x000d, 'generic cache hierarchy', { level: 'L1' }],
    [0x0015, 'TLB', { transaction: 'data (D)', level: 'L1' }], // 0000 0000 0001 TTLL: TT=01 LL=01
    [0x0010, 'TLB', { transaction: 'instruction (I)', level: 'L0' }],
    [0x0090, 'memory controller', { memoryTransaction: 'memory read (RD)', channel: 0 }], // 1MMM CCCC: MMM=001
    [0x00af, 'memory controller', { memoryTransaction: 'memory write (WR)', channel: 'unspecified' }], // MMM=010 CCCC=1111
    [0x00c3, 'memory controller', { memoryTransaction: 'memory scrubbing (MS)', channel: 3 }],
    [0x0151, 'cache hierarchy', { request: 'instruction fetch (IRD)', transaction: 'instruction (I)', level: 'L1' }], // 0001 RRRR TTLL
    [0x0134, 'cache hierarchy', { request: 'data read (DRD)', transaction: 'data (D)', level: 'L0' }],
    [0x017a, 'cache hierarchy', { request: 'eviction (EVICT)', transaction: 'generic (G)', level: 'L2' }],
    [0x1019, 'TLB', { filtered: true, transaction: 'generic (G)', level: 'L1' }], // bit 12: corrected filtering
    // 0000 1PPT RRRR IILL: PP=00 SRC, T=1, RRRR=0001 RD, II=00 M, LL=11
    [
      0x0913,
      'bus and interconnect',
      {
        participation: 'local processor originated the request (SRC)',
        timeout: true,
        request: 'data read (RD)',
        memoryOrIo: 'memory access (M)',
        level: 'generic level (LG)',
      },
    ],
    // PP=10 OBS, T=0, RRRR=0010 WR, II=10 IO, LL=11
    [
      0x0c2b,
      'bus and interconnect',
      {
        participation: 'local processor observed the error as a third party (OBS)',
        timeout: false,
        request: 'data write (WR)',
        memoryOrIo: 'I/O (IO)',
      },
    ],
  ];
  for (const [code, cls, fields] of cases) {
    test(`0x${code.toString(16).padStart(4, '0')} is ${cls}`, () => {
      const d = decodeMcaCode(code);
      assert.equal(d.class, cls);
      for (const [k, v] of Object.entries(fields)) assert.deepEqual((d as unknown as Record<string, unknown>)[k], v, k);
    });
  }
});

// Severity cases follow the order of the kernel's tables (arch/x86/kernel/cpu/mce/severity.c).
describe('severity, as the kernel grades it', () => {
  const VAL = 1n << 63n,
    OVER = 1n << 62n,
    UC = 1n << 61n,
    EN = 1n << 60n,
    PCC = 1n << 57n,
    S = 1n << 56n,
    AR = 1n << 55n;
  const RIPV = 1n,
    EIPV = 2n,
    MCIP = 4n;
  const cases: [string, bigint, bigint | undefined, 'intel' | 'amd', boolean | undefined, string, string][] = [
    ['invalid', EN | UC, MCIP | RIPV, 'intel', undefined, 'none', 'Invalid'],
    ['not enabled', VAL | UC, MCIP | RIPV, 'intel', undefined, 'none', 'Not enabled'],
    ['PCC', VAL | UC | EN | PCC, MCIP | RIPV, 'intel', undefined, 'panic', 'Processor context corrupt'],
    ['no MCIP', VAL | UC | EN | S | AR | 0x134n, RIPV, 'intel', false, 'panic', 'MCIP not set in MCA handler'],
    ['no IPs', VAL | UC | EN | S | AR | 0x134n, MCIP, 'intel', false, 'panic', 'Neither restart nor error IP'],
    [
      'UCNA with AR',
      VAL | UC | EN | AR,
      MCIP | RIPV,
      'intel',
      undefined,
      'panic',
      'Illegal combination (UCNA with AR=1)',
    ],
    ['UCNA', VAL | UC | EN | 0x9fn, MCIP | RIPV, 'intel', undefined, 'ucna', 'Uncorrected no action required'],
    [
      'AO scrub',
      VAL | UC | EN | S | 0xc0n,
      MCIP | RIPV,
      'intel',
      undefined,
      'action-optional',
      'Action optional: memory scrubbing error',
    ],
    [
      'AO L3 writeback',
      VAL | UC | EN | S | 0x17an,
      MCIP | RIPV,
      'intel',
      undefined,
      'action-optional',
      'Action optional: last level cache writeback error',
    ],
    [
      'AR data load, user',
      VAL | UC | EN | S | AR | 0x134n,
      MCIP | EIPV,
      'intel',
      false,
      'action-required',
      'Action required: data load error in a user process',
    ],
    [
      'AR data load, kernel',
      VAL | UC | EN | S | AR | 0x134n,
      MCIP | EIPV,
      'intel',
      true,
      'panic',
      'Data load in unrecoverable area of kernel',
    ],
    [
      'AR ifetch, user',
      VAL | UC | EN | S | AR | 0x150n,
      MCIP | EIPV,
      'intel',
      false,
      'action-required',
      'Action required: instruction fetch error in a user process',
    ],
    [
      'AR unknown',
      VAL | UC | EN | S | AR | 0x90n,
      MCIP | EIPV,
      'intel',
      false,
      'panic',
      'Action required: unknown MCACOD',
    ],
    [
      'AR overflow',
      VAL | OVER | UC | EN | S | AR | 0x134n,
      MCIP | EIPV,
      'intel',
      false,
      'panic',
      'Action required with lost events',
    ],
    ['corrected', VAL | EN | 0x90n, undefined, 'intel', undefined, 'corrected', 'Corrected error'],
    ['AMD PCC', VAL | UC | EN | PCC, MCIP | RIPV, 'amd', undefined, 'panic', 'Processor Context Corrupt'],
    ['AMD deferred', VAL | EN | (1n << 44n), undefined, 'amd', undefined, 'deferred', 'Deferred error'],
    ['AMD corrected', VAL | EN, undefined, 'amd', undefined, 'corrected', 'Corrected error'],
    [
      'AMD overflow',
      VAL | OVER | UC | EN,
      MCIP | RIPV,
      'amd',
      false,
      'panic',
      'Overflowed uncorrected error without MCA Overflow Recovery',
    ],
    [
      'AMD UC in kernel',
      VAL | UC | EN,
      MCIP | RIPV,
      'amd',
      true,
      'panic',
      'Uncorrected unrecoverable error in kernel context',
    ],
    [
      'AMD UC in user',
      VAL | UC | EN,
      MCIP | RIPV,
      'amd',
      false,
      'action-required',
      'Action required: uncorrected error in user context',
    ],
  ];
  for (const [name, status, mcg, vendor, inKernel, level, message] of cases) {
    test(name, () => {
      const s = severity(status, mcg, vendor, inKernel);
      assert.equal(s.level, level);
      assert.equal(s.message, message);
    });
  }

  test('flags, corrected count and model-specific code', () => {
    const d = decodeMce({ status: VAL | EN | (5n << 38n) | (0x1234n << 16n) | 0x000dn, vendor: 'intel' });
    assert.deepEqual(d.flags, ['VAL', 'EN']);
    assert.equal(d.correctedCount, 5);
    assert.equal(d.modelSpecific, 0x1234);
    assert.equal(d.mca.class, 'generic cache hierarchy');
  });
});

describe('machine checks in the kernel log', () => {
  test('malformed and partial lines never throw', () => {
    const log = [
      '[    1.0] mce: [Hardware Error]: CPU x: Machine Check: zz Bank q: 12',
      '[    1.0] mce: [Hardware Error]: TSC 123 ADDR 1000',
      '[    1.0] mce: [Hardware Error]: CPU 1: Machine Check: 0 Bank 4: 9c00000000000000',
      '[    1.0] mce: [Hardware Error]: TSC zz',
      '[    1.0] mce: [Hardware Error]: PROCESSOR 0:306a9 TIME x SOCKET 0',
      '[    1.0] mce: [Hardware Error]: Machine check: ',
    ].join('\n');
    const r = parseMceLog(log);
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0]!.bank, 4);
    assert.equal(r.records[0]!.exception, false);
  });
});
