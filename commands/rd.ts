import { CommandError } from '../program/index.js';
import { parseAddress, parseCount } from './address.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

const printable = (c: number): string => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.');

/** rd: memory as units (with their bytes), as words named by the kernel symbols they point to (-s), or a string (-a). */
export type RdResult =
  | { mode: 'units'; address: Hex; physical: boolean; unitSize: number; values: Hex[] }
  | { mode: 'symbols'; address: Hex; physical: boolean; words: { value: Hex; symbol?: string; offset?: number }[] }
  | { mode: 'ascii'; address: Hex; physical: boolean; text: string };

const label = (a: bigint): string => `${a.toString(16).padStart(16)}:  `;

export const rd: Command<RdResult> = {
  resultType: 'RdResult',
  name: 'rd',
  usesTypes: false,
  summary: 'read memory',
  help: `NAME
  rd - read memory

SYNOPSIS
  rd [-p] [-8|-16|-32|-64] [-a] [-s] address|symbol [count]

DESCRIPTION
  Displays memory in hexadecimal with an ASCII column, as crash does.
  Addresses are kernel virtual addresses unless -p is given; a bare number
  is hexadecimal.

    -p   the address is physical
    -8 -16 -32 -64   unit size (default -64)
    -a   show the memory as an ASCII string, up to its NUL
    -s   64-bit words, those pointing into the kernel image as symbol+offset
    count  number of units (default 1; with -a, bytes at most)

EXAMPLES
  rd -p 1000 8
  rd -64 init_top_pgt 4
`,
  run(ctx, args): RdResult {
    let physical = false;
    let size = 8;
    let ascii = false;
    let symbolic = false;
    const rest: string[] = [];
    for (const a of args) {
      if (a === '-p') physical = true;
      else if (a === '-8' || a === '-16' || a === '-32' || a === '-64') size = Number(a.slice(1)) / 8;
      else if (a === '-a') ascii = true;
      else if (a === '-s' || a === '-S') symbolic = true;
      else if (a === '-u')
        throw new CommandError('-u: user virtual addresses need a task context, which is not supported yet');
      else if (a.startsWith('-') && !/^-\d/.test(a)) throw new CommandError(`unknown option ${a}`);
      else rest.push(a);
    }
    if (rest.length === 0 || rest.length > 2)
      throw new CommandError('usage: rd [-p] [-8|-16|-32|-64] [-a] address [count]');
    const addr = parseAddress(ctx.program, rest[0]!);
    const count = rest[1] ? parseCount(rest[1]) : ascii ? 4096 : 1;
    const mem = ctx.program.memory;
    const read = (a: bigint, n: number): Uint8Array =>
      physical ? mem.readPhys(a, n, `${size * 8}-bit PHYSADDR`) : mem.readVirt(a, n, `${size * 8}-bit KVADDR`);
    if (ascii) {
      const bytes = read(addr, count);
      const nul = bytes.indexOf(0);
      return {
        mode: 'ascii',
        address: addr,
        physical,
        text: Buffer.from(bytes.subarray(0, nul < 0 ? bytes.length : nul)).toString('latin1'),
      };
    }
    if (symbolic) {
      // crash's rd -s: 64-bit words, those that point into the kernel image named as symbol+offset.
      const bytes = read(addr, count * 8);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const st = ctx.program.symbols;
      const lo = st.lookup('_text')?.address ?? 0n;
      const hi = st.lookup('_end')?.address ?? 0n;
      const words = [];
      for (let j = 0; j < count; j++) {
        const v = dv.getBigUint64(j * 8, true);
        const r = v >= lo && v < hi ? st.symbolize(v) : undefined;
        words.push({ value: v, symbol: r?.symbol.name, offset: r ? Number(r.offset) : undefined });
      }
      return { mode: 'symbols', address: addr, physical, words };
    }
    const bytes = read(addr, count * size);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values: bigint[] = [];
    for (let k = 0; k < count; k++) {
      const o = k * size;
      values.push(
        size === 8
          ? dv.getBigUint64(o, true)
          : BigInt(size === 4 ? dv.getUint32(o, true) : size === 2 ? dv.getUint16(o, true) : dv.getUint8(o)),
      );
    }
    return { mode: 'units', address: addr, physical, unitSize: size, values };
  },
  text(r, ctx) {
    if (r.mode === 'ascii') {
      // As crash does: 60 characters a line; a newline in the string is printed as itself.
      const s = Buffer.from(r.text, 'latin1');
      let text = '';
      for (let o = 0; o < s.length; o += 60) {
        const chunk = Array.from(s.subarray(o, o + 60), (c) => (c === 0x0a ? '\n' : printable(c))).join('');
        text += `${label(r.address + BigInt(o))}${chunk}${o + 60 < s.length ? '\n' : ''}`;
      }
      if (s.length === 0) text = label(r.address);
      // crash ends the display with the string's own newline, or adds one.
      ctx.out(text.endsWith('\n') ? text.slice(0, -1) : `${text}\n`);
      return;
    }
    if (r.mode === 'symbols') {
      let text = '';
      for (let i = 0; i < r.words.length; i += 2) {
        const words = r.words
          .slice(i, i + 2)
          .map((w) =>
            (w.symbol !== undefined
              ? `${w.symbol}${w.offset ? `+${w.offset}` : ''}`
              : w.value.toString(16).padStart(16, '0')
            ).padEnd(16),
          );
        text += `${label(r.address + BigInt(i * 8))}${words.join(' ')} \n`;
      }
      ctx.out(text);
      return;
    }
    const size = r.unitSize;
    const perLine = 16 / size;
    for (let i = 0; i < r.values.length; i += perLine) {
      const vals = r.values.slice(i, i + perLine);
      // The ASCII column: each unit's bytes, little-endian.
      const chars = vals.flatMap((v) =>
        Array.from({ length: size }, (_, b) => printable(Number((v >> BigInt(8 * b)) & 0xffn))),
      );
      ctx.out(
        // A short last line keeps the ASCII column where the full lines have it, as crash does.
        `${label(r.address + BigInt(i * size))}${vals
          .map((v) => v.toString(16).padStart(size * 2, '0'))
          .join(' ')
          .padEnd(perLine * (size * 2 + 1) - 1)}   ${chars.join('')}\n`,
      );
    }
  },
};
