import { CommandError } from '../program/index.js';
import { strip } from '../program/object.js';
import { type CType, sizeOf } from '../symbols/dwarf/types.js';
import { decl, typeDefinition } from './lib/c-format.js';
import type { Command } from './registry.js';

/** `typedef struct spinlock {...} spinlock_t;`: crash expands the body of the struct a typedef names. */
function typedefText(t: Extract<CType, { kind: 'typedef' }>): string {
  // crash resolves a chain of typedefs to what the last one names: `typedef int pid_t;`.
  let target = t.target;
  while (target.kind === 'typedef') target = target.target;
  const s = strip(target);
  if ((s.kind === 'struct' || s.kind === 'union') && (target.kind === 'struct' || target.kind === 'union')) {
    const body = typeDefinition(s).split('\n');
    // Drop "SIZE: n" and the closing brace; close with the typedef's name.
    const end = body.lastIndexOf('}');
    return `typedef ${body.slice(0, end).join('\n')}\n} ${t.name};\nSIZE: ${sizeOf(t)}\n`;
  }
  return `typedef ${decl(target, t.name)};\nSIZE: ${sizeOf(t)}\n`;
}

export const whatis: Command = {
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
  run(ctx, args) {
    const name = args.join(' ').trim();
    if (!name) throw new CommandError('usage: whatis [struct|union|typedef|symbol]');
    const d = ctx.program.debug;
    if (/^(struct|union|enum) /.test(name)) {
      const t = d.findType(name);
      if (!t) throw new CommandError(`invalid data structure reference: ${name}`);
      ctx.out(typeDefinition(t));
      return;
    }
    const v = d.findVariable(name);
    if (v) {
      ctx.out(`${decl(v.type, name)};\n`);
      return;
    }
    const f = d.findFunction(name);
    if (f) {
      ctx.out(`${decl(f.type, name)};\n`);
      return;
    }
    for (const k of ['struct', 'union', 'enum']) {
      const t = d.findType(`${k} ${name}`);
      if (t) {
        ctx.out(typeDefinition(t));
        return;
      }
    }
    const t = d.findType(name);
    if (t?.kind === 'typedef') {
      ctx.out(typedefText(t));
      return;
    }
    if (t) {
      ctx.out(`${decl(t, '')};\nSIZE: ${sizeOf(t)}\n`);
      return;
    }
    const e = d.findEnumerator(name);
    if (e) {
      ctx.out(`${decl(e.type, '')} ${name} = ${e.value};\n`);
      return;
    }
    if (ctx.program.symbolAddress(name) !== undefined) {
      ctx.out(`${name}: symbol without debug info (type unknown)\n`);
      return;
    }
    throw new CommandError(`invalid expression or symbol: ${name}`);
  },
};
