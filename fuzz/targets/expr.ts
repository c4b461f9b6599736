/**
 * gdb-style expressions (commands/lib/expr.ts) on the real sysrq sample (its kdump-c-d31 file, types from the
 * dump's BTF): lexing, parsing (nesting bounded), casts, member access, arithmetic, memory reads of the result.
 * The seed corpus is expressions; the Program is opened once, when the module loads (TSCRASH_FUZZ_VMCORE).
 */
import { evaluate } from '../../commands/lib/expr.js';
import { Program } from '../../program/index.js';
import { refused } from '../lib/harness.js';

// Opened when the fuzzer loads this module, before libFuzzer starts timing runs.
const vmcore = process.env.TSCRASH_FUZZ_VMCORE;
if (!vmcore) throw new Error('TSCRASH_FUZZ_VMCORE is not set (fuzz/run.ts sets it from the sysrq sample)');
const prog = Program.open({ vmcore });
prog.loadBtf();

export function fuzz(data: Buffer): void {
  const text = data.toString('latin1');
  const r = refused(() => evaluate(prog, text));
  if (!r.ok) return;
  const o = r.value;
  refused(() => o.toString());
  if (o.type.kind === 'base' || o.type.kind === 'pointer' || o.type.kind === 'enum') refused(() => o.value());
  else refused(() => o.bytes().length);
}
