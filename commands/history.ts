import { inputState } from './lib/input.js';
import type { Command } from './registry.js';

/** h: the session's command lines, numbered as `r N` and `!N` take them. */
export interface HistoryResult {
  entries: { number: number; line: string }[];
}

export const history: Command<HistoryResult> = {
  resultType: 'HistoryResult',
  name: 'h',
  aliases: ['history'],
  usesTypes: false,
  summary: 'the command lines of this session, numbered (r N runs one again)',
  help: `NAME
  h - the command history

SYNOPSIS
  h
  history

DESCRIPTION
  Lists the command lines entered in this session, numbered from 1, as crash
  does. A line run again is kept as the command it ran; h itself is not kept.
  To run a line again:

      r          the last line (also !!)
      r N        line N (also !N, unless N is a program on PATH)
      r PREFIX   the newest line that starts with PREFIX

  The re-run line is shown after the prompt, then its output. Up and down (or
  Ctrl-P and Ctrl-N) walk the history kept across sessions in ~/.tscrash_history.
`,
  run(ctx): HistoryResult {
    return { entries: inputState(ctx.program).history.map((line, i) => ({ number: i + 1, line })) };
  },
  text(r, ctx) {
    ctx.out(r.entries.map((e) => `[${e.number}] ${e.line}\n`).join(''));
  },
};
