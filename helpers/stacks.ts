/**
 * The kernel stacks of a CPU besides the tasks' own: the exception stacks of
 * the CPU entry area (NMI, #DB, #MC, #DF, #VC) and the hard IRQ stack, found
 * through per-cpu pointers when the kernel has them.
 */
import type { Program } from '../program/program.js';
import { perCpu } from './percpu.js';

/** A stack of a CPU: its name (IRQ, NMI ...) and [start, end). */
export interface StackRange {
  name: string;
  start: bigint;
  end: bigint;
}

const cache = new WeakMap<Program, Map<number, StackRange[]>>();

/** Names crash gives the exception stacks, by the member of struct cea_exception_stacks. */
const EXCEPTION_STACKS: [string, string][] = [
  ['DF_stack', 'DOUBLEFAULT'],
  ['NMI_stack', 'NMI'],
  ['DB_stack', 'DEBUG'],
  ['MCE_stack', 'MCE'],
  ['VC_stack', 'VC'],
  ['VC2_stack', 'VC2'],
];

/** The stacks of `cpu` crash names (IRQ, the exception stacks NMI, DOUBLEFAULT ...), with their ranges. */
export function cpuStacks(prog: Program, cpu: number): StackRange[] {
  let m = cache.get(prog);
  if (!m) {
    m = new Map();
    cache.set(prog, m);
  }
  const hit = m.get(cpu);
  if (hit) return hit;
  const out: StackRange[] = [];
  // The stacks' places come from the debug info's variables and types.
  if (!prog.hasDebugInfo) return out;
  if (prog.hasVariable('cea_exception_stacks')) {
    try {
      const p = perCpu(prog, 'cea_exception_stacks', cpu);
      if (!p.isNull()) {
        const s = p.deref();
        for (const [member, name] of EXCEPTION_STACKS) {
          if (!s.hasMember(member)) continue;
          const st = s.member(member);
          out.push({
            name: `${name} exception stack`,
            start: st.address as bigint,
            end: (st.address as bigint) + BigInt(st.size),
          });
        }
      }
    } catch {
      // Not in the dump: no exception stacks known for this CPU.
    }
  }
  const irqVar = prog.hasVariable('hardirq_stack_ptr') ? 'hardirq_stack_ptr' : undefined;
  try {
    let top: bigint | undefined;
    if (irqVar) top = perCpu(prog, irqVar, cpu).value();
    else if (prog.hasVariable('pcpu_hot')) top = perCpu(prog, 'pcpu_hot', cpu).member('hardirq_stack_ptr').value();
    if (top) {
      // hardirq_stack_ptr points at the top word of the IRQ stack (struct irq_stack, IRQ_STACK_SIZE bytes).
      const size = prog.hasType('struct irq_stack') ? BigInt(prog.sizeof('struct irq_stack')) : 16384n;
      const end = (top + 8n + 0xfffn) & ~0xfffn;
      out.push({ name: 'IRQ stack', start: end - size, end });
    }
  } catch {
    // No IRQ stack known.
  }
  m.set(cpu, out);
  return out;
}

/** Which of the stacks of `cpu` (IRQ, NMI ...) an address is on. */
export function stackOf(prog: Program, cpu: number, addr: bigint): StackRange | undefined {
  return cpuStacks(prog, cpu).find((s) => addr >= s.start && addr < s.end);
}
