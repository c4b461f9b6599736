import { type DecodedMce, decodeMce, formatDecoded, type Vendor } from '../helpers/mce.js';
import { type LoggedMce, parseMceLog } from '../helpers/mce-log.js';
import { type MceMemory, type MemoryMce, mceRecordsInMemory, mceVendor } from '../helpers/mce-records.js';
import { formatLog, kernelLog } from '../helpers/printk.js';
import { CommandError, TscrashError } from '../program/index.js';
import type { Program } from '../program/program.js';
import type { Command } from './registry.js';
import type { Hex } from './result.js';

function num(v: string | undefined, what: string): bigint {
  if (v === undefined) throw new CommandError(`${what} needs a value`);
  try {
    const n = BigInt(
      /^0x/i.test(v) || /[a-f]/i.test(v) ? (v.startsWith('0x') || v.startsWith('0X') ? v : `0x${v}`) : v,
    );
    if (n < 0n || n >= 1n << 64n) throw new Error();
    return n;
  } catch {
    throw new CommandError(`${what}: not a 64-bit number: ${v}`);
  }
}

const jsonify = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x), 1);

/** A machine check the kernel kept in memory, decoded, and which logged record it is (1-based), if any. */
export interface MceMemoryRecord {
  source: MemoryMce['source'];
  where: string;
  address: Hex;
  record: MemoryMce['record'];
  matchesLog?: number;
  decoded: DecodedMce;
}

/**
 * mce: `decode` of raw register values, or the machine checks of the dump: the log's records and the ones the
 * kernel kept in memory (null without the vmlinux), each decoded. `json`: mce --json prints it as JSON.
 */
export type MceResult =
  | { kind: 'decode'; json: boolean; decoded: DecodedMce }
  | {
      kind: 'dump';
      json: boolean;
      source: 'kernel log';
      records: { logged: LoggedMce; decoded: DecodedMce }[];
      messages: string[];
      panic?: string;
      memory: MceMemoryRecord[] | null;
      memoryNotes: string[] | null;
    };

export const mce: Command<MceResult> = {
  resultType: 'MceResult',
  name: 'mce',
  summary: 'machine checks: find them in the dump and decode them',
  help: `NAME
  mce - machine-check records, decoded

SYNOPSIS
  mce [--json]
  mce decode STATUS [--mcgstatus X] [--addr A] [--misc M] [--bank N] [--cpu N] [--vendor intel|amd] [--json]

DESCRIPTION
  With no arguments, finds the machine checks the kernel logged before it died
  ("mce: [Hardware Error]:" lines) and decodes each: the MCi_STATUS flags, the
  MCA error-code class (Intel SDM vol. 3B ch. 16), MCG_STATUS, and the kernel's
  severity grading that explains the panic. The vendor comes from the logged
  PROCESSOR line.

  With the vmlinux, also the records the kernel kept in memory: the legacy
  mcelog buffer ("MACHINECHECK"), the per-CPU mces_seen, the genpool of
  struct mce_evt_llist (queued records, and earlier ones left in freed
  entries), and the handler's own record on the stack the #MC handler ran on
  (a fatal machine check panics before logging it anywhere else). Each is
  decoded, and matched against the log.

  mce decode decodes raw register values; it needs no dump contents.
`,
  run(ctx, args): MceResult {
    const json = args.includes('--json');
    const rest = args.filter((a) => a !== '--json');
    if (rest[0] === 'decode') {
      let status: bigint | undefined;
      let mcg: bigint | undefined;
      let addr: bigint | undefined;
      let misc: bigint | undefined;
      let bank: number | undefined;
      let cpu: number | undefined;
      let vendor: Vendor = 'intel';
      for (let i = 1; i < rest.length; i++) {
        const a = rest[i]!;
        if (a === '--mcgstatus') mcg = num(rest[++i], a);
        else if (a === '--addr') addr = num(rest[++i], a);
        else if (a === '--misc') misc = num(rest[++i], a);
        else if (a === '--bank') bank = Number(num(rest[++i], a));
        else if (a === '--cpu') cpu = Number(num(rest[++i], a));
        else if (a === '--vendor') {
          const v = rest[++i];
          if (v !== 'intel' && v !== 'amd') throw new CommandError('--vendor is intel or amd');
          vendor = v;
        } else if (a.startsWith('--')) throw new CommandError(`unknown option ${a}`);
        else if (status === undefined) status = num(a, 'STATUS');
        else throw new CommandError(`unexpected argument ${a}`);
      }
      if (status === undefined)
        throw new CommandError(
          'usage: mce decode STATUS [--mcgstatus X] [--addr A] [--misc M] [--bank N] [--vendor intel|amd]',
        );
      return { kind: 'decode', json, decoded: decodeMce({ status, mcgStatus: mcg, addr, misc, bank, cpu, vendor }) };
    }
    if (rest.length) throw new CommandError(`unknown argument ${rest[0]} (mce [--json] | mce decode STATUS ...)`);
    const log = Buffer.from(formatLog(kernelLog(ctx.program))).toString('latin1');
    const found = parseMceLog(log);
    const memory = inMemory(ctx.program);
    return {
      kind: 'dump',
      json,
      source: 'kernel log',
      records: found.records.map((r) => ({
        logged: r,
        // CS's low two bits are the privilege level: 0 kernel, 3 user.
        decoded: decodeMce({ ...r, vendor: r.vendor ?? 'intel' }, r.rip ? r.rip.cs % 4 === 0 : undefined),
      })),
      messages: found.messages,
      panic: found.panic,
      memory:
        memory?.records.map((m) => ({
          source: m.source,
          where: m.where,
          address: m.address,
          record: m.record,
          matchesLog: matchLog(m, found.records),
          decoded: decodeMemory(m),
        })) ?? null,
      memoryNotes: memory?.notes ?? null,
    };
  },
  text(r, ctx) {
    const { json, ...data } = r;
    // mce --json: the result as JSON in a text session too.
    if (json) {
      ctx.out(`${jsonify(data.kind === 'decode' ? data.decoded : data)}\n`);
      return;
    }
    if (r.kind === 'decode') {
      ctx.out(formatDecoded(r.decoded).replace(/^ {2}/gm, ''));
      return;
    }
    if (r.records.length === 0) {
      ctx.out(
        `no machine check in the kernel log${r.panic && !r.memory?.length ? ` (the panic was: "${r.panic}")` : ''}\n`,
      );
    }
    r.records.forEach(({ logged: m, decoded }, i) => {
      ctx.out(
        `MACHINE CHECK ${i + 1} of ${r.records.length} (kernel log)${m.exception ? ', raised as a machine-check exception' : ''}\n`,
      );
      ctx.out(formatDecoded(decoded));
      if (m.rip)
        ctx.out(
          `  RIP ${m.rip.cs.toString(16).padStart(2, '0')}:0x${m.rip.ip.toString(16)}${m.rip.inexact ? ' (inexact: EIPV clear)' : ''} in ${m.rip.cs % 4 === 0 ? 'kernel' : 'user'} mode${m.rip.symbol ? ` ${m.rip.symbol}` : ''}\n`,
        );
      const extra = [
        m.tsc !== undefined ? `TSC 0x${m.tsc.toString(16)}` : '',
        m.time !== undefined ? `TIME ${m.time} (${new Date(m.time * 1000).toISOString()})` : '',
        m.socket !== undefined ? `SOCKET ${m.socket}` : '',
        m.apic !== undefined ? `APIC ${m.apic}` : '',
        m.cpuid !== undefined ? `CPUID 0x${m.cpuid.toString(16)}` : '',
        m.microcode !== undefined ? `microcode 0x${m.microcode.toString(16)}` : '',
      ].filter(Boolean);
      if (extra.length) ctx.out(`  ${extra.join('  ')}\n`);
      ctx.out('\n');
    });
    if (r.memory && r.memoryNotes) showMemory(ctx.out, r.memory, r.memoryNotes);
    if (!r.records.length && !r.memory?.length) return;
    for (const m of r.messages) ctx.out(`KERNEL: "Machine check: ${m}"\n`);
    if (r.panic) ctx.out(` PANIC: "${r.panic}"\n`);
  },
};

