/**
 * Machine-check records the kernel keeps in memory (arch/x86/kernel/cpu/mce/):
 *  - the legacy /dev/mcelog buffer (dev-mcelog.c: `mcelog`, a struct mce_log_buffer
 *    with the "MACHINECHECK" signature; a struct mce_log before 4.15);
 *  - the per-CPU `mces_seen`: do_machine_check() copies its gathered record there
 *    before the bank scan, and the worst record after it;
 *  - the genpool of struct mce_evt_llist (genpool.c: `mce_evt_pool`, queued on
 *    `mce_event_llist` until the notifier chain consumes them); freed entries keep
 *    their bytes, so earlier records can still be read from the pool;
 *  - do_machine_check()'s own `struct mce m`: when the handler panics (mce_panic)
 *    the fatal record exists only there, on the stack the #MC handler ran on. It is
 *    found by matching the CPU's mces_seen (same TSC, IP, MCG_STATUS, CPU).
 * Every source is detected by the presence of its symbol and type.
 */
import { FaultError, LookupError, TscrashError } from '../core/errors.js';
import { type Obj, strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listForEach } from './lists.js';
import type { Vendor } from './mce.js';
import { perCpu, possibleCpus } from './percpu.js';
import { cpuCurr } from './tasks.js';

/** A struct mce as read from memory. */
export interface RawMce {
  status: bigint;
  misc: bigint;
  addr: bigint;
  mcgstatus: bigint;
  ip: bigint;
  tsc: bigint;
  time: bigint;
  cpuvendor: number;
  cpuid: number;
  cs: number;
  bank: number;
  cpu: number;
  extcpu: number;
  socketid: number;
  apicid: number;
  mcgcap: bigint;
  synd: bigint;
  ipid: bigint;
  microcode: number;
  finished: number;
  severity: number;
}

/** Where a machine check record in memory was found. */
export type MceSource = 'mcelog' | 'mces_seen' | 'genpool' | 'genpool-freed' | 'stack';

/** A machine check record found in memory, with where it was found. */
export interface MemoryMce {
  source: MceSource;
  /** Where the struct mce is. */
  address: bigint;
  /** Human description of the place: "mcelog.entry[3]", "per_cpu(mces_seen, 0)", ... */
  where: string;
  record: RawMce;
}

/** The machine checks kept in the kernel's memory (mcelog, mces_seen, the genpool), and what is missing. */
export interface MceMemory {
  records: MemoryMce[];
  /** What was looked at and what it held, stated plainly. */
  notes: string[];
}

const VAL = 1n << 63n;
const MCIP = 1n << 2n;

/** X86_VENDOR_* as struct mce's cpuvendor holds it. */
export function mceVendor(cpuvendor: number): Vendor | undefined {
  if (cpuvendor === 0) return 'intel';
  if (cpuvendor === 2 || cpuvendor === 9) return 'amd';
  return undefined;
}

/** Field offsets of struct mce, read once; absent fields read as 0. */
interface MceLayout {
  size: number;
  fields: Map<string, { offset: number; size: number }>;
}

const layoutCache = new WeakMap<Program, MceLayout>();

function mceLayout(prog: Program): MceLayout {
  const hit = layoutCache.get(prog);
  if (hit) return hit;
  const t = strip(prog.type('struct mce'));
  if (t.kind !== 'struct') throw new TscrashError('struct mce is not a struct');
  const fields = new Map<string, { offset: number; size: number }>();
  for (const m of t.members) {
    if (!m.name) continue;
    const s = strip(m.type);
    fields.set(m.name, { offset: m.offset, size: 'size' in s ? s.size : 0 });
  }
  const l = { size: t.size, fields };
  layoutCache.set(prog, l);
  return l;
}

/** Decode a struct mce from its bytes. */
export function decodeRawMce(prog: Program, b: Uint8Array, o = 0): RawMce {
  const l = mceLayout(prog);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const get = (name: string): bigint => {
    const f = l.fields.get(name);
    if (!f) return 0n;
    const at = o + f.offset;
    switch (f.size) {
      case 1:
        return BigInt(dv.getUint8(at));
      case 2:
        return BigInt(dv.getUint16(at, true));
      case 4:
        return BigInt(dv.getUint32(at, true));
      case 8:
        return dv.getBigUint64(at, true);
      default:
        return 0n;
    }
  };
  const n = (name: string): number => Number(get(name));
  return {
    status: get('status'),
    misc: get('misc'),
    addr: get('addr'),
    mcgstatus: get('mcgstatus'),
    ip: get('ip'),
    tsc: get('tsc'),
    time: get('time'),
    cpuvendor: n('cpuvendor'),
    cpuid: n('cpuid'),
    cs: n('cs'),
    bank: n('bank'),
    cpu: n('cpu'),
    extcpu: l.fields.has('extcpu') ? n('extcpu') : n('cpu'),
    socketid: n('socketid'),
    apicid: n('apicid'),
    mcgcap: get('mcgcap'),
    synd: get('synd'),
    ipid: get('ipid'),
    microcode: n('microcode'),
    finished: n('finished'),
    severity: n('severity'),
  };
}

