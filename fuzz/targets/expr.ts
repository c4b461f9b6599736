/**
 * gdb-style expressions (commands/lib/expr.ts) on the real sysrq sample (its kdump-c-d31 file, types from the
 * dump's BTF): lexing, parsing (nesting bounded), casts, member access, arithmetic, memory reads of the result.
 * The seed corpus is expressions; the Program is opened once (TSCRASH_FUZZ_VMCORE), the first run waits for it.
 */
import { evaluate } from '../../commands/lib/expr.js';
import { Program } from '../../program/index.js';
import { refused } from '../lib/harness.js';

let prog: Program | undefined;
let loading: Promise<void> | undefined;

function run(text: string): void {
  const p = prog!;
  const r = refused(() => evaluate(p, text));
  if (!r.ok) return;
  const o = r.value;
  refused(() => o.toString());
  if (o.type.kind === 'base' || o.type.kind === 'pointer' || o.type.kind === 'enum') refused(() => o.value());
  else refused(() => o.bytes().length);
}

export function fuzz(data: Buffer): Promise<void> | undefined {
  const text = data.toString('latin1');
  if (prog) {
    run(text);
    return undefined;
  }
  loading ??= (async () => {
    const vmcore = process.env.TSCRASH_FUZZ_VMCORE;
    if (!vmcore) throw new Error('TSCRASH_FUZZ_VMCORE is not set (fuzz/run.ts sets it from the sysrq sample)');
    prog = await Program.load({ vmcore });
  })();
  return loading.then(() => run(text));
}
