import { BadDataError } from './errors.js';

/**
 * A bounds-checked little-endian reader over a byte buffer. Every failure names
 * the file and the absolute offset of the value that could not be read.
 * `base` is the offset of `buf[0]` within `file`, so errors point into the file.
 */
export class Cursor {
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    readonly base = 0,
    pos = 0,
    end = buf.length,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  fail(message: string, at = this.pos): never {
    throw new BadDataError(message, this.file, this.base + at);
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail(`${what}: need ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  seek(pos: number): this {
    if (pos < 0 || pos > this.end) this.fail(`seek to ${pos} outside 0..${this.end}`);
    this.pos = pos;
    return this;
  }

  skip(n: number, what = 'data'): void {
    this.need(n, what);
    this.pos += n;
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(what = 'i64'): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A u64 that must fit in a JS number (file offsets, sizes, pfns). */
  u64n(what = 'u64'): number {
    const at = this.pos;
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what}: value 0x${v.toString(16)} too large`, at);
    return Number(v);
  }

  uleb(what = 'uleb128'): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) this.fail(`${what}: truncated`, start);
      const b = this.buf[this.pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      else if ((b & 0x7f) !== 0) this.fail(`${what}: value too large`, start);
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  sleb(what = 'sleb128'): number {
    let result = 0;
    let shift = 0;
    const start = this.pos;
    let b: number;
    do {
      if (this.pos >= this.end) this.fail(`${what}: truncated`, start);
      b = this.buf[this.pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40 && shift < 64) result -= 2 ** Math.min(shift, 53);
    return result;
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** NUL-terminated string (the NUL is consumed). */
  cstr(what = 'string'): string {
    const start = this.pos;
    const nul = this.buf.indexOf(0, start);
    if (nul < 0 || nul >= this.end) this.fail(`${what}: unterminated`, start);
    this.pos = nul + 1;
    return latin1(this.buf, start, nul);
  }
}

const decoder = new TextDecoder('utf-8');

/** Decode bytes [start, end) as UTF-8 (kernel strings are ASCII in practice). */
export function latin1(buf: Uint8Array, start = 0, end = buf.length): string {
  return decoder.decode(buf.subarray(start, end));
}

/** A fixed-size char array: the bytes up to the first NUL. */
export function fixedString(buf: Uint8Array, start: number, size: number): string {
  let end = start;
  const limit = Math.min(start + size, buf.length);
  while (end < limit && buf[end] !== 0) end++;
  return latin1(buf, start, end);
}
