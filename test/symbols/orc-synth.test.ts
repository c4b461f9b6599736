/**
 * ORC parsing on synthetic tables: the three bit layouts, version detection
 * (given, .orc_header, data), unsorted (pre-5.6) tables, lookups at and
 * between entries, and malformed sizes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BadDataError } from '../../core/errors.js';
import { ElfFile } from '../../symbols/elf.js';
import {
  ORC_REG_BP,
  ORC_REG_SP,
  ORC_REG_UNDEFINED,
  OrcTable,
  type OrcVersion,
  orcVersionFromMembers,
} from '../../symbols/orc.js';
import { buildElf, SHF } from '../lib/synth-elf.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-orc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface E {
  ip: number; // offset from the ip table's address
  sp: number;
  bp: number;
  spReg: number;
  bpReg: number;
  kind: 'call' | 'regs' | 'regs_partial' | 'end' | 'undefined';
  signal?: boolean;
}

function encode(v: OrcVersion, e: E): number {
  let bits = e.spReg | (e.bpReg << 4);
  if (v === 3) {
    const t = { undefined: 0, end: 1, call: 2, regs: 3, regs_partial: 4 }[e.kind];
    bits |= t << 8;
    if (e.signal) bits |= 1 << 11;
  } else {
    const t = { call: 0, regs: 1, regs_partial: 2, end: 0, undefined: 0 }[e.kind];
    bits |= t << 8;
    if (v === 1 && e.kind === 'end') bits |= 1 << 10;
    if (v === 2 && e.kind === 'end') bits |= 1 << 11;
    if (v === 2 && e.signal) bits |= 1 << 10;
  }
  return bits;
}

function tables(v: OrcVersion, list: E[]): { ip: Uint8Array; unwind: Uint8Array } {
  const ip = new Uint8Array(list.length * 4);
  const unwind = new Uint8Array(list.length * 6);
  const iv = new DataView(ip.buffer);
  const uv = new DataView(unwind.buffer);
  list.forEach((e, i) => {
    iv.setInt32(i * 4, e.ip - i * 4, true);
    uv.setInt16(i * 6, e.sp, true);
    uv.setInt16(i * 6 + 2, e.bp, true);
    uv.setUint16(i * 6 + 4, encode(v, e), true);
  });
  return { ip, unwind };
}

/** A plausible table: mostly call frames, some pushes, an interrupt entry, an end. */
function sample(): E[] {
  const out: E[] = [];
  let ip = 0x1000;
  for (let f = 0; f < 40; f++) {
    out.push({ ip, sp: 8, bp: 0, spReg: ORC_REG_SP, bpReg: ORC_REG_UNDEFINED, kind: 'call' });
    out.push({ ip: ip + 1, sp: 16, bp: -16, spReg: ORC_REG_SP, bpReg: 1, kind: 'call' });
    out.push({ ip: ip + 4, sp: 16, bp: -16, spReg: ORC_REG_BP, bpReg: 1, kind: 'call' });
    ip += 0x40;
  }
  out.push({ ip, sp: 8, bp: 0, spReg: ORC_REG_SP, bpReg: 0, kind: 'regs_partial', signal: true });
  out.push({ ip: ip + 0x10, sp: 0, bp: 0, spReg: ORC_REG_SP, bpReg: 0, kind: 'regs', signal: true });
  out.push({ ip: ip + 0x20, sp: 0, bp: 0, spReg: ORC_REG_UNDEFINED, bpReg: 0, kind: 'end' });
  return out;
}

const BASE = 0xffffffff82c00000n;

