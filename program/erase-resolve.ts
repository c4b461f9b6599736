/**
 * --config's erase commands turned into regions of kernel memory, with the vmlinux's DWARF and symbols, as
 * makedumpfile's erase_info.c resolves them (resolve_config_entry, get_config_symbol_addr/_size):
 *  - a symbol's address from the vmlinux's symbol table moved by the dump's KASLR offset, its type from DWARF;
 *  - a type is followed to its end as makedumpfile's get_dwarf_base_type() does (through typedefs, qualifiers,
 *    arrays and pointers, noting which were met): the size is that end type's (a struct's, a base type's);
 *  - `a.b`: when `a` is a pointer (not an array) the member is found where it points, else inside `a`;
 *  - the last part's size: an array's length (its first dimension) times its element (or a pointer), a `char *`'s
 *    string length (up to 1024), a `void *`'s nothing (give `size` or `nullify`), else its type's size;
 *  - `size N[K|M]`, or `size EXPR` (an integer of 1, 2, 4 or 8 bytes read from the dump);
 *  - `nullify`: the pointer itself is zeroed (pointer-size bytes at its address).
 * Module sections need the module's debug info, which is not read here: they are skipped with a warning, as
 * makedumpfile skips a module whose debuginfo it cannot find. A command that does not resolve is reported and the
 * others go on (as makedumpfile). Loops (`for ... endfor`) are resolved for arrays and `via` lists; `within` lists
 * (list_head) too.
 */
import {
  type ConfigEntry,
  type EraseCommand,
  type EraseTarget,
  parseEraseConfig,
} from '../core/filter/erase-config.js';
import type { DebugInfo } from '../symbols/dwarf/debug-info.js';
import type { CType, Member } from '../symbols/dwarf/types.js';
import type { SymbolTable } from '../symbols/symtab.js';

const TYPE_ARRAY = 1;
const TYPE_PTR = 2;
const TYPE_STRUCT = 4;
const TYPE_BASE = 8;
const BUFSIZE = 1024;
const MAX_LOOP = 1 << 20;

/** The end of a type chain, as makedumpfile's get_dwarf_base_type() reports it. */
interface BaseType {
  name: string | undefined;
  size: number;
  flags: number;
  /** The struct or union met at the end (for member lookups). */
  container?: CType;
}

function baseType(t: CType): BaseType {
  let flags = 0;
  let cur: CType = t;
  for (let depth = 0; depth < 64; depth++) {
    switch (cur.kind) {
      case 'typedef':
      case 'qualified':
        cur = cur.target;
        continue;
      case 'array':
        flags |= TYPE_ARRAY;
        cur = cur.element;
        continue;
      case 'pointer':
        flags |= TYPE_PTR;
        if (cur.target.kind === 'void') {
          // the pointer DIE has no DW_AT_type: it is the end, unnamed ("void" when only a pointer was met)
          return { name: flags === TYPE_PTR ? 'void' : undefined, size: cur.size, flags };
        }
        cur = cur.target;
        continue;
      case 'function':
        if (cur.ret.kind === 'void') return { name: flags === TYPE_PTR ? 'void' : undefined, size: -1, flags };
        cur = cur.ret;
        continue;
      case 'struct':
        return { name: cur.name, size: cur.size, flags: flags | TYPE_STRUCT, container: cur };
      case 'union':
        return { name: cur.name, size: cur.size, flags, container: cur };
      case 'enum':
        return { name: cur.name, size: cur.size, flags };
      case 'base':
        return { name: cur.name, size: cur.size, flags: flags | TYPE_BASE };
      case 'void':
        return { name: flags === TYPE_PTR ? 'void' : undefined, size: -1, flags };
    }
  }
  return { name: undefined, size: -1, flags };
}

/** makedumpfile's get_data_array_length(): the first dimension, through one const; 0 when not an array. */
function arrayLength(t: CType): number {
  let cur = t;
  if (cur.kind === 'qualified' && cur.qualifier === 'const') cur = cur.target;
  if (cur.kind !== 'array') return 0;
  return cur.counts[0] ?? 0;
}

