import { CommandError } from '../program/index.js';
import { ptypeModel, ptypeModelText } from './lib/c-format.js';
import { evaluate } from './lib/expr.js';
import type { TypeModel } from './lib/value.js';
import type { Command } from './registry.js';

/** ptype: the type of a type name or an expression, resolved as gdb's ptype shows it. */
export interface PtypeResult {
  expression: string;
  type: TypeModel;
}

export const ptype: Command<PtypeResult> = {
  resultType: 'PtypeResult',
  name: 'ptype',
  summary: "gdb's ptype: the type of an expression or a type name",
  help: `NAME
  ptype - print the type of an expression or a type

SYNOPSIS
  ptype type-name | expression

DESCRIPTION
  As gdb's ptype: a struct, union or enum is shown with its definition, a
  typedef is resolved, an expression's type is shown.

EXAMPLES
  ptype struct list_head
  ptype init_task.pid
`,
  run(ctx, args): PtypeResult {
    const text = args.join(' ').trim();
    if (!text) throw new CommandError('usage: ptype type-name | expression');
    const d = ctx.program.debug;
    const t =
      d.findType(text) ?? (/^\w+$/.test(text) && !d.findVariable(text) ? d.findType(`struct ${text}`) : undefined);
    return { expression: text, type: ptypeModel(t ?? evaluate(ctx.program, text).type) };
  },
  text: (r, ctx) => ctx.out(ptypeModelText(r.type)),
};
