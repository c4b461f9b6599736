import { CommandError } from '../program/index.js';
import { parseAddress } from './address.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

const FLAG_NAMES: [bigint, string][] = [
  [1n, 'PRESENT'],
  [2n, 'RW'],
  [4n, 'USER'],
  [8n, 'PWT'],
  [16n, 'PCD'],
  [32n, 'ACCESSED'],
  [64n, 'DIRTY'],
  [128n, 'PSE'],
  [256n, 'GLOBAL'],
  [1n << 63n, 'NX'],
];

const h = (v: bigint): string => v.toString(16);

/** One translation: each page-table level's entry, and the page the address lies in (none when not mapped). */
export interface VtopTranslation {
  virtual: Hex;
  physical?: Hex;
  /** The top-level directory (init_top_pgt) and its entry for the address. */
  pgd: Hex;
  steps: { level: string; entryAddress: Hex; entry: Hex }[];
  page?: { address: Hex; size: number; pte: Hex; flags: string[] };
}

/** vtop: the translation of each address. */
export interface VtopResult {
  translations: VtopTranslation[];
}

export const vtop: Command<VtopResult> = {
  resultType: 'VtopResult',
  name: 'vtop',
  usesTypes: false,
  summary: 'virtual to physical translation, step by step',
  help: `NAME
  vtop - virtual to physical

SYNOPSIS
  vtop address ...

DESCRIPTION
  Translates kernel virtual addresses through the kernel page tables
  (init_top_pgt), in crash's layout: the top-level directory, each level's
  entry address and entry, the page and its size, and the leaf entry's flags.
`,
  run(ctx, args): VtopResult {
    if (args.length === 0) throw new CommandError('usage: vtop address ...');
    const mem = ctx.program.memory;
    return {
      translations: args.map((arg): VtopTranslation => {
        const v = parseAddress(ctx.program, arg);
        const w = mem.walk(v);
        const t: VtopTranslation = {
          virtual: v,
          physical: w.paddr,
          pgd: mem.pgdVaddr,
          steps: w.steps.map((x) => ({ level: x.level, entryAddress: x.entryAddr, entry: x.entry })),
        };
        if (w.paddr !== undefined && w.steps.length) {
          const leaf = w.steps[w.steps.length - 1]!.entry;
          t.page = {
            address: w.paddr & ~(BigInt(w.pageSize!) - 1n),
            size: w.pageSize!,
            pte: leaf,
            flags: FLAG_NAMES.filter(([bit]) => (leaf & bit) !== 0n).map(([, name]) => name),
          };
        }
        return t;
      }),
    };
  },
  text(r, ctx) {
    r.translations.forEach((t, n) => {
      if (n) ctx.out('\n');
      ctx.out(`VIRTUAL           PHYSICAL        \n`);
      ctx.out(
        `${h(t.virtual).padEnd(16)}  ${(t.physical !== undefined ? h(t.physical) : '(not mapped)').padEnd(16)}\n\n`,
      );
      ctx.out(`PGD DIRECTORY: ${h(t.pgd)}\n`);
      const [top, ...rest] = t.steps;
      if (!top) return;
      ctx.out(`PAGE DIRECTORY: ${h(top.entry)}\n`);
      for (const s of rest) ctx.out(`${s.level.padStart(6)}: ${h(s.entryAddress)} => ${h(s.entry)}\n`);
      if (!t.page) {
        ctx.out(`\n(not mapped)\n`);
        return;
      }
      const size = t.page.size === 1 << 30 ? '  (1GB)' : t.page.size === 1 << 21 ? '  (2MB)' : '';
      ctx.out(`  PAGE: ${h(t.page.address)}${size}\n\n`);
      ctx.out(`      PTE         PHYSICAL  FLAGS\n`);
      ctx.out(`${h(t.page.pte).padStart(16, '0')}  ${h(t.page.address).padStart(8)}  (${t.page.flags.join('|')})\n`);
    });
  },
};