/** makedumpfile's search_member(): members in order, descending into struct/union-typed members. */
function searchMember(t: CType, name: string): { offset: number; member: Member } | undefined {
  if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
  for (const m of t.members) {
    if (m.name === name) return { offset: t.kind === 'union' ? 0 : m.offset, member: m };
    if (m.type.kind === 'struct' || m.type.kind === 'union') {
      const inner = searchMember(m.type, name);
      if (inner) return { offset: m.offset + inner.offset, member: inner.member };
    }
  }
  return undefined;
}

/** A resolved part of an expression: where it is, where its data is (a pointer's value), its end type and size. */
interface Part {
  at: bigint;
  vaddr: bigint;
  type: BaseType;
  size: number;
  arrayLen: number;
}

export interface ResolveContext {
  debug: DebugInfo;
  symbols: SymbolTable;
  /** Read kernel virtual memory (throws when it cannot). */
  read: (va: bigint, len: number) => Uint8Array;
  warn: (m: string) => void;
}

class Resolver {
  constructor(private readonly c: ResolveContext) {}

  private readPtr(va: bigint): bigint {
    try {
      return Buffer.from(this.c.read(va, 8)).readBigUInt64LE(0);
    } catch {
      this.c.warn("Can't read pointer value");
      return 0n;
    }
  }

  private strlen(va: bigint): number {
    try {
      const b = this.c.read(va, BUFSIZE);
      const z = b.indexOf(0);
      return z < 0 ? BUFSIZE : z;
    } catch {
      return 0;
    }
  }

  private findStruct(name: string): CType | undefined {
    for (const s of [`struct ${name}`, `union ${name}`]) {
      const t = this.c.debug.findType(s);
      if (t && (t.kind === 'struct' || t.kind === 'union')) return t;
    }
    return undefined;
  }

  /**
   * One part of an expression: where it is (`at`), where its data is (`vaddr`: the pointer's value for a pointer),
   * its end type and size. `base` is undefined for the first part (a symbol).
   */
  private part(
    line: number,
    name: string,
    base: { vaddr: bigint; type: BaseType } | undefined,
    symbolType?: CType,
    symbolAt?: bigint,
  ): Part | undefined {
    let at: bigint;
    let ty: CType;
    if (!base) {
      at = symbolAt!;
      ty = symbolType!;
    } else {
      const st = base.type.name !== undefined ? this.findStruct(base.type.name) : undefined;
      const m = st ? searchMember(st, name) : undefined;
      if (!m) {
        this.c.warn(`Config error at ${line}: struct '${base.type.name}' has no member with name '${name}'.`);
        return undefined;
      }
      at = base.vaddr + BigInt(m.offset);
      ty = m.member.type;
    }
    const bt = baseType(ty);
    if (bt.name === undefined) {
      if (base) this.c.warn(`Config error at ${line}: struct '${base.type.name}' has no member with name '${name}'.`);
      return undefined;
    }
    const arrayLen = bt.flags & TYPE_ARRAY ? arrayLength(ty) : 0;
    let size = Math.max(0, bt.size);
    let vaddr = at;
    if ((bt.flags & (TYPE_ARRAY | TYPE_PTR)) === TYPE_PTR) {
      vaddr = this.readPtr(at);
      if (bt.name === 'void') size = 0;
    }
    if (bt.flags & TYPE_BASE && bt.flags & TYPE_PTR && !(bt.flags & TYPE_ARRAY) && bt.name === 'char') {
      size = this.strlen(vaddr);
    }
    return { at, vaddr, type: bt, size, arrayLen };
  }

