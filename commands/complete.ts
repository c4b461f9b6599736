/**
 * Completion of a command line, for the line mode and the TUI: command names first; after a command, file paths
 * after `>` (or `>>`), struct/union members after `TYPE.` or an expression's `.` / `->`, struct/union names after
 * the type commands, else kernel symbols.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Program } from '../program/program.js';
import type { CType } from '../symbols/dwarf/types.js';
import { flatMembers } from '../symbols/dwarf/types.js';
import { commandNames } from './registry.js';

export interface Completion {
  /** The words that may replace `word`. */
  candidates: string[];
  /** The part of the line being completed (its end). */
  word: string;
}

const LIMIT = 200;

function strip(t: CType): CType {
  let x = t;
  for (let i = 0; i < 64 && (x.kind === 'typedef' || x.kind === 'qualified'); i++) x = x.target;
  return x;
}

/** File names that begin with `word` (a path relative to the working directory, or absolute). */
function completePath(word: string): string[] {
  const slash = word.lastIndexOf('/');
  const prefix = word.slice(0, slash + 1);
  const dir = prefix || '.';
  const base = word.slice(slash + 1);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    if (!n.startsWith(base) || (n.startsWith('.') && !base.startsWith('.'))) continue;
    let mark = '';
    try {
      if (statSync(join(dir, n)).isDirectory()) mark = '/';
    } catch {
      // A dangling link: offered as it is.
    }
    out.push(`${prefix}${n}${mark}`);
    if (out.length >= LIMIT) break;
  }
  return out;
}

/** The type an expression's path names: `init_task`, `init_task.mm`, `struct task_struct` (for `TYPE.member`). */
function typeOfPath(program: Program, root: string, path: string[], isType: boolean): CType | undefined {
  if (!program.hasDebugInfo) return undefined;
  const debug = program.debug;
  let t: CType | undefined;
  if (isType) {
    t = debug.findType(root) ?? debug.findType(`struct ${root}`) ?? debug.findType(`union ${root}`);
  } else {
    t = debug.findVariable(root)?.type;
  }
  for (const m of path) {
    if (!t) return undefined;
    let s = strip(t);
    if (s.kind === 'pointer') s = strip(s.target);
    if (s.kind === 'array') s = strip(s.element);
    const found = flatMembers(s).find((x) => x.name === m);
    t = found?.member.type;
  }
  if (!t) return undefined;
  let s = strip(t);
  if (s.kind === 'pointer') s = strip(s.target);
  if (s.kind === 'array') s = strip(s.element);
  return s;
}

/** Member names of a struct or union type that begin with `prefix`. */
function memberNames(t: CType | undefined, prefix: string): string[] {
  if (!t || (t.kind !== 'struct' && t.kind !== 'union')) return [];
  return [...new Set(flatMembers(t).map((m) => m.name))].filter((n) => n.startsWith(prefix)).slice(0, LIMIT);
}

export function completeLine(program: Program | undefined, line: string): Completion {
  // After a redirection: file paths.
  const redir = /(?:^|[^-])>>?\s*(\S*)$/.exec(line);
  if (redir && /\S/.test(line.slice(0, redir.index + 1)))
    return { candidates: completePath(redir[1]!), word: redir[1]! };
  const words = line.split(/\s+/);
  const word = words.pop() ?? '';
  if (words.length === 0 || (words.length === 1 && words[0] === '')) {
    const names = [...new Set([...commandNames(), 'q', 'exit'])].sort();
    return { candidates: names.filter((n) => n.startsWith(word)), word };
  }
  if (!program?.hasDebugInfo) return { candidates: [], word };
  const cmd = words.find((w) => w !== '')!.replace(/^\*/, '');
  // Members: `task_struct.pi` (after struct/union/*), `init_task.m`, `init_task->mm->p`.
  const member = /^(.*?)((?:\.|->))([A-Za-z_]\w*)?$/.exec(word);
  if (member && program.hasDebugInfo && /^[A-Za-z_]/.test(word)) {
    const whole = member[1]!;
    const parts = whole.split(/\.|->/);
    const root = parts.shift()!;
    const isType = ['struct', 'union', '*', ''].includes(cmd) && !program.debug.findVariable(root);
    const t = typeOfPath(program, root, parts, isType);
    const prefix = member[3] ?? '';
    const head = word.slice(0, word.length - prefix.length);
    const names = memberNames(t, prefix).map((n) => `${head}${n}`);
    return { candidates: names, word };
  }
  if (word.length < 2) return { candidates: [], word };
  if (program.hasDebugInfo && program.debug.indexed && ['struct', 'union', 'whatis', 'ptype', '*', ''].includes(cmd)) {
    const kinds =
      cmd === 'union' ? ['union '] : cmd === 'struct' || cmd === '' ? ['struct '] : ['struct ', 'union ', ''];
    const types = kinds.flatMap((k) => program.debug.typeNames(`${k}${word}`).map((n) => n.slice(k.length)));
    if (types.length) return { candidates: [...new Set(types)].slice(0, LIMIT), word };
  }
  return { candidates: program.symbols.complete(word, LIMIT), word };
}
