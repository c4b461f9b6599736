/**
 * The in-memory machine-check sources the real samples do not exercise (the
 * legacy mcelog buffer, queued and freed genpool entries), on a synthetic
 * kernel: hand-built types with the kernel's layouts and a small memory image.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FaultError } from '../../core/errors.js';
import { mceRecordsInMemory } from '../../helpers/mce-records.js';
import { Program } from '../../program/program.js';
import type { CType, Member } from '../../symbols/dwarf/types.js';

const u8: CType = { kind: 'base', name: 'unsigned char', size: 1 };
const u32: CType = { kind: 'base', name: 'unsigned int', size: 4 };
const int: CType = { kind: 'base', name: 'int', size: 4 };
const u64: CType = { kind: 'base', name: 'long long unsigned int', size: 8 };
const ulong: CType = { kind: 'base', name: 'long unsigned int', size: 8 };
const char: CType = { kind: 'base', name: 'char', size: 1 };
const ptr = (target: CType): CType => ({ kind: 'pointer', target, size: 8 });
const struct = (name: string, size: number, members: [string, number, CType][]): CType & { members: Member[] } => ({
  kind: 'struct',
  name,
  size,
  offset: 0,
  members: members.map(([n, offset, type]) => ({ name: n, offset, type })),
});
const arr = (element: CType, n?: number): CType => ({ kind: 'array', element, counts: [n] });

// struct mce as in Linux 6.1 (arch/x86/include/uapi/asm/mce.h).
const mceT = struct('mce', 128, [
  ['status', 0, u64],
  ['misc', 8, u64],
  ['addr', 16, u64],
  ['mcgstatus', 24, u64],
  ['ip', 32, u64],
  ['tsc', 40, u64],
  ['time', 48, u64],
  ['cpuvendor', 56, u8],
  ['inject_flags', 57, u8],
  ['severity', 58, u8],
  ['pad', 59, u8],
  ['cpuid', 60, u32],
  ['cs', 64, u8],
  ['bank', 65, u8],
  ['cpu', 66, u8],
  ['finished', 67, u8],
  ['extcpu', 68, u32],
  ['socketid', 72, u32],
  ['apicid', 76, u32],
  ['mcgcap', 80, u64],
  ['synd', 88, u64],
  ['ipid', 96, u64],
  ['ppin', 104, u64],
  ['microcode', 112, u32],
  ['kflags', 120, u64],
]);
const listHead = struct('list_head', 16, []);
listHead.members.push(
  { name: 'next', offset: 0, type: ptr(listHead) },
  { name: 'prev', offset: 8, type: ptr(listHead) },
);
const llnode = struct('llist_node', 8, []);
llnode.members.push({ name: 'next', offset: 0, type: ptr(llnode) });
const types: Record<string, CType> = {
  'struct mce': mceT,
  'struct mce_log_buffer': struct('mce_log_buffer', 32, [
    ['signature', 0, arr(char, 12)],
    ['len', 12, u32],
    ['next', 16, u32],
    ['flags', 20, u32],
    ['recordlen', 24, u32],
    ['entry', 32, arr(mceT)],
  ]),
  'struct llist_head': struct('llist_head', 8, [['first', 0, ptr(llnode)]]),
  'struct mce_evt_llist': struct('mce_evt_llist', 136, [
    ['llnode', 0, llnode],
    ['mce', 8, mceT],
  ]),
  'struct gen_pool': struct('gen_pool', 40, [
    ['lock', 0, u64],
    ['chunks', 8, listHead],
    ['min_alloc_order', 24, int],
  ]),
  'struct gen_pool_chunk': struct('gen_pool_chunk', 48, [
    ['next_chunk', 0, listHead],
    ['avail', 16, u64],
    ['phys_addr', 24, u64],
    ['start_addr', 32, ulong],
    ['end_addr', 40, ulong],
    ['bits', 48, arr(ulong)],
  ]),
  'struct cpumask': struct('cpumask', 8, [['bits', 0, arr(ulong, 1)]]),
};

/** A sparse little-endian memory image. */
class Image {
  readonly bytes = new Map<bigint, number>();
  readonly pageSize = 4096;
  put(addr: bigint, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) this.bytes.set(addr + BigInt(i), data[i]!);
  }
  u64(addr: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.put(addr, b);
  }
  u32(addr: bigint, v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.put(addr, b);
  }
  readVirt(addr: bigint, len: number, what = 'memory'): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const v = this.bytes.get(addr + BigInt(i));
      if (v === undefined) {
        const at = addr + BigInt(i);
        throw new FaultError(`${what}: 0x${at.toString(16)} not in the image`, at, 'virtual', 'not-in-dump', what);
      }
      out[i] = v;
    }
    return out;
  }
  tryReadVirt(addr: bigint, len: number): Uint8Array | undefined {
    try {
      return this.readVirt(addr, len);
    } catch {
      return undefined;
    }
  }
  readU8(a: bigint, w?: string): number {
    return this.readVirt(a, 1, w)[0]!;
  }
  readU16(a: bigint, w?: string): number {
    const b = this.readVirt(a, 2, w);
    return b[0]! | (b[1]! << 8);
  }
  readU32(a: bigint, w?: string): number {
    return new DataView(this.readVirt(a, 4, w).buffer).getUint32(0, true);
  }
  readU64(a: bigint, w?: string): bigint {
    return new DataView(this.readVirt(a, 8, w).buffer).getBigUint64(0, true);
  }
  readCString(a: bigint, max = 4096): string {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = this.readU8(a + BigInt(i));
      if (!c) break;
      s += String.fromCharCode(c);
    }
    return s;
  }
}

