import { CommandError } from '../program/index.js';
import { strip } from '../program/object.js';
import { type CType, sizeOf } from '../symbols/dwarf/types.js';
import { decl, definitionModel, definitionText } from './lib/c-format.js';
import type { TypeModel } from './lib/value.js';
import type { Command, CommandContext } from './registry.js';
import type { Hex } from './result.js';

/** whatis: what a name is, and its declaration or definition. */
export interface WhatisResult {
  name: string;
  form: 'type' | 'typedef' | 'variable' | 'function' | 'enumerator' | 'symbol';
  /** A declaration as gdb prints it: `struct task_struct init_task`, `typedef int pid_t`, `unsigned long`. */
  declaration?: string;
  /** The struct, union or enum shown with its body (a typedef's: the struct it names). */
  definition?: TypeModel;
  /** An enumerator's type as C spells it. */
  type?: string;
  /** The size of a type, in bytes. */
  size?: number;
  /** An enumerator's value. */
  value?: Hex;
  /** A variable's, function's or symbol's address. */
  address?: Hex;
}

/** `typedef struct spinlock {...} spinlock_t;`: crash expands the body of the struct a typedef names. */
function typedefResult(t: Extract<CType, { kind: 'typedef' }>): WhatisResult {
  // crash resolves a chain of typedefs to what the last one names: `typedef int pid_t;`.
  let target = t.target;
  while (target.kind === 'typedef') target = target.target;
  const s = strip(target);
  const r: WhatisResult = { name: t.name, form: 'typedef', size: sizeOf(t) };
  if ((s.kind === 'struct' || s.kind === 'union') && (target.kind === 'struct' || target.kind === 'union'))
    r.definition = definitionModel(s);
  else r.declaration = `typedef ${decl(target, t.name)}`;
  return r;
}

function whatisText(r: WhatisResult, ctx: CommandContext): void {
  if (r.form === 'typedef' && r.definition) {
    const body = definitionText(r.definition).split('\n');
    // Drop "SIZE: n" and the closing brace; close with the typedef's name.
    const end = body.lastIndexOf('}');
    ctx.out(`typedef ${body.slice(0, end).join('\n')}\n} ${r.name};\nSIZE: ${r.size}\n`);
  } else if (r.definition) ctx.out(definitionText(r.definition));
  else if (r.form === 'enumerator') ctx.out(`${r.type} ${r.name} = ${r.value};\n`);
  else if (r.form === 'symbol') ctx.out(`${r.name}: symbol without debug info (type unknown)\n`);
  else ctx.out(`${r.declaration};\n${r.size !== undefined ? `SIZE: ${r.size}\n` : ''}`);
}

export const whatis: Command<WhatisResult> = {
  resultType: 'WhatisResult',
  name: 'whatis',
  summary: 'the type of a symbol, or the definition of a type',
  help: `NAME
  whatis - search symbol table for data or type information

SYNOPSIS
  whatis [struct | union | typedef | symbol]

DESCRIPTION
  For a variable or function, its declaration; for a struct, union or enum
  name (with or without the keyword), its definition and size; for a typedef,
  what it stands for. Needs only the vmlinux (tscrash VMLINUX -c 'whatis x').

EXAMPLES
  whatis task_struct
  whatis init_task
  whatis panic
  whatis spinlock_t
`,
  run(ctx, args): WhatisResult {
    const name = args.join(' ').trim();
    if (!name) throw new CommandError('usage: whatis [struct|union|typedef|symbol]');
    const prog = ctx.program;
    const d = prog.debug;
    if (/^(struct|union|enum) /.test(name)) {
      const t = d.findType(name);
      if (!t) throw new CommandError(`invalid data structure reference: ${name}`);
      return { name, form: 'type', definition: definitionModel(t) };
    }
    const v = d.findVariable(name);
    if (v) return { name, form: 'variable', declaration: decl(v.type, name), address: prog.symbolAddress(name) };
    const f = d.findFunction(name);
    if (f) return { name, form: 'function', declaration: decl(f.type, name), address: prog.symbolAddress(name) };
    for (const k of ['struct', 'union', 'enum']) {
      const t = d.findType(`${k} ${name}`);
      if (t) return { name, form: 'type', definition: definitionModel(t) };
    }
    const t = d.findType(name);
    if (t?.kind === 'typedef') return typedefResult(t);
    if (t) return { name, form: 'type', declaration: decl(t, ''), size: sizeOf(t) };
    const e = d.findEnumerator(name);
    if (e) return { name, form: 'enumerator', type: decl(e.type, ''), value: BigInt(e.value) };
    const address = prog.symbolAddress(name);
    if (address !== undefined) return { name, form: 'symbol', address };
    throw new CommandError(`invalid expression or symbol: ${name}`);
  },
  text: whatisText,
};
