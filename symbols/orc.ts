/**
 * The x86-64 ORC unwind tables: `.orc_unwind_ip` (one s32 per entry, the
 * instruction address relative to the entry's own address) and `.orc_unwind`
 * (one 6-byte `struct orc_entry` per entry): sp_offset s16, bp_offset s16,
 * then a u16 of bit fields whose layout changed twice:
 *
 *   version | bits 0-3 | 4-7    | 8-9 / 8-10 | then
 *   1 (v4.14-v6.2) | sp_reg | bp_reg | type:2 | end:1 (bit 10)
 *   2 (v6.3)       | sp_reg | bp_reg | type:2 | signal:1 (bit 10), end:1 (bit 11)
 *   3 (v6.4+)      | sp_reg | bp_reg | type:3 | signal:1 (bit 11)
 *
 * Types: versions 1-2 CALL 0, REGS 1, REGS_PARTIAL 2 (REGS_IRET before v5.x);
 * version 3 UNDEFINED 0, END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4
 * (`end` became END_OF_STACK and an all-undefined entry UNDEFINED).
 *
 * The version is decided, in order: by the caller (e.g. from the members of
 * DWARF `struct orc_entry`: `orcVersionFromMembers`); by `.orc_header` (present
 * from v6.4 on: version 3); by the data: CALL frames are by far the most
 * common entry, so the most common 2-bit type value is 2 in version 3 and 0
 * before; bit 11 (`end`) is only ever set in version 2.
 *
 * The same parsing works on bytes read from a dump's memory (`fromBytes`), for
 * the unwinder when there is no vmlinux, and for modules' tables.
 */
import { BadDataError } from '../core/errors.js';
import type { ElfFile } from './elf.js';

export type OrcVersion = 1 | 2 | 3;

export const ORC_REG_UNDEFINED = 0;
export const ORC_REG_PREV_SP = 1;
export const ORC_REG_DX = 2;
export const ORC_REG_DI = 3;
export const ORC_REG_BP = 4;
export const ORC_REG_SP = 5;
export const ORC_REG_R10 = 6;
export const ORC_REG_R13 = 7;
export const ORC_REG_BP_INDIRECT = 8;
export const ORC_REG_SP_INDIRECT = 9;

export const ORC_REG_NAMES = [
  'undefined',
  'prev_sp',
  'dx',
  'di',
  'bp',
  'sp',
  'r10',
  'r13',
  'bp_indirect',
  'sp_indirect',
];

export type OrcType = 'undefined' | 'end_of_stack' | 'call' | 'regs' | 'regs_partial';

export interface OrcEntry {
  /** The instruction address this entry starts at (in the table's address space). */
  ip: bigint;
  spOffset: number;
  bpOffset: number;
  spReg: number;
  bpReg: number;
  type: OrcType;
  signal: boolean;
  /** The end of the stack (version 1-2 `end` bit, or version 3 END_OF_STACK). */
  end: boolean;
}

/** A member of DWARF `struct orc_entry` (name and bit size) — enough to tell the versions apart. */
export interface OrcMemberInfo {
  name: string;
  bitSize?: number;
}

/** The ORC version a vmlinux's DWARF `struct orc_entry` describes. */
export function orcVersionFromMembers(members: OrcMemberInfo[]): OrcVersion {
  const names = new Set(members.map((m) => m.name));
  const type = members.find((m) => m.name === 'type');
  if (type?.bitSize === 3 || (names.has('signal') && !names.has('end'))) return 3;
  if (names.has('signal') && names.has('end')) return 2;
  return 1;
}

const V12_TYPES: OrcType[] = ['call', 'regs', 'regs_partial', 'undefined'];
const V3_TYPES: OrcType[] = [
  'undefined',
  'end_of_stack',
  'call',
  'regs',
  'regs_partial',
  'undefined',
  'undefined',
  'undefined',
];

