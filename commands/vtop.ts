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
  summary: 'virtual to physical translation, step by step',
  help: `NAME
  vtop - virtual to physical

SYNOPSIS
  vtop address ...

DESCRIPTION
  Translates kernel virtual addresses through the kernel page tables
  (init_top_pgt), showing each level's table, entry address and entry, the
  page size, and the physical address.
`,
  run(ctx, args) {
    if (args.length === 0) throw new CommandError('usage: vtop address ...');
    const mem = ctx.program.memory;
    args.forEach((arg, n) => {
      const v = parseAddress(ctx.program, arg);
      const w = mem.walk(v);
      if (n) ctx.out('\n');
      ctx.out(`VIRTUAL           PHYSICAL\n`);
      ctx.out(`${h(v).padEnd(16)}  ${w.paddr !== undefined ? h(w.paddr) : '(not mapped)'}\n\n`);
      const names: Record<string, string> = {
        PGD: mem.levels === 5 ? 'PGD' : 'PML4',
        P4D: 'P4D',
        PUD: 'PUD',
        PMD: 'PMD',
        PTE: 'PTE',
      };
      for (const s of w.steps) {
        ctx.out(`${names[s.level]!.padStart(6)}: ${h(s.entryAddr)} => ${h(s.entry)}\n`);
      }
      if (w.paddr !== undefined) {
        const last = w.steps[w.steps.length - 1]!.entry;
        const flags = FLAG_NAMES.filter(([bit]) => (last & bit) !== 0n).map(([, name]) => name);
        const size = w.pageSize === 1 << 30 ? '1GB' : w.pageSize === 1 << 21 ? '2MB' : '4KB';
        ctx.out(`  PAGE: ${h(w.paddr & ~(BigInt(w.pageSize!) - 1n))}  (${size})\n\n`);
        ctx.out(
          `${'PTE'.padStart(10)}${' '.repeat(9)}PHYSICAL  FLAGS\n${h(last).padStart(16)}  ${h(w.paddr & ~(BigInt(w.pageSize!) - 1n)).padEnd(8)}  (${flags.join('|')})\n`,
        );
      }
    });
  },
};
