/** Walk a C type graph (DWARF's or BTF's CType) as a printer would, each node once, at most `limit` nodes. */
import type { CType } from '../../symbols/dwarf/types.js';

export function walkType(t: CType, limit = 20_000): number {
  const seen = new Set<CType>();
  const stack: CType[] = [t];
  while (stack.length && seen.size < limit) {
    const c = stack.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    switch (c.kind) {
      case 'pointer':
      case 'typedef':
      case 'qualified':
        stack.push(c.target);
        break;
      case 'struct':
      case 'union':
        for (const m of c.members) stack.push(m.type);
        break;
      case 'array':
        stack.push(c.element);
        break;
      case 'function':
        stack.push(c.ret, ...c.params);
        break;
      default:
        break;
    }
  }
  return seen.size;
}
