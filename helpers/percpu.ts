/**
 * Per-CPU variables: a per-cpu symbol's address plus the CPU's
 * __per_cpu_offset; CPU masks from cpu_possible/online masks.
 */
import { TscrashError } from '../core/errors.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';

const cache = new WeakMap<Program, bigint[]>();

/** __per_cpu_offset for each possible CPU slot (nr_cpu_ids entries). */
export function perCpuOffsets(prog: Program): bigint[] {
  const hit = cache.get(prog);
  if (hit) return hit;
  const arr = prog.variable('__per_cpu_offset');
  const n = nrCpuIds(prog);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(arr.index(i).value());
  cache.set(prog, out);
  return out;
}

/** The number of CPU ids the kernel has (nr_cpu_ids: the __per_cpu_offset entries). */
export function nrCpuIds(prog: Program): number {
  if (prog.hasVariable('nr_cpu_ids')) return prog.variable('nr_cpu_ids').num();
  const t = prog.variable('__per_cpu_offset').type;
  return t.kind === 'array' ? (t.counts[0] ?? 1) : 1;
}

/** A per-cpu address's instance on `cpu` (plus __per_cpu_offset[cpu]). */
export function perCpuAddress(prog: Program, address: bigint, cpu: number): bigint {
  const offs = perCpuOffsets(prog);
  if (cpu < 0 || cpu >= offs.length) throw new TscrashError(`cpu ${cpu} does not exist (nr_cpu_ids is ${offs.length})`);
  return (address + offs[cpu]!) & ((1n << 64n) - 1n);
}

/**
 * Where a per-cpu symbol's instance on `cpu` is, from the symbols alone (no types: a session without a
 * vmlinux reads the kernel's kallsyms): the symbol plus __per_cpu_offset[cpu]. Undefined when either symbol
 * or the offset is missing.
 */
export function perCpuSymbolAddress(prog: Program, name: string, cpu: number): bigint | undefined {
  const sym = prog.symbolAddress(name);
  const offs = prog.symbolAddress('__per_cpu_offset');
  if (sym === undefined || offs === undefined || cpu < 0) return undefined;
  const b = prog.memory.tryReadVirt(offs + BigInt(cpu * 8), 8, '__per_cpu_offset');
  if (!b) return undefined;
  return (sym + new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)) & ((1n << 64n) - 1n);
}

/** A per-cpu variable's instance on `cpu`, e.g. perCpu(prog, 'runqueues', 1). */
export function perCpu(prog: Program, name: string, cpu: number): Obj {
  const v = prog.variable(name);
  return prog.object(v.type, perCpuAddress(prog, v.address as bigint, cpu), `per_cpu(${name}, ${cpu})`);
}

/** The instance on `cpu` of a per-cpu pointer (a `__percpu` pointer value, as in alloc_percpu). */
export function perCpuPtr(ptr: Obj, cpu: number): Obj {
  const target = ptr.deref();
  return ptr.prog.object(target.type, perCpuAddress(ptr.prog, ptr.value(), cpu), `per_cpu_ptr(${ptr.expr}, ${cpu})`);
}

function maskCpus(prog: Program, names: string[]): number[] {
  for (const name of names) {
    if (!prog.hasVariable(name)) continue;
    const bits = prog.variable(name).member('bits');
    const n = nrCpuIds(prog);
    const out: number[] = [];
    for (let w = 0; w * 64 < n; w++) {
      const word = bits.index(w).value();
      for (let b = 0; b < 64 && w * 64 + b < n; b++) if ((word >> BigInt(b)) & 1n) out.push(w * 64 + b);
    }
    return out;
  }
  return Array.from({ length: nrCpuIds(prog) }, (_, i) => i);
}

/** The possible CPUs (cpu_possible_mask). */
export function possibleCpus(prog: Program): number[] {
  return maskCpus(prog, ['__cpu_possible_mask', 'cpu_possible_mask']);
}

/** The online CPUs (cpu_online_mask). */
export function onlineCpus(prog: Program): number[] {
  return maskCpus(prog, ['__cpu_online_mask', 'cpu_online_mask']);
}

/** The present CPUs (cpu_present_mask). */
export function presentCpus(prog: Program): number[] {
  return maskCpus(prog, ['__cpu_present_mask', 'cpu_present_mask']);
}