/** The struct mce at `address`, decoded. */
export function readMceAt(prog: Program, address: bigint): RawMce {
  return decodeRawMce(prog, prog.memory.readVirt(address, mceLayout(prog).size, 'struct mce'));
}

function has(prog: Program, name: string): boolean {
  try {
    return prog.hasVariable(name);
  } catch (e) {
    if (e instanceof LookupError) return false;
    throw e;
  }
}

/** The legacy mcelog buffer's finished entries. */
function legacyLog(prog: Program, out: MceMemory): void {
  if (!has(prog, 'mcelog')) {
    out.notes.push('mcelog: not in this kernel (no CONFIG_X86_MCELOG_LEGACY)');
    return;
  }
  let log: Obj = prog.variable('mcelog');
  if (strip(log.type).kind === 'pointer') {
    if (log.isNull()) {
      out.notes.push('mcelog: the buffer was never allocated');
      return;
    }
    log = log.deref();
  }
  const sig = log.member('signature').string(16);
  if (sig !== 'MACHINECHECK') {
    out.notes.push(`mcelog: signature is "${sig}", not MACHINECHECK: not read`);
    return;
  }
  const len = log.member('len').num();
  const next = log.member('next').num();
  const entries = log.member('entry');
  const count = Math.min(next, len);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const e = entries.index(i);
    const r = decodeRawMce(prog, e.bytes());
    if (!r.finished && !(r.status & VAL)) continue;
    out.records.push({ source: 'mcelog', address: e.address as bigint, where: `mcelog entry[${i}]`, record: r });
    n++;
  }
  out.notes.push(`mcelog: ${n} record${n === 1 ? '' : 's'} of ${len} slots (next ${next})`);
}

function perCpuSeen(prog: Program, out: MceMemory): Map<number, { address: bigint; record: RawMce }> {
  const seen = new Map<number, { address: bigint; record: RawMce }>();
  if (!has(prog, 'mces_seen')) {
    out.notes.push('mces_seen: not in this kernel');
    return seen;
  }
  for (const cpu of possibleCpus(prog)) {
    const o = perCpu(prog, 'mces_seen', cpu);
    let r: RawMce;
    try {
      r = decodeRawMce(prog, o.bytes());
    } catch (e) {
      if (e instanceof FaultError) continue;
      throw e;
    }
    seen.set(cpu, { address: o.address as bigint, record: r });
    if (r.status & VAL) {
      out.records.push({
        source: 'mces_seen',
        address: o.address as bigint,
        where: `per_cpu(mces_seen, ${cpu})`,
        record: r,
      });
    } else if (r.mcgstatus & MCIP) {
      out.notes.push(
        `mces_seen on CPU ${cpu}: a machine check was in progress (MCG_STATUS 0x${r.mcgstatus.toString(16)}, TSC 0x${r.tsc.toString(16)}) but no bank had been recorded: the handler stopped before its bank scan`,
      );
    }
  }
  return seen;
}

/** Records queued on mce_event_llist, and the pool's freed entries that still hold a record. */
function genpool(prog: Program, out: MceMemory): void {
  if (!has(prog, 'mce_event_llist') || !prog.hasType('struct mce_evt_llist')) {
    out.notes.push('mce genpool: not in this kernel');
    return;
  }
  const evT = prog.type('struct mce_evt_llist');
  const nodeOff = BigInt(prog.offsetOf(evT, 'llnode'));
  const mceOff = BigInt(prog.offsetOf(evT, 'mce'));
  const pending = new Set<bigint>();
  let p = prog.variable('mce_event_llist').member('first').value();
  while (p !== 0n && !pending.has(p) && pending.size < 100000) {
    const ev = p - nodeOff;
    pending.add(ev);
    out.records.push({
      source: 'genpool',
      address: ev + mceOff,
      where: 'mce_event_llist (queued, not yet processed)',
      record: readMceAt(prog, ev + mceOff),
    });
    p = prog.memory.readU64(p, 'llist_node.next');
  }
  out.notes.push(`mce_event_llist: ${pending.size} queued record${pending.size === 1 ? '' : 's'}`);
  if (!has(prog, 'mce_evt_pool')) return;
  const pool = prog.variable('mce_evt_pool');
  if (pool.isNull()) return;
  const order = pool.member('min_alloc_order').num();
  const slot = 1n << BigInt(order);
  const evSize = BigInt(prog.sizeof('struct mce_evt_llist'));
  const slots = (evSize + slot - 1n) / slot;
  const chunkT = prog.type('struct gen_pool_chunk');
  const chunkOff = BigInt(prog.offsetOf(chunkT, 'next_chunk'));
  let freed = 0;
  for (const n of listForEach(pool.member('chunks'))) {
    const c = prog.object(chunkT, n - chunkOff, 'gen_pool_chunk');
    const start = c.member('start_addr').value();
    const end = c.member('end_addr').value();
    const bytes = prog.memory.tryReadVirt(start, Number(end - start + 1n), 'mce genpool chunk');
    if (!bytes) continue;
    const total = (end - start + 1n) / slot;
    const bitsAddr = c.member('bits').address as bigint;
    const bitmap = prog.memory.tryReadVirt(bitsAddr, Number((total + 63n) / 64n) * 8, 'gen_pool_chunk.bits');
    for (let i = 0n; i + slots <= total; i += slots) {
      const ev = start + i * slot;
      if (pending.has(ev)) continue;
      const r = decodeRawMce(prog, bytes, Number(i * slot + mceOff));
      if (!(r.status & VAL) || r.bank >= 64) continue;
      const allocated = bitmap ? ((bitmap[Number(i / 8n)]! >> Number(i % 8n)) & 1) === 1 : false;
      out.records.push({
        source: 'genpool-freed',
        address: ev + mceOff,
        where: allocated
          ? 'mce_evt_pool entry (allocated, not queued: being processed)'
          : 'mce_evt_pool entry (freed: already handled; bytes left behind)',
        record: r,
      });
      freed++;
    }
  }
  out.notes.push(`mce_evt_pool: ${freed} earlier record${freed === 1 ? '' : 's'} left in the pool`);
}

