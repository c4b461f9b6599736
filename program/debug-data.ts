/**
 * Which kinds of debug data a dump carries in itself, for `tscrash info`: VMCOREINFO, the kernel's kallsyms,
 * its ORC unwind tables and its BTF (each found as the session without a vmlinux finds it).
 */
import { TscrashError } from '../core/errors.js';
import type { DumpDebugData } from '../core/info.js';
import { BtfDebugInfo } from '../symbols/btf/debug-info.js';
import { Btf } from '../symbols/btf/format.js';
import type { Program } from './program.js';

export function dumpDebugData(prog: Program): DumpDebugData {
  const out: DumpDebugData = { vmcoreinfo: prog.dump.vmcoreinfo !== undefined };
  if (!out.vmcoreinfo) return out;
  const note = (what: string, e: unknown): void => {
    if (!(e instanceof TscrashError)) throw e;
    out.problems ??= [];
    out.problems.push(`${what}: ${e.message}`);
  };
  try {
    out.kallsyms = { symbols: prog.symbols.size };
  } catch (e) {
    note('kallsyms', e);
    return out;
  }
  const ip = prog.symbolAddress('__start_orc_unwind_ip');
  const ipEnd = prog.symbolAddress('__stop_orc_unwind_ip');
  if (ip !== undefined && ipEnd !== undefined && ipEnd > ip) out.orc = { entries: Number((ipEnd - ip) / 4n) };
  const start = prog.symbolAddress('__start_BTF');
  const stop = prog.symbolAddress('__stop_BTF');
  if (start !== undefined && stop !== undefined && stop > start) {
    out.btf = { size: Number(stop - start), address: `0x${start.toString(16)}` };
    try {
      const bytes = prog.btfBytes();
      if (bytes) out.btf.types = new BtfDebugInfo(new Btf(bytes, "the dump's BTF")).typeCount;
    } catch (e) {
      note('BTF', e);
    }
  }
  return out;
}
