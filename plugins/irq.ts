/**
 * The `irq` plugin: the kernel's interrupts from its irq_desc table (the sparse-IRQ tree irq_desc_tree, or the
 * irq_desc array): crash's `irq` (each IRQ's descriptor and first action), `irq -s` (the per-CPU counts from each
 * descriptor's kstat_irqs, with the chip, flow and action names, as /proc/interrupts), and `irq -H` (each action's
 * handler and thread function). `--plugin irq` loads it.
 */
import type * as Api from './api.js';

type Tscrash = typeof Api;
type Program = Api.Program;

/** One action (request_irq) of an IRQ. */
export interface IrqAction {
  action: Api.Hex;
  name: string;
  /** The handler's function (symbol), and the threaded handler's when there is one. */
  handler?: string;
  threadFn?: string;
}

export interface IrqInfo {
  irq: number;
  /** The irq_desc, when the IRQ has one. */
  desc?: Api.Hex;
  actions: IrqAction[];
  /** The irq_chip's name (IO-APIC, PCI-MSI ...) and the flow handler's name (edge, fasteoi ...). */
  chip?: string;
  flow?: string;
  /** The count on each CPU of `cpus`, from kstat_irqs. */
  counts?: number[];
}

export interface IrqResult {
  /** What was asked: the descriptor table, the per-CPU counts (-s), or the handlers (-H). */
  view: 'table' | 'stats' | 'handlers';
  cpus: number[];
  irqs: IrqInfo[];
}

const hx16 = (v: bigint): string => v.toString(16).padStart(16, '0');

/** The irq_desc of an IRQ (0n if it has none), as the kernel's irq_to_desc. */
function descOf(tscrash: Tscrash, prog: Program, irq: number): bigint {
  if (prog.hasVariable('irq_desc_tree')) return tscrash.helpers.xaLoad(prog.variable('irq_desc_tree'), irq);
  // 6.5 and later keep them in a maple tree (sparse_irqs), which there is no helper for yet.
  if (prog.hasVariable('sparse_irqs'))
    throw new tscrash.CommandError('this kernel keeps its IRQ descriptors in a maple tree (sparse_irqs): not read yet');
  const arr = prog.variable('irq_desc');
  return arr.index(irq).address ?? 0n;
}

function symbolName(prog: Program, addr: bigint): string | undefined {
  if (addr === 0n) return undefined;
  return prog.symbols.symbolize(addr)?.symbol.name ?? `0x${addr.toString(16)}`;
}

/** Everything about one IRQ. */
export function irqInfo(tscrash: Tscrash, prog: Program, irq: number, cpus: number[]): IrqInfo {
  const desc = descOf(tscrash, prog, irq);
  if (desc === 0n) return { irq, actions: [] };
  const d = prog.object('struct irq_desc', desc);
  const actions: IrqAction[] = [];
  let a = d.member('action');
  for (let n = 0; !a.isNull() && n < 1024; n++, a = a.member('next')) {
    const name = a.member('name');
    actions.push({
      action: a.value(),
      name: name.isNull() ? '' : name.string(256),
      handler: symbolName(prog, a.member('handler').value()),
      threadFn: symbolName(prog, a.member('thread_fn').value()),
    });
  }
  const chipPtr = d.member('irq_data').member('chip');
  const chipName = chipPtr.isNull() ? undefined : chipPtr.member('name');
  const flowName = d.member('name');
  const kstat = d.member('kstat_irqs');
  return {
    irq,
    desc,
    actions,
    chip: chipName && !chipName.isNull() ? chipName.string(64) : undefined,
    flow: flowName.isNull() ? undefined : flowName.string(64),
    counts: kstat.isNull() ? cpus.map(() => 0) : cpus.map((c) => tscrash.helpers.perCpu(kstat, c).num()),
  };
}

/** The number of IRQs the kernel has descriptors for (nr_irqs). */
export function nrIrqs(prog: Program): number {
  return prog.variable('nr_irqs').num();
}

