/**
 * The session's command lines (commands/runner.ts: redirections, pipes, `!`, words; commands/lib/calc.ts: crash's
 * numbers and `eval` expressions; cli/session.ts: --kaslr's value). calc's CalcError and DivisionByZero are its
 * documented refusals (eval turns them into crash's messages).
 */

import { UsageError } from '../../cli/errors.js';
import { parseKaslr } from '../../cli/session.js';
import { CalcError, calculate, crashWords, DivisionByZero, evalExpression } from '../../commands/lib/calc.js';
import { parseLine, splitWords } from '../../commands/runner.js';
import { refused } from '../lib/harness.js';

const calcErrors = [CalcError, DivisionByZero];
const lookup = (name: string): bigint | undefined => (name === 'jiffies' ? 0xffffffff82a05c00n : undefined);

export function fuzz(data: Buffer): void {
  const line = data.toString('latin1');
  refused(() => parseLine(line));
  refused(() => splitWords(line));
  const words = refused(() => crashWords(line));
  refused(() => evalExpression(line, lookup), calcErrors);
  if (words.ok) for (const w of words.value.slice(0, 16)) refused(() => calculate(w, lookup), calcErrors);
  refused(() => parseKaslr(line), [UsageError]);
}