export interface OrcOptions {
  /** Force a version (from DWARF, or known by the caller). */
  version?: OrcVersion;
  /** Whether the kernel has `.orc_header` (v6.4+), when known. */
  hasHeader?: boolean;
  /** Name used in errors. */
  source?: string;
  /** The `.orc_header` bytes as hex, kept on the table for display. */
  header?: string;
}

export class OrcTable {
  /** Sorted instruction addresses relative to `base` (exact in a double: within ±2^33). */
  private readonly ips: Float64Array;
  /** Entry index in the tables as stored, in ip order. */
  private readonly order: Uint32Array | undefined;
  private readonly dv: DataView;
  readonly version: OrcVersion;
  /** How the version was decided. */
  readonly versionSource: 'given' | 'header' | 'data';

  private constructor(
    private readonly base: bigint,
    ips: Float64Array,
    order: Uint32Array | undefined,
    unwind: Uint8Array,
    version: OrcVersion,
    versionSource: 'given' | 'header' | 'data',
    /** The 20-byte `.orc_header` hash (v6.4+), when read. */
    readonly header?: string,
  ) {
    this.ips = ips;
    this.order = order;
    this.dv = new DataView(unwind.buffer, unwind.byteOffset, unwind.byteLength);
    this.version = version;
    this.versionSource = versionSource;
  }

  /** Number of entries. */
  get count(): number {
    return this.ips.length;
  }

  /** Were the tables stored sorted (kernels since v5.6 sort them at build time)? */
  get storedSorted(): boolean {
    return this.order === undefined;
  }

  /**
   * From a vmlinux (or a module, whose `.orc_unwind_ip` relocations ElfFile
   * applies). Undefined when the file has no ORC tables.
   */
  static fromElf(elf: ElfFile, opts: OrcOptions = {}): OrcTable | undefined {
    const ipSec = elf.section('.orc_unwind_ip');
    const uSec = elf.section('.orc_unwind');
    if (!ipSec || !uSec) return undefined;
    const hdr = elf.section('.orc_header');
    let header: string | undefined;
    if (hdr && hdr.size > 0) header = Buffer.from(elf.sectionData(hdr)).toString('hex');
    return OrcTable.fromBytes(elf.sectionData(ipSec), elf.sectionData(uSec), ipSec.addr, {
      hasHeader: hdr !== undefined,
      source: elf.path,
      ...opts,
      header,
    });
  }