function tableText(r: IrqResult): string {
  let s = ' IRQ   IRQ_DESC/_DATA      IRQACTION      NAME\n';
  for (const i of r.irqs) {
    if (i.desc === undefined) s += ` ${String(i.irq).padEnd(3)}      (unused)          (unused)      \n`;
    else if (i.actions.length === 0) s += `${String(i.irq).padStart(3)}   ${hx16(i.desc)}      (unused)      \n`;
    else
      for (const a of i.actions)
        s += `${String(i.irq).padStart(3)}   ${hx16(i.desc)}  ${hx16(a.action)}  "${a.name}"\n`;
  }
  return s;
}

function statsText(r: IrqResult): string {
  let s = `    ${r.cpus.map((c) => `CPU${c}`.padStart(11)).join('')} \n`;
  for (const i of r.irqs) {
    if (!i.actions.length) continue;
    const chip = i.flow ? `${i.chip ?? ''}-${i.flow}` : (i.chip ?? '');
    s += `${String(i.irq).padStart(3)}:${(i.counts ?? []).map((n) => ` ${String(n).padStart(10)}`).join('')}  ${chip.padEnd(16)} ${i.actions.map((a) => a.name).join(', ')}\n`;
  }
  return s;
}

function handlersText(r: IrqResult): string {
  let s = 'IRQ  ACTION            NAME              HANDLER                   THREAD\n';
  for (const i of r.irqs)
    for (const a of i.actions)
      s += `${String(i.irq).padStart(3)}  ${hx16(a.action)}  ${a.name.padEnd(16)}  ${(a.handler ?? '-').padEnd(24)}  ${a.threadFn ?? '-'}\n`;
  return s;
}

export default function irq(tscrash: Tscrash): void {
  tscrash.registerCommand<IrqResult>({
    name: 'irq',
    summary: 'interrupts: descriptors, per-CPU counts (-s), handlers (-H)',
    resultType: 'IrqResult',
    help: `NAME
  irq - interrupts: descriptors, per-CPU counts, handlers (plugin)

SYNOPSIS
  irq [-s | -H] [irq]...

DESCRIPTION
  With no option, each IRQ's descriptor (struct irq_desc, from the kernel's
  irq_desc_tree) and its actions (struct irqaction) with their names, as
  crash's irq shows them; an IRQ with no descriptor or no action is (unused).

    -s   the per-CPU counts of each IRQ with an action (desc->kstat_irqs), with
         its chip and flow ("IO-APIC-edge") and its actions' names, as crash's
         irq -s and /proc/interrupts show them.
    -H   each action's handler and thread function.
    irq  only these IRQs (default: 0 up to nr_irqs).

EXAMPLES
  irq
  irq -s
  irq -H 24
`,
    run(ctx, args): IrqResult {
      const prog = ctx.program;
      let view: IrqResult['view'] = 'table';
      const wanted: number[] = [];
      for (const a of args) {
        if (a === '-s') view = 'stats';
        else if (a === '-H') view = 'handlers';
        else if (/^\d+$/.test(a)) wanted.push(Number(a));
        else throw new tscrash.CommandError(`invalid argument: ${a} (irq [-s | -H] [irq]...)`);
      }
      const n = nrIrqs(prog);
      for (const w of wanted) if (w >= n) throw new tscrash.CommandError(`invalid IRQ value: ${w} (nr_irqs is ${n})`);
      const cpus = tscrash.helpers.onlineCpus(prog);
      tscrash.helpers.loadModuleSymbols(prog); // handlers in modules (nvme, libata ...) by name
      const list = wanted.length ? wanted : Array.from({ length: n }, (_, i) => i);
      return { view, cpus, irqs: list.map((i) => irqInfo(tscrash, prog, i, cpus)) };
    },
    text(r, ctx) {
      ctx.out(r.view === 'table' ? tableText(r) : r.view === 'stats' ? statsText(r) : handlersText(r));
    },
  });
}
