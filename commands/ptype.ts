import { CommandError } from '../program/index.js';
import { ptypeText } from './lib/c-format.js';
import { evaluate } from './lib/expr.js';
import type { Command } from './registry.js';

export const ptype: Command = {
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
  run(ctx, args) {
    const text = args.join(' ').trim();
    if (!text) throw new CommandError('usage: ptype type-name | expression');
    const d = ctx.program.debug;
    const t =
      d.findType(text) ?? (/^\w+$/.test(text) && !d.findVariable(text) ? d.findType(`struct ${text}`) : undefined);
    if (t) {
      ctx.out(ptypeText(t));
      return;
    }
    ctx.out(ptypeText(evaluate(ctx.program, text).type));
  },
};
