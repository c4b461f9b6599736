/**
 * Walk a list_head from a variable: each entry's address and the members asked for.
 *
 *   tscrash run plugins/examples/list-walk.ts VMLINUX VMCORE -- HEAD TYPE MEMBER [FIELD...]
 *   e.g.  -- init_task.tasks 'struct task_struct' tasks pid comm
 *         -- modules 'struct module' list name
 *
 * HEAD is a variable and an optional member path (init_task.tasks); TYPE the entries' type, MEMBER their
 * list_head. A char array or char * FIELD prints as a string, any other as its value.
 */
import type * as Tscrash from '../api.js';

function show(tscrash: typeof Tscrash, o: Tscrash.Obj): string {
  const t = tscrash.strip(o.type); // typedefs and qualifiers
  const isChar = (x: Tscrash.CType): boolean => {
    const b = tscrash.strip(x);
    return b.kind === 'base' && /char$/.test(b.name);
  };
  if ((t.kind === 'array' || t.kind === 'pointer') && isChar(t.kind === 'array' ? t.element : t.target)) {
    if (t.kind === 'pointer' && o.isNull()) return '(null)';
    return JSON.stringify(o.string());
  }
  if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'array') return `(${o.size} bytes)`;
  return String(o.value());
}

export default async function listWalk(
  prog: Tscrash.Program,
  args: string[],
  tscrash: typeof Tscrash,
): Promise<number> {
  const [headExpr, type, member, ...fields] = args;
  if (!headExpr || !type || !member) {
    console.error(
      'usage: list-walk HEAD TYPE MEMBER [FIELD...]   e.g. init_task.tasks "struct task_struct" tasks pid comm',
    );
    return 2;
  }
  const [variable, ...path] = headExpr.split('.');
  let head = prog.variable(variable!);
  if (path.length) head = head.member(path.join('.'));
  let n = 0;
  for (const e of tscrash.helpers.listForEach(head, type, member)) {
    const values = fields.map((f) => `${f}=${show(tscrash, e.member(f))}`);
    console.log([`0x${e.address!.toString(16)}`, ...values].join(' '));
    n++;
  }
  console.log(`${n} entries`);
  return 0;
}
