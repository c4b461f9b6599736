/**
 * Kernel linked structures: list_head, hlist, rbtree. Walks are bounded and
 * detect cycles, so a corrupt list ends with an error naming where it broke
 * instead of looping.
 */
import { TscrashError } from '../core/errors.js';
import type { Obj } from '../program/object.js';
import { strip } from '../program/object.js';

/** Upper bound on the entries of one list: far above any real kernel list, low enough to end a corrupt walk. */
export const MAX_LIST_ENTRIES = 10_000_000;

function headAddress(head: Obj): bigint {
  return strip(head.type).kind === 'pointer' ? head.value() : (head.address as bigint);
}

/** The addresses of the list_head nodes of a list (the head itself excluded). */
export function* listForEach(head: Obj): Generator<bigint> {
  const prog = head.prog;
  const h = headAddress(head);
  const seen = new Set<bigint>();
  let pos = prog.memory.readU64(h, `${head.expr || 'list head'}.next`);
  while (pos !== h) {
    if (pos === 0n) throw new TscrashError(`${head.expr || 'list'}: NULL next pointer after ${seen.size} entries`);
    if (seen.has(pos) || seen.size >= MAX_LIST_ENTRIES) {
      throw new TscrashError(
        `${head.expr || 'list'}: the list loops at 0x${pos.toString(16)} without returning to its head`,
      );
    }
    seen.add(pos);
    yield pos;
    pos = prog.memory.readU64(pos, `list entry 0x${pos.toString(16)}.next`);
  }
}

/** The entries (of `type`, linked through `member`) of a list. */
export function* listForEachEntry(head: Obj, type: string, member: string): Generator<Obj> {
  const prog = head.prog;
  const t = prog.type(type);
  const off = BigInt(prog.offsetOf(t, member));
  for (const node of listForEach(head)) yield prog.object(t, node - off);
}

/** Whether a list_head has no entries. */
export function listEmpty(head: Obj): boolean {
  const h = headAddress(head);
  return head.prog.memory.readU64(h, 'list head') === h;
}

/** Nodes of an hlist (hlist_head.first → hlist_node.next). */
export function* hlistForEach(head: Obj): Generator<bigint> {
  const prog = head.prog;
  const h = headAddress(head);
  const seen = new Set<bigint>();
  let pos = prog.memory.readU64(h, `${head.expr || 'hlist head'}.first`);
  while (pos !== 0n) {
    if (seen.has(pos) || seen.size >= MAX_LIST_ENTRIES)
      throw new TscrashError(`${head.expr || 'hlist'}: loops at 0x${pos.toString(16)}`);
    seen.add(pos);
    yield pos;
    pos = prog.memory.readU64(pos, `hlist node 0x${pos.toString(16)}.next`);
  }
}

/** The entries (of `type`, linked through the hlist_node `member`) of an hlist. */
export function* hlistForEachEntry(head: Obj, type: string, member: string): Generator<Obj> {
  const prog = head.prog;
  const t = prog.type(type);
  const off = BigInt(prog.offsetOf(t, member));
  for (const node of hlistForEach(head)) yield prog.object(t, node - off);
}

/** rb_node addresses of an rb_root (or rb_root_cached), in order. */
export function* rbInorder(root: Obj): Generator<bigint> {
  const prog = root.prog;
  let r = root;
  if (strip(r.type).kind === 'pointer') r = r.deref();
  if (r.hasMember('rb_root')) r = r.member('rb_root');
  const mem = prog.memory;
  const rbNode = prog.type('struct rb_node');
  const oParent = BigInt(prog.offsetOf(rbNode, '__rb_parent_color'));
  const oLeft = BigInt(prog.offsetOf(rbNode, 'rb_left'));
  const oRight = BigInt(prog.offsetOf(rbNode, 'rb_right'));
  const parent = (n: bigint): bigint => mem.readU64(n + oParent, 'rb_node parent') & ~3n;
  let n = mem.readU64(r.address as bigint, 'rb_root.rb_node');
  if (n === 0n) return;
  let steps = 0;
  const guard = (): void => {
    if (++steps > 4 * MAX_LIST_ENTRIES) throw new TscrashError(`${root.expr || 'rbtree'}: the tree does not end`);
  };
  while (true) {
    const l = mem.readU64(n + oLeft, 'rb_node.rb_left');
    if (l === 0n) break;
    n = l;
    guard();
  }
  while (n !== 0n) {
    yield n;
    const right = mem.readU64(n + oRight, 'rb_node.rb_right');
    if (right !== 0n) {
      n = right;
      while (true) {
        const l = mem.readU64(n + oLeft, 'rb_node.rb_left');
        if (l === 0n) break;
        n = l;
        guard();
      }
    } else {
      let p = parent(n);
      while (p !== 0n && n === mem.readU64(p + oRight, 'rb_node.rb_right')) {
        n = p;
        p = parent(n);
        guard();
      }
      n = p;
    }
    guard();
  }
}