  /**
   * From raw table bytes, e.g. read from the dump's memory between
   * `__start_orc_unwind_ip`/`__stop_orc_unwind_ip` and `__start_orc_unwind`.
   * `ipAddress` is the address the ip table lives at (each entry is relative to itself).
   */
  static fromBytes(ipBytes: Uint8Array, unwindBytes: Uint8Array, ipAddress: bigint, opts: OrcOptions = {}): OrcTable {
    const source = opts.source ?? 'ORC tables';
    if (ipBytes.length % 4 !== 0)
      throw new BadDataError(`.orc_unwind_ip is ${ipBytes.length} bytes, not a multiple of 4`, source, 0);
    const n = ipBytes.length / 4;
    if (unwindBytes.length !== n * 6)
      throw new BadDataError(
        `.orc_unwind is ${unwindBytes.length} bytes; ${n} entries of 6 bytes expected to match .orc_unwind_ip`,
        source,
        0,
      );
    const iv = new DataView(ipBytes.buffer, ipBytes.byteOffset, ipBytes.byteLength);
    const ips = new Float64Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      ips[i] = i * 4 + iv.getInt32(i * 4, true);
      if (i > 0 && ips[i]! < ips[i - 1]!) sorted = false;
    }
    let order: Uint32Array | undefined;
    let sortedIps = ips;
    if (!sorted) {
      // Before v5.6 the kernel sorted the tables at boot: sort a permutation here.
      order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => ips[a]! - ips[b]! || a - b);
      sortedIps = Float64Array.from(order, (i) => ips[i]!);
    }
    let version = opts.version;
    let how: 'given' | 'header' | 'data' = 'given';
    if (!version) {
      if (opts.hasHeader) {
        version = 3;
        how = 'header';
      } else {
        version = detectVersion(unwindBytes);
        how = 'data';
      }
    }
    return new OrcTable(ipAddress, sortedIps, order, unwindBytes, version, how, opts.header);
  }

  /** Instruction address of the i-th entry in ip order. */
  ip(i: number): bigint {
    return this.base + BigInt(this.ips[i]!);
  }

  /** The i-th entry in ip order. */
  entry(i: number): OrcEntry {
    const k = this.order ? this.order[i]! : i;
    const o = k * 6;
    const bits = this.dv.getUint16(o + 4, true);
    const v = this.version;
    const typeBits = v === 3 ? (bits >> 8) & 7 : (bits >> 8) & 3;
    const type = v === 3 ? V3_TYPES[typeBits]! : V12_TYPES[typeBits]!;
    const endBit = v === 1 ? (bits >> 10) & 1 : v === 2 ? (bits >> 11) & 1 : 0;
    const signal = v === 2 ? (bits >> 10) & 1 : v === 3 ? (bits >> 11) & 1 : 0;
    return {
      ip: this.ip(i),
      spOffset: this.dv.getInt16(o, true),
      bpOffset: this.dv.getInt16(o + 2, true),
      spReg: bits & 0xf,
      bpReg: (bits >> 4) & 0xf,
      type,
      // Version 1 had no signal bit: its unwinder treated REGS / REGS_PARTIAL frames (interrupts,
      // exceptions) as the signal frames, whose ip is not a return address.
      signal: signal === 1 || (v === 1 && (type === 'regs' || type === 'regs_partial')),
      end: endBit === 1 || type === 'end_of_stack',
    };
  }

  /**
   * Position (in ip order) of the entry covering `ip`: the last one at or
   * below it, or -1. `ip` is in the table's address space: subtract the KASLR
   * offset when the table came from the vmlinux file.
   */
  indexFor(ip: bigint): number {
    const d = ip - this.base;
    if (d < -(2n ** 52n) || d > 2n ** 52n) return -1;
    const q = Number(d);
    const a = this.ips;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! <= q) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The ORC entry for an instruction address, or undefined when it precedes every entry. */
  find(ip: bigint): OrcEntry | undefined {
    const i = this.indexFor(ip);
    return i < 0 ? undefined : this.entry(i);
  }

  /**
   * Check a kernel `orc_lookup` table (read from memory, u32 per block) against
   * this table: each block's first index must be the entry covering the
   * block's start. Returns the number of blocks that disagree.
   */
  checkLookup(lookup: Uint32Array, textStart: bigint, blockSize = 256): number {
    let bad = 0;
    for (let b = 0; b + 1 < lookup.length; b++) {
      const start = textStart + BigInt(b * blockSize);
      const i = this.indexFor(start);
      const want = this.order ? (i < 0 ? 0 : this.order[i]!) : Math.max(i, 0);
      if (lookup[b] !== want) bad++;
    }
    return bad;
  }
}

function detectVersion(unwind: Uint8Array): OrcVersion {
  const dv = new DataView(unwind.buffer, unwind.byteOffset, unwind.byteLength);
  const n = Math.floor(unwind.length / 6);
  const types = [0, 0, 0, 0];
  let bit11 = 0;
  for (let i = 0; i < n; i++) {
    const bits = dv.getUint16(i * 6 + 4, true);
    types[(bits >> 8) & 3]!++;
    if (bits & 0x800) bit11++;
  }
  let common = 0;
  for (let t = 1; t < 4; t++) if (types[t]! > types[common]!) common = t;
  if (common === 2) return 3;
  return bit11 > 0 ? 2 : 1;
}