  /** An expression's address and size (makedumpfile's get_config_symbol_addr / _size on a resolved chain). */
  expr(
    line: number,
    path: string[],
    nullify: boolean,
    start?: Part,
  ): { addr: bigint; size: number; leaf: Part; parts: Part[] } | undefined {
    let cur: Part | undefined;
    const parts: Part[] = [];
    let i = 0;
    if (start) {
      cur = start;
      i = 1;
    } else {
      const name = path[0]!;
      const sym = this.c.symbols.lookup(name);
      const v = this.c.debug.findVariable(name);
      if (!sym) {
        this.c.warn(`Config error at ${line}: Can't find symbol '${name}'.`);
        return undefined;
      }
      if (!v) return undefined;
      cur = this.part(line, name, undefined, v.type, sym.address);
      if (!cur) return undefined;
      i = 1;
    }
    parts.push(cur);
    for (; i < path.length; i++) {
      // a NULL pointer on the way: the address is 0 and the command does nothing (makedumpfile's quirk kept)
      if (!cur.vaddr) return { addr: 0n, size: 0, leaf: cur, parts };
      const next = this.part(line, path[i]!, { vaddr: cur.vaddr, type: cur.type });
      if (!next) return undefined;
      cur = next;
      parts.push(cur);
    }
    let addr: bigint;
    if (nullify) addr = cur.type.flags & TYPE_PTR ? cur.at : 0n;
    else addr = cur.vaddr;
    let size: number;
    if (cur.type.flags & TYPE_ARRAY) size = cur.arrayLen * (cur.type.flags & TYPE_PTR ? 8 : Math.max(0, cur.type.size));
    else size = cur.size;
    return { addr, size, leaf: cur, parts };
  }

  /** A `size EXPR` value: an integer of at most 8 bytes. */
  sizeValue(line: number, path: string[], start?: Part): number | undefined {
    const r = this.expr(line, path, false, start);
    if (!r) return undefined;
    const t = r.leaf.type;
    const n = Math.max(0, t.size);
    if ((t.flags & (TYPE_ARRAY | TYPE_BASE)) !== TYPE_BASE || n > 8 || n === 0) {
      this.c.warn(`Config error at ${line}: size symbol/member '${path[path.length - 1]}' is not of base type.`);
      return undefined;
    }
    try {
      const b = Buffer.from(this.c.read(r.leaf.vaddr, n));
      return n === 1
        ? b.readUInt8(0)
        : n === 2
          ? b.readUInt16LE(0)
          : n === 4
            ? b.readUInt32LE(0)
            : Number(b.readBigUInt64LE(0));
    } catch {
      this.c.warn("Can't read symbol/member data value");
      return undefined;
    }
  }

  /** One erase command (in a loop: `elem` is the current element). */
  target(cmd: EraseCommand, index: number, elem?: Part): EraseTarget | undefined {
    const r = this.expr(cmd.line, cmd.path, cmd.nullify, elem);
    if (!r?.addr) return undefined;
    let size: number | undefined;
    if (cmd.nullify) size = 8;
    else if (cmd.size && 'bytes' in cmd.size) size = cmd.size.bytes;
    else if (cmd.size) {
      const loopVar = elem !== undefined && cmd.size.expr[0] === cmd.path[0];
      size = this.sizeValue(cmd.line, cmd.size.expr, loopVar ? elem : undefined);
    } else size = r.size;
    if (!size || size <= 0) return undefined;
    return { vaddr: r.addr, size, nullify: cmd.nullify, command: index, text: cmd.text };
  }

