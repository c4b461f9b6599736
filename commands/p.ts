import { onlineCpus, perCpuAddress } from '../helpers/percpu.js';
import { CommandError } from '../program/index.js';
import { Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { decl, renderValue, valueTree } from './lib/c-format.js';
import { evaluate } from './lib/expr.js';
import { inputState } from './lib/input.js';
import type { Value } from './lib/value.js';
import type { Command } from './registry.js';

const counters = new WeakMap<Program, number>();

/** gdb's value history number ($1, $2, ...), one sequence per session. */
function nextHistory(prog: Program): number {
  const n = (counters.get(prog) ?? 0) + 1;
  counters.set(prog, n);
  return n;
}

/** One value printed: its gdb history number, its type, its value tree. */
export interface PValue {
  /** What gdb names before the value: the symbol (`jiffies = $1 = ...`), or `per_cpu(runqueues, 1)`. */
  label?: string;
  /** The CPU of a per-cpu instance. */
  cpu?: number;
  /** gdb's value history number: `$N`. */
  history: number;
  /** The value's type as C spells it. */
  type: string;
  /** The kind of the type (typedefs and qualifiers stripped): `pointer`, `struct`, `base`, ... */
  typeKind: string;
  /** The type gdb shows before a pointer (none for a char pointer). */
  cast?: string;
  value: Value;
}

/** p: the expression's value (a per-cpu variable's instances: one a CPU). */
export interface PResult {
  expression: string;
  /** The integer format of the text view: p/x (hex) or p/d (decimal, the default). */
  format: 'x' | 'd';
  values: PValue[];
}

function pValue(prog: Program, o: Obj, label?: string): PValue {
  const s = strip(o.type);
  const r: PValue = {
    label,
    history: nextHistory(prog),
    type: decl(o.type, ''),
    typeKind: s.kind,
    value: valueTree(o),
  };
  if (s.kind === 'pointer') {
    const target = strip(s.target);
    if (!(target.kind === 'base' && /char$/.test(target.name))) r.cast = r.type;
  }
  return r;
}

/** gdb's top-level print: pointers show their type, functions their signature. */
function topText(v: PValue, radix: 10 | 16): string {
  const text = renderValue(v.value, { radix });
  if (v.cast !== undefined) return `(${v.cast}) ${text}`;
  if (v.typeKind === 'function') return `\n ${text}`;
  return text;
}

export const p: Command<PResult> = {
  resultType: 'PResult',
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
  run(ctx, args): PResult {
    const prog = ctx.program;
    let format: 'x' | 'd' = inputState(prog).radix === 16 ? 'x' : 'd';
    let words = args;
    if (words[0] === '-x' || words[0] === '-d') {
      format = words[0] === '-x' ? 'x' : 'd';
      words = words.slice(1);
    }
    let text = words.join(' ').trim();
    const fmt = /^\/([xdu])\s*/.exec(text);
    if (fmt) {
      format = fmt[1] === 'x' ? 'x' : 'd';
      text = text.slice(fmt[0].length);
    }
    if (!text) throw new CommandError('usage: p expression');
    const pc = /^([A-Za-z_]\w*):(\d+|a|all)$/.exec(text);
    if (pc) {
      const name = pc[1]!;
      const v = evaluate(prog, name);
      const cpus = pc[2] === 'a' || pc[2] === 'all' ? onlineCpus(prog) : [Number(pc[2])];
      const values = cpus.map((cpu) => {
        const o = Obj.at(prog, v.type, perCpuAddress(prog, v.address as bigint, cpu), name);
        return { ...pValue(prog, o, `per_cpu(${name}, ${cpu})`), cpu };
      });
      return { expression: text, format, values };
    }
    const o = evaluate(prog, text);
    const isSymbol = /^[A-Za-z_]\w*$/.test(text) && prog.symbolAddress(text) !== undefined;
    return { expression: text, format, values: [pValue(prog, o, isSymbol ? text : undefined)] };
  },
  text(r, ctx) {
    const radix = r.format === 'x' ? 16 : 10;
    let out = '';
    for (const v of r.values)
      out += `${v.label !== undefined ? `${v.label} = ` : ''}$${v.history} = ${topText(v, radix)}\n`;
    ctx.out(out);
  },
};
