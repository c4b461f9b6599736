/**
 * Synthetic BTF blobs (include/uapi/linux/btf.h's layout) for the reader's edge cases and hostile input:
 * each method appends one type and returns its id; `build()` gives the blob. With `base`, the blob is split
 * BTF on top of it (ids and string offsets continue the base's).
 */
import { BTF_KIND as K } from '../../symbols/btf/format.js';

export interface SynthMember {
  name: string;
  type: number;
  /** Bit offset from the struct's start. */
  bitOffset: number;
  /** With kind_flag structs: the bitfield's size (0: not a bitfield). */
  bitSize?: number;
}

export class BtfBuilder {
  private readonly words: number[] = [];
  private readonly strings: Buffer[] = [];
  private strLen: number;
  private nextId: number;
  private readonly strOffsets = new Map<string, number>();

  /** @param base a base blob's header-derived counts: its type count and string section length. */
  constructor(base?: { types: number; strLen: number }) {
    this.nextId = base ? base.types + 1 : 1;
    this.strLen = base ? base.strLen : 0;
    if (!base) this.str('');
  }

  str(s: string): number {
    const hit = this.strOffsets.get(s);
    if (hit !== undefined) return hit;
    const off = this.strLen;
    const b = Buffer.from(`${s}\0`, 'latin1');
    this.strings.push(b);
    this.strLen += b.length;
    this.strOffsets.set(s, off);
    return off;
  }

  /** A raw record: name, kind, vlen, kind_flag, size-or-type, then the kind's words. */
  raw(
    name: string | number,
    kind: number,
    vlen: number,
    kflag: boolean,
    sizeOrType: number,
    data: number[] = [],
  ): number {
    const n = typeof name === 'number' ? name : this.str(name);
    this.words.push(n, ((kflag ? 1 : 0) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff), sizeOrType, ...data);
    return this.nextId++;
  }

  int(
    name: string,
    size: number,
    opts: { signed?: boolean; bits?: number; offset?: number; bool?: boolean } = {},
  ): number {
    const enc = (opts.signed ? 1 : 0) | (opts.bool ? 4 : 0);
    return this.raw(name, K.INT, 0, false, size, [(enc << 24) | ((opts.offset ?? 0) << 16) | (opts.bits ?? size * 8)]);
  }
  ptr(t: number): number {
    return this.raw(0, K.PTR, 0, false, t);
  }
  array(elem: number, index: number, n: number): number {
    return this.raw(0, K.ARRAY, 0, false, 0, [elem, index, n]);
  }
  struct(name: string, size: number, members: SynthMember[], opts: { union?: boolean; kflag?: boolean } = {}): number {
    const data: number[] = [];
    for (const m of members)
      data.push(this.str(m.name), m.type, opts.kflag ? ((m.bitSize ?? 0) << 24) | m.bitOffset : m.bitOffset);
    return this.raw(name, opts.union ? K.UNION : K.STRUCT, members.length, opts.kflag ?? false, size, data);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    const data: number[] = [];
    for (const [n, v] of values) data.push(this.str(n), v >>> 0);
    return this.raw(name, K.ENUM, values.length, signed, size, data);
  }
  enum64(name: string, values: [string, bigint][], signed = false): number {
    const data: number[] = [];
    for (const [n, v] of values) {
      const u = BigInt.asUintN(64, v);
      data.push(this.str(n), Number(u & 0xffffffffn), Number(u >> 32n));
    }
    return this.raw(name, K.ENUM64, values.length, signed, 8, data);
  }
  fwd(name: string, union = false): number {
    return this.raw(name, K.FWD, 0, union, 0);
  }
  typedef(name: string, t: number): number {
    return this.raw(name, K.TYPEDEF, 0, false, t);
  }
  qualifier(kind: 'const' | 'volatile' | 'restrict', t: number): number {
    return this.raw(0, kind === 'const' ? K.CONST : kind === 'volatile' ? K.VOLATILE : K.RESTRICT, 0, false, t);
  }
  proto(ret: number, params: [string, number][]): number {
    const data: number[] = [];
    for (const [n, t] of params) data.push(this.str(n), t);
    return this.raw(0, K.FUNC_PROTO, params.length, false, ret, data);
  }
  func(name: string, proto: number): number {
    return this.raw(name, K.FUNC, 1, false, proto);
  }
  variable(name: string, t: number): number {
    return this.raw(name, K.VAR, 0, false, t, [1]);
  }
  datasec(name: string, size: number, vars: [number, number, number][]): number {
    return this.raw(name, K.DATASEC, vars.length, false, size, vars.flat());
  }
  float(name: string, size: number): number {
    return this.raw(name, K.FLOAT, 0, false, size);
  }
  declTag(name: string, t: number, component: number): number {
    return this.raw(name, K.DECL_TAG, 0, false, t, [component >>> 0]);
  }
  typeTag(name: string, t: number): number {
    return this.raw(name, K.TYPE_TAG, 0, false, t);
  }

  /** The blob: header, types, strings (this blob's own, after the base's for split BTF). */
  build(): Uint8Array {
    const types = Buffer.alloc(this.words.length * 4);
    for (let i = 0; i < this.words.length; i++) types.writeUInt32LE(this.words[i]! >>> 0, i * 4);
    const strs = Buffer.concat(this.strings);
    const h = Buffer.alloc(24);
    h.writeUInt16LE(0xeb9f, 0);
    h[2] = 1;
    h.writeUInt32LE(24, 4);
    h.writeUInt32LE(0, 8);
    h.writeUInt32LE(types.length, 12);
    h.writeUInt32LE(types.length, 16);
    h.writeUInt32LE(strs.length, 20);
    return new Uint8Array(Buffer.concat([h, types, strs]));
  }

  /** What a blob split on this one needs to know of it. */
  get counts(): { types: number; strLen: number } {
    return { types: this.nextId - 1, strLen: this.strLen };
  }
}