function mceBytes(f: Partial<Record<string, bigint>>): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  for (const m of mceT.members) {
    const v = f[m.name!];
    if (v === undefined) continue;
    const size = (m.type as { size: number }).size;
    if (size === 8) dv.setBigUint64(m.offset, v, true);
    else if (size === 4) dv.setUint32(m.offset, Number(v), true);
    else dv.setUint8(m.offset, Number(v));
  }
  return b;
}

/** A Program over the image and hand-made types (the real Program's type and variable logic). */
function synthProgram(img: Image, vars: Record<string, [bigint, CType]>): Program {
  const debug = {
    findType: (n: string) => types[n],
    findVariable: (n: string) => (vars[n] ? { name: n, type: vars[n]![1], dieOffset: 0 } : undefined),
    findEnumerator: () => undefined,
    findFunction: () => undefined,
    typeNames: () => [],
  };
  const p = Object.create(Program.prototype) as Program;
  Object.assign(p, { _memory: img, debugInfo: debug, typeCache: new Map(), warnings: [], _vmlinux: undefined });
  Object.defineProperty(p, 'symbolAddress', { value: (n: string) => vars[n]?.[0] });
  return p;
}

describe('in-memory machine-check records (synthetic kernel)', () => {
  test('the legacy mcelog buffer, queued genpool records, and records left in freed pool entries', () => {
    const img = new Image();
    const vars: Record<string, [bigint, CType]> = {};
    // One CPU: __per_cpu_offset[0] = 0, possible mask 0b1.
    vars.__per_cpu_offset = [0xffffffff81000000n, arr(ulong, 1)];
    img.u64(0xffffffff81000000n, 0n);
    vars.nr_cpu_ids = [0xffffffff81000100n, u32];
    img.u32(0xffffffff81000100n, 1);
    vars.__cpu_possible_mask = [0xffffffff81000200n, types['struct cpumask']!];
    img.u64(0xffffffff81000200n, 1n);
    // mces_seen on CPU 0: nothing in progress.
    vars.mces_seen = [0xffff888000010000n, mceT];
    img.put(0xffff888000010000n, mceBytes({}));

    // mcelog -> buffer with signature, len 4, next 2: entry 0 finished, entry 1 unfinished and invalid.
    const buf = 0xffff888000020000n;
    vars.mcelog = [0xffffffff81000300n, ptr(types['struct mce_log_buffer']!)];
    img.u64(0xffffffff81000300n, buf);
    img.put(buf, new TextEncoder().encode('MACHINECHECK'));
    img.u32(buf + 12n, 4);
    img.u32(buf + 16n, 2);
    img.u32(buf + 20n, 0);
    img.u32(buf + 24n, 128);
    img.put(
      buf + 32n,
      mceBytes({ status: 0x9c00000000010151n, bank: 4n, cpu: 0n, extcpu: 0n, finished: 1n, addr: 0x1000n }),
    );
    img.put(buf + 32n + 128n, mceBytes({}));
    for (let i = 2n; i < 4n; i++) img.put(buf + 32n + i * 128n, mceBytes({ status: 1n << 63n, finished: 1n }));

    // Genpool: 4 slots of 256 bytes; slot 0 queued on mce_event_llist, slot 2 freed with a record, slot 3 empty.
    const start = 0xffff888000030000n;
    const pool = 0xffff888000040000n;
    const chunk = 0xffff888000041000n;
    vars.mce_evt_pool = [0xffffffff81000400n, ptr(types['struct gen_pool']!)];
    img.u64(0xffffffff81000400n, pool);
    img.u64(pool, 0n);
    img.u64(pool + 8n, chunk);
    img.u64(pool + 16n, chunk);
    img.u32(pool + 24n, 8);
    img.u64(chunk, pool + 8n);
    img.u64(chunk + 8n, pool + 8n);
    img.u64(chunk + 32n, start);
    img.u64(chunk + 40n, start + 4n * 256n - 1n);
    img.u64(chunk + 48n, 0b0001n); // slot 0 allocated
    for (let i = 0n; i < 4n * 256n; i += 8n) img.u64(start + i, 0n);
    img.u64(start, 0n); // llnode.next
    img.put(start + 8n, mceBytes({ status: 0xbd80000000100134n, bank: 2n, extcpu: 0n, cpu: 0n }));
    img.put(start + 2n * 256n + 8n, mceBytes({ status: 0x8c00004000010090n, bank: 7n, extcpu: 0n, cpu: 0n }));
    vars.mce_event_llist = [0xffffffff81000500n, types['struct llist_head']!];
    img.u64(0xffffffff81000500n, start);

    const prog = synthProgram(img, vars);
    const mem = mceRecordsInMemory(prog);
    const summary = mem.records.map((r) => [r.source, r.record.bank, `0x${r.record.status.toString(16)}`]);
    assert.deepEqual(summary, [
      ['mcelog', 4, '0x9c00000000010151'],
      ['genpool', 2, '0xbd80000000100134'],
      ['genpool-freed', 7, '0x8c00004000010090'],
    ]);
    assert.equal(mem.records[0]!.record.addr, 0x1000n);
    assert.match(mem.records[2]!.where, /freed/);
    assert.ok(mem.notes.includes('mcelog: 1 record of 4 slots (next 2)'), mem.notes.join('\n'));
    assert.ok(mem.notes.includes('mce_event_llist: 1 queued record'));

    // A buffer without the signature is not trusted.
    img.put(buf, new TextEncoder().encode('GARBAGEGARBA'));
    const again = mceRecordsInMemory(prog);
    assert.equal(again.records.filter((r) => r.source === 'mcelog').length, 0);
    assert.ok(again.notes.some((n) => /signature is "GARBAGEGARBA"/.test(n)));
  });
});
