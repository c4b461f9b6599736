import { decodeMce, formatDecoded, type Vendor } from '../helpers/mce.js';
import { parseMceLog } from '../helpers/mce-log.js';
import { formatLog, kernelLog } from '../helpers/printk.js';
import { CommandError } from '../program/index.js';
import type { Command } from './registry.js';

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

export const mce: Command = {
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

  mce decode decodes raw register values; it needs no dump contents.
`,
  run(ctx, args) {
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
      const d = decodeMce({ status, mcgStatus: mcg, addr, misc, bank, cpu, vendor });
      ctx.out(json ? `${jsonify(d)}\n` : formatDecoded(d).replace(/^ {2}/gm, ''));
      return;
    }
    if (rest.length) throw new CommandError(`unknown argument ${rest[0]} (mce [--json] | mce decode STATUS ...)`);
    const log = Buffer.from(formatLog(kernelLog(ctx.program))).toString('latin1');
    const found = parseMceLog(log);
    if (json) {
      const records = found.records.map((r) => ({
        logged: r,
        decoded: decodeMce({ ...r, vendor: r.vendor ?? 'intel' }, r.rip ? r.rip.cs % 4 === 0 : undefined),
      }));
      ctx.out(`${jsonify({ source: 'kernel log', records, messages: found.messages, panic: found.panic })}\n`);
      return;
    }
    if (found.records.length === 0) {
      ctx.out(`no machine check in the kernel log${found.panic ? ` (the panic was: "${found.panic}")` : ''}\n`);
      return;
    }
    found.records.forEach((r, i) => {
      ctx.out(
        `MACHINE CHECK ${i + 1} of ${found.records.length} (kernel log)${r.exception ? ', raised as a machine-check exception' : ''}\n`,
      );
      // CS's low two bits are the privilege level: 0 kernel, 3 user.
      const inKernel = r.rip ? r.rip.cs % 4 === 0 : undefined;
      ctx.out(formatDecoded(decodeMce({ ...r, vendor: r.vendor ?? 'intel' }, inKernel)));
      if (r.rip)
        ctx.out(
          `  RIP ${r.rip.cs.toString(16).padStart(2, '0')}:0x${r.rip.ip.toString(16)}${r.rip.inexact ? ' (inexact: EIPV clear)' : ''} in ${r.rip.cs % 4 === 0 ? 'kernel' : 'user'} mode${r.rip.symbol ? ` ${r.rip.symbol}` : ''}\n`,
        );
      const extra = [
        r.tsc !== undefined ? `TSC 0x${r.tsc.toString(16)}` : '',
        r.time !== undefined ? `TIME ${r.time} (${new Date(r.time * 1000).toISOString()})` : '',
        r.socket !== undefined ? `SOCKET ${r.socket}` : '',
        r.apic !== undefined ? `APIC ${r.apic}` : '',
        r.cpuid !== undefined ? `CPUID 0x${r.cpuid.toString(16)}` : '',
        r.microcode !== undefined ? `microcode 0x${r.microcode.toString(16)}` : '',
      ].filter(Boolean);
      if (extra.length) ctx.out(`  ${extra.join('  ')}\n`);
      ctx.out('\n');
    });
    for (const m of found.messages) ctx.out(`KERNEL: "Machine check: ${m}"\n`);
    if (found.panic) ctx.out(` PANIC: "${found.panic}"\n`);
  },
};