describe('ORC tables', () => {
  for (const v of [1, 2, 3] as const) {
    test(`version ${v}: decoded as written, detected from the data`, () => {
      const list = sample();
      const { ip, unwind } = tables(v, list);
      const orc = OrcTable.fromBytes(ip, unwind, BASE);
      assert.equal(orc.version, v);
      assert.equal(orc.versionSource, 'data');
      assert.equal(orc.count, list.length);
      list.forEach((e, i) => {
        const d = orc.entry(i);
        assert.equal(d.ip, BASE + BigInt(e.ip));
        assert.equal(d.spOffset, e.sp);
        assert.equal(d.bpOffset, e.bp);
        assert.equal(d.spReg, e.spReg);
        assert.equal(d.bpReg, e.bpReg);
        assert.equal(d.end, e.kind === 'end', `entry ${i} end`);
        if (e.kind !== 'end') assert.equal(d.type, e.kind);
        const signal = e.signal === true || (v === 1 && (e.kind === 'regs' || e.kind === 'regs_partial'));
        assert.equal(d.signal, signal, `entry ${i} signal`);
      });
      // Lookups: at an entry, between entries, before the first.
      assert.equal(orc.find(BASE + 0x1000n)!.spOffset, 8);
      assert.equal(orc.find(BASE + 0x1002n)!.ip, BASE + 0x1001n);
      assert.equal(orc.find(BASE + 0x103fn)!.spReg, ORC_REG_BP);
      assert.equal(orc.find(BASE + 0xfffn), undefined);
      assert.equal(orc.find(0n), undefined);
      assert.equal(orc.find(BASE + 0x100000n)!.end, true, 'past the last entry: the last entry');
    });
  }

  test('.orc_header means version 3; a given version wins', () => {
    const { ip, unwind } = tables(3, sample());
    assert.equal(OrcTable.fromBytes(ip, unwind, BASE, { hasHeader: true }).versionSource, 'header');
    const forced = OrcTable.fromBytes(ip, unwind, BASE, { version: 1 });
    assert.equal(forced.version, 1);
    assert.equal(forced.versionSource, 'given');
  });

  test('unsorted tables (sorted at boot before v5.6) are searched in ip order', () => {
    const list = sample();
    const shuffled = list
      .map((e, i) => ({ e, k: (i * 7919) % list.length }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.e);
    const { ip, unwind } = tables(1, shuffled);
    const orc = OrcTable.fromBytes(ip, unwind, BASE);
    assert.equal(orc.storedSorted, false);
    for (let i = 1; i < orc.count; i++) assert.ok(orc.ip(i) > orc.ip(i - 1));
    const sorted = OrcTable.fromBytes(...(Object.values(tables(1, list)) as [Uint8Array, Uint8Array]), BASE);
    for (let i = 0; i < orc.count; i++) assert.deepEqual(orc.entry(i), sorted.entry(i));
  });

  test('checkLookup counts blocks that disagree', () => {
    const { ip, unwind } = tables(1, sample());
    const orc = OrcTable.fromBytes(ip, unwind, BASE);
    const start = BASE + 0x1000n;
    const lookup = new Uint32Array(12);
    for (let b = 0; b < lookup.length; b++) lookup[b] = orc.indexFor(start + BigInt(b * 256));
    assert.equal(orc.checkLookup(lookup, start), 0);
    lookup[3]! += 1;
    assert.equal(orc.checkLookup(lookup, start), 1);
  });

  test('mismatched or ragged table sizes are BadDataError', () => {
    const { ip, unwind } = tables(1, sample());
    assert.throws(() => OrcTable.fromBytes(ip.subarray(0, ip.length - 2), unwind, BASE), BadDataError);
    assert.throws(() => OrcTable.fromBytes(ip, unwind.subarray(6), BASE), /entries of 6 bytes/);
  });

  test('from an ELF file, with .orc_header', () => {
    const { ip, unwind } = tables(3, sample());
    const header = Uint8Array.from({ length: 20 }, (_, i) => i);
    const p = join(dir, 'orc.elf');
    writeFileSync(
      p,
      buildElf({
        sections: [
          { name: '.orc_header', flags: SHF.ALLOC, addr: BASE - 0x100n, data: header },
          { name: '.orc_unwind_ip', flags: SHF.ALLOC, addr: BASE, data: ip },
          { name: '.orc_unwind', flags: SHF.ALLOC, addr: BASE + 0x10000n, data: unwind },
        ],
      }).bytes,
    );
    const elf = ElfFile.open(p);
    const orc = OrcTable.fromElf(elf)!;
    assert.equal(orc.version, 3);
    assert.equal(orc.versionSource, 'header');
    assert.equal(orc.header, Buffer.from(header).toString('hex'));
    assert.equal(orc.find(BASE + 0x1001n)!.spOffset, 16);
    elf.close();
  });

  test('orcVersionFromMembers', () => {
    const common = [
      { name: 'sp_offset' },
      { name: 'bp_offset' },
      { name: 'sp_reg', bitSize: 4 },
      { name: 'bp_reg', bitSize: 4 },
    ];
    assert.equal(orcVersionFromMembers([...common, { name: 'type', bitSize: 2 }, { name: 'end', bitSize: 1 }]), 1);
    assert.equal(
      orcVersionFromMembers([
        ...common,
        { name: 'type', bitSize: 2 },
        { name: 'signal', bitSize: 1 },
        { name: 'end', bitSize: 1 },
      ]),
      2,
    );
    assert.equal(orcVersionFromMembers([...common, { name: 'type', bitSize: 3 }, { name: 'signal', bitSize: 1 }]), 3);
  });
});
