/**
 * crash's input conventions, kept per session (per Program): the numbered history of the lines typed (`h`), running
 * one again (`r`, `r N`, `r PREFIX`, `!!`, `!N`), aliases (crash's built-in ones and `alias NAME COMMAND`), and the
 * output radix (`set radix`, `hex`, `dec`) and scroll setting (`set scroll`, `sf`, `sn`) that commands read.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Program } from '../../program/program.js';

/** crash's built-in aliases (all but `g`, gdb's, which tscrash has no command for), in crash's order. */
export const BUILTIN_ALIASES: readonly (readonly [string, string])[] = [
  ['man', 'help'],
  ['?', 'help'],
  ['quit', 'q'],
  ['sf', 'set scroll off'],
  ['sn', 'set scroll on'],
  ['hex', 'set radix 16'],
  ['dec', 'set radix 10'],
  ['px', 'p -x'],
  ['pd', 'p -d'],
  ['for', 'foreach'],
  ['size', '*'],
  ['dmesg', 'log'],
  ['lsmod', 'mod'],
  ['last', 'ps -l'],
];

/** What a session remembers of its input. */
export interface InputState {
  /** The lines typed, oldest first: `h` shows entry i as `[i+1] LINE`. */
  history: string[];
  /** Aliases made with `alias NAME COMMAND` this session (they take precedence over the built-in ones). */
  aliases: Map<string, string>;
  /** The default integer radix of p, struct, union and * (`set radix`, `hex`, `dec`): crash's is 10. */
  radix: 10 | 16;
  /** Whether long output goes through a pager (`set scroll`, `sf`, `sn`); the line mode acts on it. */
  scroll: boolean;
}

const states = new WeakMap<Program, InputState>();

export function inputState(prog: Program): InputState {
  let s = states.get(prog);
  if (!s) {
    s = { history: [], aliases: new Map(), radix: 10, scroll: true };
    states.set(prog, s);
  }
  return s;
}

/** The command an alias stands for: the session's own first, then crash's built-in ones. */
export function aliasFor(prog: Program, name: string): string | undefined {
  return inputState(prog).aliases.get(name) ?? BUILTIN_ALIASES.find(([a]) => a === name)?.[1];
}

/** `h` / `history`: shows the history, and is not itself kept in it (as in crash). */
export function isHistoryCommand(line: string): boolean {
  return /^(h|history)$/.test(line.trim());
}

/** Whether an executable of that name is on PATH (then `!N` runs it: crash's rule). */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return true;
      }
    } catch {
      // not there
    }
  }
  return false;
}

/**
 * A request to run a line of the history again: `r` or `!!` (the last), `r N` or `!N` (number N), `r PREFIX` (the
 * newest starting with PREFIX). Gives the line to run, or an error in crash's words; undefined for any other line.
 */
export function repeatRequest(
  history: readonly string[],
  line: string,
): { line: string } | { error: string } | undefined {
  const t = line.trim();
  let which: string | undefined;
  if (t === 'r' || t === '!!') which = '';
  else if (t.startsWith('r ')) which = t.slice(2).trim();
  else {
    const bang = /^!(\d+)$/.exec(t);
    if (!bang || onPath(bang[1]!)) return undefined;
    which = bang[1]!;
  }
  if (which === '') {
    const last = history[history.length - 1];
    return last === undefined ? { error: 'no command entered yet' } : { line: last };
  }
  if (/^\d+$/.test(which)) {
    const n = Number(which);
    const got = n >= 1 ? history[n - 1] : undefined;
    return got === undefined ? { error: `command ${which} not entered yet` } : { line: got };
  }
  for (let i = history.length - 1; i >= 0; i--) if (history[i]!.startsWith(which)) return { line: history[i]! };
  return { error: `invalid repeat request: ${t}` };
}
