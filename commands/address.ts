/** Address arguments as crash takes them: hex with or without 0x, or a symbol name. */
import { CommandError, type Program } from '../program/index.js';

export function parseAddress(prog: Program, arg: string): bigint {
  if (/^(0x)?[0-9a-f]+$/i.test(arg)) return BigInt(arg.toLowerCase().startsWith('0x') ? arg : `0x${arg}`);
  if (/^\d+$/.test(arg)) return BigInt(arg);
  if (/^[A-Za-z_][\w.]*$/.test(arg)) {
    const v = prog.symbolAddress(arg);
    if (v !== undefined) return v;
    if (prog.vmlinux) throw new CommandError(`invalid symbol: ${arg}`);
    prog.requireDebugInfo(`the symbol ${arg}`);
  }
  throw new CommandError(`invalid address: ${arg}`);
}

export function parseCount(arg: string): number {
  const n = /^0x/i.test(arg) ? Number.parseInt(arg, 16) : Number.parseInt(arg, 10);
  if (!Number.isFinite(n) || n <= 0 || n > 1 << 24) throw new CommandError(`invalid count: ${arg}`);
  return n;
}