/** The in-memory records, when the vmlinux's types are loaded (undefined without them). */
function inMemory(prog: Program): MceMemory | undefined {
  if (!prog.hasDebugInfo) return undefined;
  try {
    return mceRecordsInMemory(prog);
  } catch (e) {
    if (e instanceof TscrashError) return { records: [], notes: [`in-memory records not read: ${e.message}`] };
    throw e;
  }
}

function decodeMemory(m: MemoryMce) {
  const r = m.record;
  return decodeMce(
    {
      status: r.status,
      mcgStatus: r.mcgstatus,
      addr: r.addr,
      misc: r.misc,
      bank: r.bank,
      cpu: r.extcpu,
      vendor: mceVendor(r.cpuvendor) ?? 'intel',
    },
    r.cs ? r.cs % 4 === 0 : undefined,
  );
}

/** The 1-based number of the log record with the same CPU, bank and status (and address, misc when logged). */
function matchLog(m: MemoryMce, logged: LoggedMce[]): number | undefined {
  const r = m.record;
  const i = logged.findIndex(
    (l) =>
      l.cpu === r.extcpu &&
      l.bank === r.bank &&
      l.status === r.status &&
      l.mcgStatus === r.mcgstatus &&
      (l.addr === undefined || l.addr === r.addr) &&
      (l.misc === undefined || l.misc === r.misc),
  );
  return i < 0 ? undefined : i + 1;
}

const SOURCE: Record<MemoryMce['source'], string> = {
  mcelog: 'mcelog buffer',
  mces_seen: 'mces_seen',
  genpool: 'mce genpool, queued',
  'genpool-freed': 'mce genpool',
  stack: 'handler stack',
};

function showMemory(out: (s: string) => void, records: MceMemoryRecord[], notes: string[]): void {
  records.forEach((m, i) => {
    const r = m.record;
    const n = m.matchesLog;
    out(
      `MACHINE CHECK IN MEMORY ${i + 1} of ${records.length} (${SOURCE[m.source]})${n ? `: the same record as MACHINE CHECK ${n} of the log` : ''}\n`,
    );
    out(`  at 0x${m.address.toString(16)}: ${m.where}\n`);
    out(formatDecoded(m.decoded));
    const inKernel = r.cs % 4 === 0;
    if (r.ip || r.cs)
      out(
        `  RIP ${r.cs.toString(16).padStart(2, '0')}:0x${r.ip.toString(16)} in ${inKernel ? 'kernel' : 'user'} mode\n`,
      );
    const extra = [
      `TSC 0x${r.tsc.toString(16)}`,
      r.time ? `TIME ${r.time} (${new Date(Number(r.time) * 1000).toISOString()})` : '',
      `SOCKET ${r.socketid}`,
      `APIC ${r.apicid}`,
      r.cpuid ? `CPUID 0x${r.cpuid.toString(16)}` : '',
      r.microcode ? `microcode 0x${r.microcode.toString(16)}` : '',
      r.synd ? `SYND 0x${r.synd.toString(16)}` : '',
      r.ipid ? `IPID 0x${r.ipid.toString(16)}` : '',
    ].filter(Boolean);
    out(`  ${extra.join('  ')}\n\n`);
  });
  out('In memory:\n');
  for (const note of notes) out(`  ${note}\n`);
  out('\n');
}
