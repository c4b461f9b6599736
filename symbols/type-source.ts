/**
 * What the program model asks of debug info, whichever kind it is: the vmlinux's DWARF (dwarf/debug-info.ts)
 * or the BTF the dump carries (btf/debug-info.ts). Types by their C spelling, variables, functions and
 * enumerators by name.
 */
import type { CType } from './dwarf/types.js';

export interface VariableInfo {
  name: string;
  type: CType;
  /** Where the debug info describes it (a DIE offset, a BTF type id). */
  dieOffset: number;
}
export interface EnumeratorInfo {
  name: string;
  value: bigint;
  type: CType;
}

export interface TypeSource {
  /** What kind it is: 'dwarf' (a vmlinux) or 'btf' (from the dump's memory). */
  readonly source: 'dwarf' | 'btf';
  /** Whether every name is indexed (completion lists names only then). */
  readonly indexed: boolean;
  findType(spelling: string): CType | undefined;
  findVariable(name: string): VariableInfo | undefined;
  findFunction(name: string): VariableInfo | undefined;
  findEnumerator(name: string): EnumeratorInfo | undefined;
  /** Type names (`struct task_struct`, `pid_t`) starting with `prefix`. */
  typeNames(prefix: string): string[];
  /** Build the full name index (DWARF; BTF's is made on the first lookup). */
  buildIndex(opts?: { background?: boolean }): Promise<void>;
  close(): void;
}

/** C spellings of base types → DWARF's names (gcc's, which BTF keeps). */
export const BASE_SYNONYMS: Record<string, string> = {
  unsigned: 'unsigned int',
  signed: 'int',
  'signed int': 'int',
  long: 'long int',
  'signed long': 'long int',
  'long signed int': 'long int',
  'unsigned long': 'long unsigned int',
  'unsigned long int': 'long unsigned int',
  'long long': 'long long int',
  'signed long long': 'long long int',
  'unsigned long long': 'long long unsigned int',
  'unsigned long long int': 'long long unsigned int',
  short: 'short int',
  'signed short': 'short int',
  'unsigned short': 'short unsigned int',
  'unsigned short int': 'short unsigned int',
  bool: '_Bool',
};

/**
 * A type from its C spelling: `struct page *`, `const char [16]`, `unsigned long`; `named` finds a named type
 * (`struct page`, `char`, `long unsigned int`) in the debug info.
 */
export function typeFromSpelling(spelling: string, named: (name: string) => CType | undefined): CType | undefined {
  let s = spelling.trim().replace(/\s+/g, ' ');
  // Array suffixes: 'char [16]', 'int [2][3]'.
  const dims: number[] = [];
  for (let m = /\s*\[(\d*)\]$/.exec(s); m; m = /\s*\[(\d*)\]$/.exec(s)) {
    dims.unshift(m[1] ? Number(m[1]) : Number.NaN);
    s = s.slice(0, m.index);
  }
  let stars = 0;
  while (s.endsWith('*')) {
    stars++;
    s = s.slice(0, -1).trimEnd();
  }
  const quals: ('const' | 'volatile')[] = [];
  for (
    let m = /^(const|volatile) |(?: (const|volatile))$/.exec(s);
    m;
    m = /^(const|volatile) |(?: (const|volatile))$/.exec(s)
  ) {
    quals.push((m[1] ?? m[2]) as 'const' | 'volatile');
    s = m[1] ? s.slice(m[0].length) : s.slice(0, m.index);
  }
  let t: CType | undefined;
  if (s === 'void') t = { kind: 'void' };
  else {
    const syn = BASE_SYNONYMS[s];
    t = named(s) ?? (syn ? named(syn) : undefined);
    if (!t) return undefined;
  }
  for (const q of quals) t = { kind: 'qualified', qualifier: q, target: t };
  for (let i = 0; i < stars; i++) t = { kind: 'pointer', target: t, size: 8 };
  if (dims.length) t = { kind: 'array', element: t, counts: dims.map((d) => (Number.isNaN(d) ? undefined : d)) };
  return t;
}