  /**
   * The elements a loop walks (makedumpfile's get_next_list_entry): an array's (NULL pointers skipped), a `via`
   * chain's (until NULL or back at the first), or a list_head list's (the structs holding each node, until the
   * list's head).
   */
  elements(loop: Extract<ConfigEntry, { kind: 'for' }>['loop']): Part[] {
    const head = this.expr(loop.line, loop.list, false);
    if (!head) return [];
    const t = head.leaf.type;
    const out: Part[] = [];
    if (loop.within) {
      const st = this.findStruct(loop.within.struct);
      const m = st ? searchMember(st, loop.within.member ?? 'list') : undefined;
      if (!st || !m) {
        this.c.warn(`Config error at ${loop.line}: Can't find structure: ${loop.within.struct}.`);
        return [];
      }
      // the list's head: the last list_head itself in the expression (`modules`, or `modules` of `modules.next`)
      const lh = [...head.parts].reverse().find((p) => p.type.name === 'list_head' && !(p.type.flags & TYPE_PTR));
      if (!lh) return [];
      const headAddr = lh.at;
      // from `modules.next` the leaf already points at the first node; from `modules` its next does
      let p = head.leaf === lh ? this.readPtr(lh.at) : head.leaf.vaddr;
      const bt = baseType(st);
      for (let n = 0; p && p !== headAddr && n < MAX_LOOP; n++) {
        const obj = p - BigInt(m.offset);
        out.push({ at: 0n, vaddr: obj, type: bt, size: Math.max(0, bt.size), arrayLen: 0 });
        p = this.readPtr(p);
      }
      return out;
    }
    const elem = { ...t, flags: t.flags & ~TYPE_ARRAY };
    if (t.flags & TYPE_ARRAY) {
      const isPtr = (t.flags & TYPE_PTR) !== 0;
      const step = isPtr ? 8 : Math.max(0, t.size);
      const len = Math.min(head.leaf.arrayLen, MAX_LOOP);
      for (let i = 0; i < len; i++) {
        const at = head.leaf.vaddr + BigInt(i * step);
        if (!isPtr) {
          out.push({ at, vaddr: at, type: elem, size: Math.max(0, t.size), arrayLen: 0 });
          continue;
        }
        const vaddr = this.readPtr(at);
        if (!vaddr) continue;
        const size = t.name === 'char' ? this.strlen(vaddr) : Math.max(0, t.size);
        out.push({ at, vaddr, type: elem, size, arrayLen: 0 });
      }
      return out;
    }
    if (loop.via) {
      const st = t.name !== undefined ? this.findStruct(t.name) : undefined;
      const m = st ? searchMember(st, loop.via) : undefined;
      if (!st || !m) {
        this.c.warn(`Config error at ${loop.line}: struct '${t.name}' has no member with name '${loop.via}'.`);
        return [];
      }
      const first = head.leaf.vaddr;
      let at = head.leaf.at;
      let p = first;
      for (let n = 0; p && n < MAX_LOOP; n++) {
        out.push({ at, vaddr: p, type: elem, size: head.leaf.size, arrayLen: 0 });
        at = p + BigInt(m.offset);
        p = this.readPtr(at);
        if (p === first) break;
      }
    }
    return out;
  }
}

/**
 * The erase targets of a configuration: parse (ConfigError on bad syntax) and resolve. Commands of module sections
 * are skipped with a warning.
 */
export function resolveEraseConfig(text: string, c: ResolveContext): EraseTarget[] {
  const entries = parseEraseConfig(text);
  const r = new Resolver(c);
  const out: EraseTarget[] = [];
  const skipped = new Set<string>();
  let index = 0;
  for (const e of entries) {
    const module = e.kind === 'erase' ? e.cmd.module : e.loop.module;
    if (module !== 'vmlinux') {
      if (!skipped.has(module)) c.warn(`Skipping module section [${module}]: module debug info is not read.`);
      skipped.add(module);
      continue;
    }
    if (e.kind === 'erase') {
      const t = r.target(e.cmd, index++);
      if (t) out.push(t);
      continue;
    }
    const first = index;
    index += e.loop.body.length;
    for (const elem of r.elements(e.loop)) {
      e.loop.body.forEach((cmd, k) => {
        const t = r.target(cmd, first + k, elem);
        if (t) out.push(t);
      });
    }
  }
  return out;
}

/** tsmakedumpfile --config: the targets of a configuration file against a vmlinux (symbols moved by `kaslrOffset`). */
export async function eraseTargetsFromConfig(
  configPath: string,
  vmlinux: string,
  kaslrOffset: bigint,
  read: (va: bigint, len: number) => Uint8Array,
  warn: (m: string) => void,
): Promise<EraseTarget[]> {
  const { readFileSync } = await import('node:fs');
  let text: string;
  try {
    text = readFileSync(configPath, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'No such file or directory'
        : code === 'EACCES'
          ? 'Permission denied'
          : code === 'EISDIR'
            ? 'Is a directory'
            : (e as Error).message;
    throw new Error(`Can't open config file(${configPath}). ${why}`);
  }
  const { DebugInfo } = await import('../symbols/dwarf/debug-info.js');
  const { ElfFile } = await import('../symbols/elf.js');
  const { SymbolTable } = await import('../symbols/symtab.js');
  const debug = await DebugInfo.open(vmlinux);
  const elf = ElfFile.open(vmlinux);
  try {
    const symbols = SymbolTable.fromElf(elf, kaslrOffset);
    return resolveEraseConfig(text, { debug, symbols, read, warn });
  } finally {
    elf.close();
    debug.close();
  }
}
