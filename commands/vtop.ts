import { CommandError } from '../program/index.js';
import { parseAddress } from './address.js';
import type { Command } from './registry.js';

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

export const vtop: Command = {
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
  run(ctx, args) {
    if (args.length === 0) throw new CommandError('usage: vtop address ...');
    const mem = ctx.program.memory;
    args.forEach((arg, n) => {
      const v = parseAddress(ctx.program, arg);
      const w = mem.walk(v);
      if (n) ctx.out('\n');
      ctx.out(`VIRTUAL           PHYSICAL        \n`);
      ctx.out(`${h(v).padEnd(16)}  ${(w.paddr !== undefined ? h(w.paddr) : '(not mapped)').padEnd(16)}\n\n`);
      ctx.out(`PGD DIRECTORY: ${h(mem.pgdVaddr)}\n`);
      const [top, ...rest] = w.steps;
      if (!top) return;
      ctx.out(`PAGE DIRECTORY: ${h(top.entry)}\n`);
      for (const s of rest) ctx.out(`${s.level.padStart(6)}: ${h(s.entryAddr)} => ${h(s.entry)}\n`);
      if (w.paddr === undefined) {
        ctx.out(`\n(not mapped)\n`);
        return;
      }
      const leaf = w.steps[w.steps.length - 1]!.entry;
      const page = w.paddr & ~(BigInt(w.pageSize!) - 1n);
      const size = w.pageSize === 1 << 30 ? '  (1GB)' : w.pageSize === 1 << 21 ? '  (2MB)' : '';
      ctx.out(`  PAGE: ${h(page)}${size}\n\n`);
      const flags = FLAG_NAMES.filter(([bit]) => (leaf & bit) !== 0n).map(([, name]) => name);
      ctx.out(`      PTE         PHYSICAL  FLAGS\n`);
      ctx.out(`${h(leaf).padStart(16, '0')}  ${h(page).padStart(8)}  (${flags.join('|')})\n`);
    });
  },
};
