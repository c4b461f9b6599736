import { perCpuAddress } from '../helpers/percpu.js';
import { CommandError, LookupError } from '../program/index.js';
import { Obj, offsetOf, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import type { CType } from '../symbols/dwarf/types.js';
import { parseAddress } from './address.js';
import { decl, definitionModel, renderValue, definitionText as typeDefinitionText, valueTree } from './lib/c-format.js';
import { evaluate } from './lib/expr.js';
import { inputState } from './lib/input.js';
import type { TypeModel, Value } from './lib/value.js';
import type { Command, CommandContext } from './registry.js';
import type { Hex } from './result.js';

/** The struct or union type a crash-style name designates (`task_struct`, `struct task_struct`). */
export function aggregateType(prog: Program, kind: 'struct' | 'union', name: string): CType {
  const bare = name.replace(/^(struct|union)\s+/, '');
  const t = prog.debug.findType(`${kind} ${bare}`);
  if (t) return t;
  // crash also accepts a typedef of a struct (e.g. spinlock_t).
  const td = prog.debug.findType(bare);
  if (td && strip(td).kind === kind) return strip(td);
  throw new CommandError(`invalid data structure reference: ${bare}`);
}

/** An address argument: as rd and dis take it (hex or symbol), or an expression; `:cpu` adds that CPU's per-cpu offset. */
function structAddress(prog: Program, arg: string): bigint {
  const m = /^(.*):(\d+)$/.exec(arg);
  const base = m ? m[1]! : arg;
  let a: bigint;
  if (/^(0x)?[0-9a-f]+$/i.test(base) || prog.symbolAddress(base) !== undefined) a = parseAddress(prog, base);
  else {
    const o = evaluate(prog, base);
    a = strip(o.type).kind === 'pointer' || o.address === undefined ? o.value() : o.address;
  }
  return m ? perCpuAddress(prog, a, Number(m[2])) : a;
}

/** A member named on the command line (`struct NAME.member`): where it is, its type and declaration. */
export interface StructMemberOffset {
  /** The member path as given (`se.vruntime`). */
  path: string;
  offset: number;
  type: string;
  /** As gdb declares it: `struct list_head tasks`. */
  declaration: string;
  bitSize?: number;
}

/** The contents of one struct at an address: the whole value tree, or the members named. */
export interface StructBlock {
  address: Hex;
  value?: Value;
  members?: { path: string; type: string; value: Value; depth: number }[];
}

/**
 * struct / union / `*`: with no address the type's definition (`-o`: with the offset column) or the members
 * named; with an address the contents of each struct read (count of them).
 */
export interface StructResult {
  kind: 'struct' | 'union';
  name?: string;
  /** The type's definition (no address, no members named). */
  definition?: TypeModel;
  /** `-o`: the definition shows each member's offset. */
  offsets?: boolean;
  /** The members named, with no address. */
  members?: StructMemberOffset[];
  /** The integer radix of the text view (`-x`, `-d`). */
  radix?: 10 | 16;
  blocks?: StructBlock[];
}

function runAggregate(kind: 'struct' | 'union', ctx: CommandContext, args: string[]): StructResult | undefined {
  const prog = ctx.program;
  let offsets = false;
  let radix: 10 | 16 = inputState(prog).radix;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-o') offsets = true;
    else if (a === '-x') radix = 16;
    else if (a === '-d') radix = 10;
    else if (a === '-c') rest.push(args[++i] ?? '');
    else if (/^-\d+$/.test(a) && rest.length >= 2) rest.push(a);
    else if (a.startsWith('-') && !/^-\d+$/.test(a)) throw new CommandError(`unsupported option ${a}`);
    else rest.push(a);
  }
  const spec = rest[0];
  if (!spec)
    throw new CommandError(`usage: ${kind} ${kind}_name[.member[,member]] [-o] [-x|-d] [address|symbol][:cpu] [count]`);
  const dot = spec.indexOf('.');
  const name = dot < 0 ? spec : spec.slice(0, dot);
  const members =
    dot < 0
      ? []
      : spec
          .slice(dot + 1)
          .split(',')
          .filter(Boolean);
  const t = aggregateType(prog, kind, name);
  const s = strip(t) as Extract<CType, { kind: 'struct' | 'union' }>;
  if (members.length > 1 && offsets) throw new CommandError('-o option not valid with multiple member format');
  const addrArg = rest[1];
  if (addrArg === undefined) {
    if (members.length === 0) return { kind, name: s.name, definition: definitionModel(t), offsets };
    return {
      kind,
      name: s.name,
      members: members.map((m): StructMemberOffset => {
        const r = resolveMember(t, m);
        return {
          path: m,
          offset: r.offset,
          type: decl(r.type, ''),
          declaration: decl(r.type, m.split('.').pop()!),
          bitSize: r.bitSize,
        };
      }),
    };
  }
  const count = rest[2] !== undefined ? Number(rest[2]) : 1;
  if (!Number.isInteger(count) || count === 0) throw new CommandError(`invalid count: ${rest[2]}`);
  let addr = structAddress(prog, addrArg);
  const step = BigInt(s.size) * (count < 0 ? -1n : 1n);
  // A JSON result holds every block: its count is bounded by what the blocks may take. A text session's output
  // streams (each block written as it is read, none kept), so its count is the user's.
  const total = Math.abs(count) * Math.max(1, members.length ? members.length * 64 : s.size);
  if (ctx.format === 'json' && total > MAX_JSON_BYTES)
    throw new CommandError(
      `${kind}: a count of ${Math.abs(count)} is too large for a JSON result (at most ${Math.floor(MAX_JSON_BYTES / Math.max(1, members.length ? members.length * 64 : s.size))} of ${kind} ${s.name}); in text output it streams`,
    );
  const stream = ctx.format === 'text' && Math.abs(count) > 1 ? ctx : undefined;
  const blocks: StructBlock[] = [];
  let pending = '';
  for (let n = 0; n < Math.abs(count); n++, addr += step) {
    const o = Obj.at(prog, t, addr, `${kind} ${s.name}`);
    let block: StructBlock;
    if (members.length === 0) block = { address: o.address!, value: valueTree(o) };
    else
      block = {
        address: o.address!,
        members: members.map((m) => {
          const r = resolveMember(t, m);
          // crash indents a member by how deep it sits in anonymous structs and unions.
          const depth = 1 + anonDepth(t, m.split(/[.[]/)[0]!);
          return { path: m, type: decl(r.type, ''), value: valueTree(o.member(m)), depth };
        }),
      };
    if (!stream) {
      blocks.push(block);
      continue;
    }
    pending += (n > 0 && block.value ? '\n' : '') + blockText(kind, s.name, block, { radix });
    if (pending.length > 1 << 16) {
      stream.out(pending);
      pending = '';
    }
  }
  if (stream) {
    stream.out(pending);
    return undefined;
  }
  return { kind, name: s.name, radix, blocks };
}

/** The most a JSON struct result may hold (a count's blocks, estimated from the type's size). */
const MAX_JSON_BYTES = 64 << 20;

/** One block's text: the whole struct as gdb prints it, or the members named, one a line. */
function blockText(kind: string, name: string | undefined, b: StructBlock, opts: { radix?: 10 | 16 }): string {
  if (b.value) return `${kind} ${name ?? ''} ${renderValue(b.value, opts)}\n`;
  let text = '';
  for (const m of b.members ?? [])
    text += `${'  '.repeat(m.depth)}${m.path} = ${renderValue(m.value, opts, m.depth)},\n`;
  return text;
}

function structText(r: StructResult, ctx: CommandContext): void {
  if (r.definition) {
    ctx.out(typeDefinitionText(r.definition, { offsets: r.offsets }));
    return;
  }
  if (r.members) {
    let text = `${r.kind} ${r.name ?? ''} {\n`;
    for (const m of r.members)
      text += `  [${m.offset}] ${m.declaration}${m.bitSize !== undefined ? ` : ${m.bitSize}` : ''};\n`;
    ctx.out(`${text}}\n`);
    return;
  }
  const opts = { radix: r.radix };
  const blocks = (r.blocks ?? []).map((b) => blockText(r.kind, r.name, b, opts));
  ctx.out(blocks.join(r.blocks?.[0]?.value ? '\n' : ''));
}

/** How many anonymous struct/union levels a top-level member name is nested in. */
function anonDepth(t: CType, name: string): number {
  const s = strip(t);
  if (s.kind !== 'struct' && s.kind !== 'union') return 0;
  if (s.members.some((m) => m.name === name)) return 0;
  for (const m of s.members) {
    if (m.name) continue;
    const inner = strip(m.type);
    if ((inner.kind === 'struct' || inner.kind === 'union') && findIn(inner, name)) return 1 + anonDepth(inner, name);
  }
  return 0;
}

function findIn(t: CType, name: string): boolean {
  const s = strip(t);
  if (s.kind !== 'struct' && s.kind !== 'union') return false;
  return s.members.some((m) => m.name === name || (!m.name && findIn(m.type, name)));
}

function resolveMember(t: CType, path: string): { offset: number; type: CType; bitSize?: number } {
  try {
    const r = offsetOf(t, path);
    return { offset: r.offset, type: r.type, bitSize: r.member?.bitSize };
  } catch (e) {
    if (e instanceof LookupError) throw new CommandError(`invalid data structure member reference: ${path}`);
    throw e;
  }
}

const HELP = (kind: string): string => `NAME
  ${kind} - ${kind} contents

SYNOPSIS
  ${kind} ${kind}_name[.member[,member]] [-o] [-x|-d] [address | symbol][:cpu] [count]

DESCRIPTION
  Without an address, shows the ${kind}'s definition from the vmlinux's debug
  info (with -o, each member's offset), as crash does; with .member, just that
  member and its offset. With an address (or a symbol; :cpu adds a CPU's
  per-cpu offset), shows the ${kind}'s contents there as gdb prints them.

    -o     show member offsets
    -x     integers in hexadecimal
    -d     integers in decimal (the default)
    count  show this many consecutive ${kind}s (negative: backwards)

EXAMPLES
  ${kind} -o ${kind === 'struct' ? 'task_struct' : 'thread_union'}
  ${kind === 'struct' ? 'struct task_struct.pid,comm ffff8f52011fe000\n  struct rq runqueues:1' : 'union rcu_special ffff8f52011fe7f8'}
`;

export const struct: Command<StructResult> = {
  resultType: 'StructResult',
  name: 'struct',
  summary: 'structure contents',
  help: HELP('struct'),
  run: (ctx, args) => runAggregate('struct', ctx, args),
  text: structText,
};

export const union: Command<StructResult> = {
  resultType: 'StructResult',
  name: 'union',
  summary: 'union contents',
  help: HELP('union'),
  run: (ctx, args) => runAggregate('union', ctx, args),
  text: structText,
};

/** crash's `*` command: `*list_head ADDR` is `struct list_head ADDR` (or union). */
export const pointerTo: Command<StructResult> = {
  resultType: 'StructResult',
  name: '*',
  summary: 'pointer-to: struct or union contents (*NAME ADDR)',
  help: `NAME
  * - pointer-to

SYNOPSIS
  *name[.member[,member]] [-o] [-x|-d] [address | symbol][:cpu] [count]

DESCRIPTION
  Shorthand for struct or union: whichever of the two the name is.
`,
  run(ctx, args) {
    const [first, ...rest] = args;
    if (!first) throw new CommandError('usage: *name [address]');
    const bare = first.split('.')[0]!;
    const kind = ctx.program.debug.findType(`struct ${bare}`) ? 'struct' : 'union';
    return runAggregate(kind, ctx, [first, ...rest]);
  },
  text: structText,
};
