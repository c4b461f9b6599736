/**
 * The kallsyms tables as a session without a vmlinux finds them in the dump (program/kallsyms.ts,
 * core/kallsyms-format.ts). Parts: kallsyms_offsets, kallsyms_relative_base, kallsyms_num_syms, kallsyms_names,
 * kallsyms_token_table, kallsyms_token_index, laid out in that order in a kernel image at _stext, with VMCOREINFO
 * SYMBOL()s pointing at each as the kernel's do.
 */
import { FaultError } from '../../core/errors.js';
import { readKallsyms } from '../../program/kallsyms.js';
import { refused, splitParts } from '../lib/harness.js';

const STEXT = 0xffffffff81000000n;
const NAMES = [
  'kallsyms_offsets',
  'kallsyms_relative_base',
  'kallsyms_num_syms',
  'kallsyms_names',
  'kallsyms_token_table',
  'kallsyms_token_index',
];

export function fuzz(data: Buffer): void {
  const parts = splitParts(data, NAMES.length);
  const image = Buffer.concat(parts);
  const symbols = new Map<string, bigint>([['_stext', STEXT]]);
  let at = 0;
  parts.forEach((p, i) => {
    symbols.set(NAMES[i]!, STEXT + BigInt(at));
    at += p.length;
  });
  const mem = {
    vmcoreinfo: { symbols },
    readVirt(vaddr: bigint, len: number): Uint8Array {
      const o = vaddr - STEXT;
      if (o < 0n || o + BigInt(len) > BigInt(image.length))
        throw new FaultError(`virtual address 0x${vaddr.toString(16)} is not mapped`, vaddr, 'virtual', 'not-mapped');
      return image.subarray(Number(o), Number(o) + len);
    },
  };
  refused(() => readKallsyms(mem));
}
