/**
 * XArrays (and radix trees, which are XArrays since 4.20): a lookup by index and a walk of every entry, as the
 * kernel's xa_load and xa_for_each do (drgn's xa_load, xa_for_each, radix_tree_lookup).
 */
import { TscrashError } from '../core/errors.js';
import { findMember, type Obj } from '../program/object.js';

/** An internal entry (its low two bits 10): a node pointer, a sibling, a retry or zero entry. */
function isInternal(entry: bigint): boolean {
  return (entry & 3n) === 2n;
}

/** A node pointer: an internal entry above 4096 (the small ones are siblings and the retry and zero entries). */
function isNode(entry: bigint): boolean {
  return isInternal(entry) && entry > 4096n;
}

function chunkShift(xa: Obj): number {
  const t = findMember(xa.prog.type('struct xa_node'), 'slots')?.member.type;
  const n = t?.kind === 'array' ? (t.counts[0] ?? 64) : 64;
  return Math.log2(n);
}

function rootOf(xa: Obj): Obj {
  return xa.type.kind === 'pointer' ? xa.deref() : xa;
}

/**
 * The entry at `index` of an XArray (a `struct xarray` or `struct radix_tree_root`, or a pointer to one); 0n if none.
 */
export function xaLoad(xa: Obj, index: bigint | number): bigint {
  const root = rootOf(xa);
  const prog = root.prog;
  const i = BigInt(index);
  let entry = root.member('xa_head').value();
  if (!isNode(entry)) return i === 0n ? (isInternal(entry) ? 0n : entry) : 0n;
  const mask = (1n << BigInt(chunkShift(root))) - 1n;
  const nodeT = prog.type('struct xa_node');
  for (let depth = 0; depth < 16; depth++) {
    const node = prog.object(nodeT, entry - 2n);
    const shift = BigInt(node.member('shift').num());
    if (i >> shift > mask && depth === 0) return 0n; // beyond what the tree holds
    entry = node
      .member('slots')
      .index(Number((i >> shift) & mask))
      .value();
    if (!isNode(entry) || shift === 0n) return isInternal(entry) ? 0n : entry;
  }
  throw new TscrashError(`${xa.expr || 'xarray'}: deeper than 16 levels`);
}

/** Every present entry of an XArray, in index order: [index, entry]. */
export function* xaForEach(xa: Obj): Generator<[bigint, bigint]> {
  const root = rootOf(xa);
  const prog = root.prog;
  const head = root.member('xa_head').value();
  if (!isNode(head)) {
    if (head !== 0n && !isInternal(head)) yield [0n, head];
    return;
  }
  const nodeT = prog.type('struct xa_node');
  const n = 1 << chunkShift(root);
  function* walk(entry: bigint, base: bigint, depth: number): Generator<[bigint, bigint]> {
    if (depth > 16) throw new TscrashError(`${xa.expr || 'xarray'}: deeper than 16 levels`);
    const node = prog.object(nodeT, entry - 2n);
    const shift = BigInt(node.member('shift').num());
    const slots = node.member('slots');
    for (let k = 0; k < n; k++) {
      const e = slots.index(k).value();
      if (e === 0n) continue;
      const idx = base + (BigInt(k) << shift);
      if (isNode(e) && shift > 0n) yield* walk(e, idx, depth + 1);
      else if (!isInternal(e)) yield [idx, e];
    }
  }
  yield* walk(head, 0n, 0);
}
