/**
 * The BTF format (include/uapi/linux/btf.h): a header, a type section of
 * `struct btf_type` records each followed by its kind's data, and a string
 * section. A module's BTF is split: its type ids continue after the base's
 * (the vmlinux's) and its string offsets after the base's strings.
 *
 * Parsing is one pass that records where each type starts (typed arrays over
 * the one buffer) and checks every record, every string offset and every type
 * reference against the sections; the type graph is then checked for cycles
 * that do not pass through a pointer (a typedef of itself, a struct holding
 * itself by value), which no C type has. Anything else is a BadDataError naming
 * the file and offset.
 */
import { BadDataError } from '../../core/errors.js';

export const BTF_MAGIC = 0xeb9f;

export const BTF_KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** INT encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

const HEADER_SIZE = 24;
/** Bytes of kind data per vlen entry, and fixed bytes after the 12-byte record, by kind. */
const PER_ENTRY = [0, 0, 0, 0, 12, 12, 8, 0, 0, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 12];
const FIXED = [0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0];

/** One BTF blob (a vmlinux's, or a module's split on top of `base`), parsed and checked. */
export class Btf {
  readonly view: DataView;
  /** The first type id of this blob (1, or the base's count + 1 for split BTF). */
  readonly firstId: number;
  /** Type ids end here (exclusive). */
  readonly endId: number;
  /** Offset in `bytes` of each own type's record, by id - firstId. */
  private readonly at: Uint32Array;
  private readonly typeStart: number;
  private readonly typeEnd: number;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** The base's string section length (split BTF's own offsets start after it). */
  private readonly strBase: number;
  /** The string section as one latin1 string (names are slices of it), made on first use. */
  private strText: string | undefined;

  /**
   * @param bytes the blob; @param file names it in errors (a path, or "BTF in the dump at 0x...");
   * @param base the BTF this one is split on (a module's: the vmlinux's).
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly base?: Btf,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < HEADER_SIZE) this.fail(0, `BTF header: need ${HEADER_SIZE} bytes, ${bytes.length} present`);
    const magic = this.view.getUint16(0, true);
    if (magic !== BTF_MAGIC)
      this.fail(0, `not BTF: magic 0x${magic.toString(16)}, expected 0xeb9f (little-endian BTF)`);
    const version = bytes[2]!;
    if (version !== 1) this.fail(2, `BTF version ${version}, expected 1`);
    const hdrLen = this.view.getUint32(4, true);
    if (hdrLen < HEADER_SIZE || hdrLen > bytes.length)
      this.fail(4, `BTF header length ${hdrLen} outside ${HEADER_SIZE}..${bytes.length}`);
    const u = (o: number) => this.view.getUint32(o, true);
    const [typeOff, typeLen, strOff, strLen] = [u(8), u(12), u(16), u(20)];
    this.typeStart = hdrLen + typeOff;
    this.typeEnd = this.typeStart + typeLen;
    this.strStart = hdrLen + strOff;
    this.strEnd = this.strStart + strLen;
    if (this.typeEnd > bytes.length)
      this.fail(
        8,
        `type section [0x${this.typeStart.toString(16)}, 0x${this.typeEnd.toString(16)}) past the end (0x${bytes.length.toString(16)})`,
      );
    if (this.strEnd > bytes.length)
      this.fail(
        16,
        `string section [0x${this.strStart.toString(16)}, 0x${this.strEnd.toString(16)}) past the end (0x${bytes.length.toString(16)})`,
      );
    if (typeLen % 4 !== 0) this.fail(12, `type section length ${typeLen} is not a multiple of 4`);
    if (strLen > 0 && bytes[this.strEnd - 1] !== 0)
      this.fail(this.strEnd - 1, 'string section does not end with a NUL');
    if (!base && strLen > 0 && bytes[this.strStart] !== 0)
      this.fail(this.strStart, 'string section does not start with an empty string');
    this.strBase = base ? base.strBase + base.strLength : 0;
    this.firstId = base ? base.endId : 1;
    // At most one type per 12 bytes: the offsets table can be sized before the pass.
    const at = new Uint32Array(Math.floor(typeLen / 12));
    let n = 0;
    let p = this.typeStart;
    while (p < this.typeEnd) {
      if (p + 12 > this.typeEnd) this.fail(p, 'type record truncated: 12 bytes needed');
      const info = u(p + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      if (kind === 0 || kind > BTF_KIND.ENUM64) this.fail(p + 4, `type ${this.firstId + n}: unknown kind ${kind}`);
      const len = 12 + FIXED[kind]! + PER_ENTRY[kind]! * vlen;
      if (p + len > this.typeEnd)
        this.fail(p, `type ${this.firstId + n} (kind ${kind}, ${vlen} entries) runs past the type section's end`);
      at[n++] = p;
      p += len;
    }
    this.at = at.subarray(0, n);
    this.endId = this.firstId + n;
    this.check();
  }

  private get strLength(): number {
    return this.strEnd - this.strStart;
  }

  fail(offset: number, message: string): never {
    throw new BadDataError(message, this.file, offset);
  }

  /** How many types this blob has (its own, without the base's). */
  get count(): number {
    return this.at.length;
  }

  /** The blob that holds type `id`. */
  owner(id: number): Btf {
    if (id >= this.firstId) {
      if (id >= this.endId) throw new BadDataError(`type id ${id} is past the last (${this.endId - 1})`, this.file, 0);
      return this;
    }
    if (!this.base) throw new BadDataError(`type id ${id} is not in this BTF`, this.file, 0);
    return this.base.owner(id);
  }

  /** The record's offset in its blob's bytes. */
  recordOffset(id: number): number {
    return this.owner(id).at[id - this.owner(id).firstId]!;
  }

  /** The record's offset when `id` is this blob's own (no base lookup). */
  private own(id: number): number {
    return this.at[id - this.firstId]!;
  }

  kind(id: number): number {
    if (id >= this.firstId && id < this.endId) return (this.view.getUint32(this.own(id) + 4, true) >>> 24) & 0x1f;
    const b = this.owner(id);
    return (b.view.getUint32(b.at[id - b.firstId]! + 4, true) >>> 24) & 0x1f;
  }

  vlen(id: number): number {
    if (id >= this.firstId && id < this.endId) return this.view.getUint32(this.own(id) + 4, true) & 0xffff;
    const b = this.owner(id);
    return b.view.getUint32(b.at[id - b.firstId]! + 4, true) & 0xffff;
  }

  kindFlag(id: number): boolean {
    const b = this.owner(id);
    return b.view.getUint32(b.at[id - b.firstId]! + 4, true) >>> 31 === 1;
  }

  /** The record's size-or-type word. */
  sizeOrType(id: number): number {
    if (id >= this.firstId && id < this.endId) return this.view.getUint32(this.own(id) + 8, true);
    const b = this.owner(id);
    return b.view.getUint32(b.at[id - b.firstId]! + 8, true);
  }

  /** The record's name offset. */
  nameOff(id: number): number {
    if (id >= this.firstId && id < this.endId) return this.view.getUint32(this.own(id), true);
    const b = this.owner(id);
    return b.view.getUint32(b.at[id - b.firstId]!, true);
  }

  name(id: number): string {
    if (id >= this.firstId && id < this.endId) return this.str(this.view.getUint32(this.own(id), true));
    const b = this.owner(id);
    return b.str(b.view.getUint32(b.at[id - b.firstId]!, true));
  }

  /** The u32 at `index` words after the 12-byte record of `id` (its kind's data). */
  word(id: number, index: number): number {
    if (id >= this.firstId && id < this.endId) return this.view.getUint32(this.own(id) + 12 + index * 4, true);
    const b = this.owner(id);
    return b.view.getUint32(b.at[id - b.firstId]! + 12 + index * 4, true);
  }

  /**
   * Where a string's bytes are: the blob holding them (split BTF: the base for the base's offsets) and the
   * position in its `bytes`; the string ends at the next NUL (the section ends with one, checked).
   */
  strAt(off: number): { btf: Btf; pos: number } {
    return { btf: this.strOwner(off), pos: this.strPos(off) };
  }

  /** The blob whose string section has this offset (strAt without an object). */
  strOwner(off: number): Btf {
    return off < this.strBase ? (this.base as Btf).strOwner(off) : this;
  }

  /** The position in strOwner(off).bytes of the string at this offset. */
  strPos(off: number): number {
    if (off < this.strBase) return (this.base as Btf).strPos(off);
    const s = off - this.strBase;
    if (s >= this.strLength) this.fail(this.strStart + s, `string offset ${off} past the string section`);
    return this.strStart + s;
  }

  /** A string by its offset (split BTF: the base's strings first). */
  str(off: number): string {
    if (off < this.strBase) return (this.base as Btf).str(off);
    const s = off - this.strBase;
    if (s >= this.strLength) this.fail(this.strStart + s, `string offset ${off} past the string section`);
    this.strText ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.strStart, this.strLength).toString(
      'latin1',
    );
    // The section ends with a NUL (checked), so every string has its end.
    return this.strText.slice(s, this.strText.indexOf('\0', s));
  }

  private checkStr(off: number, where: number): void {
    if (off < this.strBase) {
      if (this.base && off >= this.base.strBase + this.base.strLength)
        this.fail(where, `string offset ${off} past the base's strings`);
      return;
    }
    if (this.strStart + off - this.strBase >= this.strEnd)
      this.fail(where, `string offset ${off} past the string section (${this.strBase + this.strLength})`);
  }

  /**
   * Every string offset and type reference in range; then no cycle through by-value edges (typedef,
   * qualifiers, tags, array elements, members, function prototypes, variables, sections).
   */
  private check(): void {
    const u = (o: number) => this.view.getUint32(o, true);
    const end = this.endId;
    const ref = (t: number, where: number, allowVoid = true) => {
      if (t >= end || (t === 0 && !allowVoid)) this.fail(where, `type reference ${t} outside 1..${end - 1}`);
    };
    const K = BTF_KIND;
    for (let i = 0; i < this.at.length; i++) {
      const p = this.at[i]!;
      const info = u(p + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      this.checkStr(u(p), p);
      switch (kind) {
        case K.PTR:
        case K.TYPEDEF:
        case K.VOLATILE:
        case K.CONST:
        case K.RESTRICT:
        case K.TYPE_TAG:
        case K.FUNC_PROTO:
          ref(u(p + 8), p + 8);
          break;
        case K.FUNC:
        case K.VAR:
        case K.DECL_TAG:
          ref(u(p + 8), p + 8, false);
          break;
        case K.ARRAY:
          ref(u(p + 12), p + 12, false);
          ref(u(p + 16), p + 16, false);
          break;
        default:
          break;
      }
      const per = PER_ENTRY[kind]!;
      const first = p + 12 + FIXED[kind]!;
      for (let j = 0; j < vlen && per; j++) {
        const e = first + j * per;
        if (kind === K.DATASEC) ref(u(e), e, false);
        else this.checkStr(u(e), e);
        if (kind === K.STRUCT || kind === K.UNION || kind === K.FUNC_PROTO) ref(u(e + 4), e + 4, kind === K.FUNC_PROTO);
      }
    }
    this.checkCycles();
  }

  /**
   * The `pos`-th by-value reference of an own type (all but a pointer's target), or -1 past the last: the
   * target of a typedef, qualifier, tag, function, variable; an array's element; each member's, parameter's
   * and section variable's type.
   */
  private valueRef(p: number, kind: number, vlen: number, pos: number): number {
    const K = BTF_KIND;
    const v = this.view;
    switch (kind) {
      case K.TYPEDEF:
      case K.VOLATILE:
      case K.CONST:
      case K.RESTRICT:
      case K.TYPE_TAG:
      case K.FUNC:
      case K.VAR:
      case K.DECL_TAG:
        return pos === 0 ? v.getUint32(p + 8, true) : -1;
      case K.ARRAY:
        return pos === 0 ? v.getUint32(p + 12, true) : -1;
      case K.STRUCT:
      case K.UNION:
        return pos < vlen ? v.getUint32(p + 12 + pos * 12 + 4, true) : -1;
      case K.FUNC_PROTO:
        if (pos === 0) return v.getUint32(p + 8, true);
        return pos <= vlen ? v.getUint32(p + 12 + (pos - 1) * 8 + 4, true) : -1;
      case K.DATASEC:
        return pos < vlen ? v.getUint32(p + 12 + pos * 12, true) : -1;
      default:
        return -1;
    }
  }

  /** Iterative depth-first search over this blob's types (the base was checked on its own). */
  private checkCycles(): void {
    const n = this.at.length;
    const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
    const stackIdx = new Int32Array(n);
    const stackPos = new Int32Array(n);
    for (let root = 0; root < n; root++) {
      if (state[root]) continue;
      let top = 0;
      stackIdx[0] = root;
      stackPos[0] = 0;
      state[root] = 1;
      while (top >= 0) {
        const i = stackIdx[top]!;
        const p = this.at[i]!;
        const info = this.view.getUint32(p + 4, true);
        const t = this.valueRef(p, (info >>> 24) & 0x1f, info & 0xffff, stackPos[top]!);
        if (t < 0) {
          state[i] = 2;
          top--;
          continue;
        }
        stackPos[top]!++;
        if (t < this.firstId) continue; // void, or the base's (checked on its own)
        const j = t - this.firstId;
        const s = state[j];
        if (s === 1) this.fail(this.at[j]!, `type ${t} refers to itself by value (a cycle not through a pointer)`);
        if (s === 0) {
          state[j] = 1;
          top++;
          stackIdx[top] = j;
          stackPos[top] = 0;
        }
      }
    }
  }
}
