import { onlineCpus, perCpuAddress } from '../helpers/percpu.js';
import { CommandError } from '../program/index.js';
import { Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { decl, valueText } from './lib/c-format.js';
import { evaluate } from './lib/expr.js';
import type { Command } from './registry.js';

const counters = new WeakMap<Program, number>();

/** gdb's value history number ($1, $2, ...), one sequence per session. */
function nextHistory(prog: Program): number {
  const n = (counters.get(prog) ?? 0) + 1;
  counters.set(prog, n);
  return n;
}

/** gdb's top-level print: pointers show their type, functions their signature. */
function topText(o: Obj, radix: 10 | 16): string {
  const s = strip(o.type);
  if (s.kind === 'pointer') {
    const target = strip(s.target);
    const text = valueText(o, { radix });
    if (target.kind === 'base' && /char$/.test(target.name)) return text;
    return `(${decl(o.type, '')}) ${text}`;
  }
  if (s.kind === 'function') return `\n ${valueText(o, { radix })}`;
  return valueText(o, { radix });
}

export const p: Command = {
  name: 'p',
  aliases: ['print'],
  summary: 'print the value of an expression',
  help: `NAME
  p - print the value of an expression

SYNOPSIS
  p[/x|/d] expression
  p[/x|/d] per-cpu-variable:cpu | per-cpu-variable:a

DESCRIPTION
  Evaluates a C expression over the dump, as crash (through gdb) does:
  variables, members (. and ->), array indices, & and *, casts, sizeof.
  A per-cpu variable followed by :N shows CPU N's instance, :a (or :all)
  every online CPU's.

EXAMPLES
  p jiffies
  p init_task.comm
  p/x init_task.flags
  p &init_task
  p ((struct task_struct *)0xffff8f52011fe000)->pid
  p runqueues:1
  p sizeof(struct page)
`,
  run(ctx, args) {
    const prog = ctx.program;
    let radix: 10 | 16 = 10;
    let words = args;
    if (words[0] === '-x' || words[0] === '-d') {
      radix = words[0] === '-x' ? 16 : 10;
      words = words.slice(1);
    }
    let text = words.join(' ').trim();
    const fmt = /^\/([xdu])\s*/.exec(text);
    if (fmt) {
      radix = fmt[1] === 'x' ? 16 : 10;
      text = text.slice(fmt[0].length);
    }
    if (!text) throw new CommandError('usage: p expression');
    const pc = /^([A-Za-z_]\w*):(\d+|a|all)$/.exec(text);
    if (pc) {
      const name = pc[1]!;
      const v = evaluate(prog, name);
      const cpus = pc[2] === 'a' || pc[2] === 'all' ? onlineCpus(prog) : [Number(pc[2])];
      let out = '';
      for (const cpu of cpus) {
        const o = Obj.at(prog, v.type, perCpuAddress(prog, v.address as bigint, cpu), name);
        out += `per_cpu(${name}, ${cpu}) = $${nextHistory(prog)} = ${topText(o, radix)}\n`;
      }
      ctx.out(out);
      return;
    }
    const o = evaluate(prog, text);
    const isSymbol = /^[A-Za-z_]\w*$/.test(text) && prog.symbolAddress(text) !== undefined;
    ctx.out(`${isSymbol ? `${text} = ` : ''}$${nextHistory(prog)} = ${topText(o, radix)}\n`);
  },
};