/** Stacks the #MC handler of a CPU may have run on: the CPU's current task's stack, and its IST #MC stack. */
function handlerStacks(prog: Program, cpu: number): { base: bigint; size: number; what: string }[] {
  const out: { base: bigint; size: number; what: string }[] = [];
  try {
    const t = cpuCurr(prog, cpu);
    const stack = t.member('stack').value();
    const size = prog.hasType('union thread_union') ? prog.sizeof('union thread_union') : 16384;
    out.push({
      base: stack,
      size,
      what: `the kernel stack of task 0x${(t.address as bigint).toString(16)} (current on CPU ${cpu})`,
    });
  } catch (e) {
    if (!(e instanceof FaultError) && !(e instanceof LookupError)) throw e;
  }
  if (has(prog, 'cea_exception_stacks') && prog.hasMember('struct cea_exception_stacks', 'MCE_stack')) {
    try {
      const p = perCpu(prog, 'cea_exception_stacks', cpu);
      if (!p.isNull()) {
        const s = p.deref().member('MCE_stack');
        out.push({ base: s.address as bigint, size: s.size, what: `the #MC exception stack of CPU ${cpu}` });
      }
    } catch (e) {
      if (!(e instanceof FaultError) && !(e instanceof LookupError)) throw e;
    }
  }
  return out;
}

/** do_machine_check()'s local record, matched on the stacks against the CPU's mces_seen. */
function stackRecords(prog: Program, seen: Map<number, { address: bigint; record: RawMce }>, out: MceMemory): void {
  const l = mceLayout(prog);
  const tscOff = l.fields.get('tsc')?.offset;
  if (tscOff === undefined) return;
  for (const [cpu, s] of seen) {
    const want = s.record;
    if (!(want.mcgstatus & MCIP) || want.tsc === 0n) continue;
    let found = 0;
    for (const st of handlerStacks(prog, cpu)) {
      const b = prog.memory.tryReadVirt(st.base, st.size, 'stack');
      if (!b) {
        out.notes.push(`${st.what}: not in the dump`);
        continue;
      }
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let o = 0; o + l.size <= b.length; o += 8) {
        if (o + tscOff + 8 > b.length || dv.getBigUint64(o + tscOff, true) !== want.tsc) continue;
        const r = decodeRawMce(prog, b, o);
        if (!(r.status & VAL) || r.ip !== want.ip || r.mcgstatus !== want.mcgstatus || r.cpu !== want.cpu) continue;
        const address = st.base + BigInt(o);
        if (address === s.address) continue;
        out.records.push({ source: 'stack', address, where: `${st.what} (do_machine_check's record)`, record: r });
        found++;
      }
    }
    out.notes.push(
      found
        ? `CPU ${cpu}: the machine-check handler's own record found on its stack`
        : `CPU ${cpu}: no record matching mces_seen (TSC 0x${want.tsc.toString(16)}) on the handler's stacks`,
    );
  }
}

/** Every machine-check record the kernel kept in memory. */
export function mceRecordsInMemory(prog: Program): MceMemory {
  const out: MceMemory = { records: [], notes: [] };
  if (!prog.hasType('struct mce')) {
    out.notes.push(
      'this kernel has no machine-check support (no struct mce in its debug info): nothing kept in memory',
    );
    return out;
  }
  legacyLog(prog, out);
  const seen = perCpuSeen(prog, out);
  genpool(prog, out);
  stackRecords(prog, seen, out);
  return out;
}
