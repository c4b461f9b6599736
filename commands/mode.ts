/**
 * crash's minimal mode (--minimal): a session for a dump too damaged for the rest, with only the commands that
 * need no start-up work (no task list, no module list): log, dis, rd, sym, eval, set, help and exit.
 */
import type { Program } from '../program/program.js';

/** The commands a minimal session has (and exit / quit / q). */
export const MINIMAL_COMMANDS: readonly string[] = ['log', 'dis', 'rd', 'sym', 'eval', 'set', 'help'];

const minimal = new WeakSet<Program>();

/** Make the program's session a minimal one. */
export function setMinimalMode(program: Program): void {
  minimal.add(program);
}

export function isMinimalMode(program: Program): boolean {
  return minimal.has(program);
}

/** What the runner says of another command in a minimal session. */
export function notInMinimalMode(name: string): string {
  return `${name}: command not available in minimal mode (minimal mode commands: ${MINIMAL_COMMANDS.join(', ')}, exit)`;
}
