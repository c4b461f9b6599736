/**
 * The kallsyms tables' encoding (kernel/kallsyms.c, scripts/kallsyms.c), shared by the page filter (which
 * looks up a few image symbols through VMCOREINFO) and the session without a vmlinux (program/kallsyms.ts):
 * the token table and its index, the names table's entries (a length, one byte or two when the first has
 * bit 7 set, then that many token numbers; the expansion's first character is the type letter), and the
 * base-relative addresses.
 */

/**
 * The 256 tokens, from kallsyms_token_index (512 bytes) and kallsyms_token_table; undefined when an index
 * points past the table. (Unused byte values may have empty tokens.)
 */
export function decodeTokens(index: Uint8Array, table: Uint8Array): string[] | undefined {
  if (index.length < 512) return undefined;
  const dv = new DataView(index.buffer, index.byteOffset, 512);
  const out: string[] = [];
  for (let i = 0; i < 256; i++) {
    const s = dv.getUint16(i * 2, true);
    if (s >= table.length) return undefined;
    let e = table.indexOf(0, s);
    if (e < 0) e = table.length;
    out.push(Buffer.from(table.subarray(s, e)).toString('latin1'));
  }
  return out;
}

/** How many bytes of kallsyms_token_table the index reaches (its largest offset), for reading just those. */
export function tokenTableSpan(index: Uint8Array): number {
  const dv = new DataView(index.buffer, index.byteOffset, 512);
  let max = 0;
  for (let i = 0; i < 256; i++) max = Math.max(max, dv.getUint16(i * 2, true));
  return max + 256;
}

/** The entry at `p` of kallsyms_names: its token count and where its tokens start. */
export function nameEntry(names: Uint8Array, p: number): { len: number; start: number } {
  let len = names[p++]!;
  if (len & 0x80) len = (len & 0x7f) | (names[p++]! << 7);
  return { len, start: p };
}

/** The entry at `p` expanded: the type letter, then the name. */
export function expandName(names: Uint8Array, p: number, tokens: string[]): string {
  const { len, start } = nameEntry(names, p);
  let s = '';
  for (let k = 0; k < len; k++) s += tokens[names[start + k]!]!;
  return s;
}

/**
 * A symbol's address from its kallsyms_offsets entry: with KALLSYMS_ABSOLUTE_PERCPU (x86-64 up to 6.14) a
 * non-negative offset is absolute (a per-cpu offset) and a negative one counts down from the base; without
 * it every offset counts up from the base.
 */
export function offsetAddress(offset: number, base: bigint, absolutePercpu: boolean): bigint {
  if (!absolutePercpu) return BigInt.asUintN(64, base + BigInt(offset >>> 0));
  return offset >= 0 ? BigInt(offset) : BigInt.asUintN(64, base - 1n - BigInt(offset));
}
