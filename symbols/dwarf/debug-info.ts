/**
 * DebugInfo: the vmlinux's DWARF as the program model uses it: types by their
 * C spelling, global variables, functions and enumerators by name.
 * (Coordinator's first, single-threaded version: a scan of the unit-level DIEs.
 * The "dwarf" helper replaces the index with the fast, cached one; the API stays.)
 */
import { ElfFile } from '../elf.js';
import { DW_AT, DW_TAG } from './forms.js';
import type { Die } from './reader.js';
import { type CType, DwarfTypes } from './types.js';

const AT_location = 0x02;
const AT_specification = 0x47;

export interface VariableInfo {
  name: string;
  type: CType;
  dieOffset: number;
}
export interface EnumeratorInfo {
  name: string;
  value: bigint;
  type: CType;
}

/** C spellings of base types → DWARF's names (gcc's). */
const BASE_SYNONYMS: Record<string, string> = {
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

export class DebugInfo {
  readonly types: DwarfTypes;
  private readonly variables = new Map<string, number>();
  private readonly functions = new Map<string, number>();
  private readonly enumerators = new Map<string, { die: number; enumDie: number }>();
  private typeIndex: Map<string, number> = new Map();

  private constructor(readonly elf: ElfFile) {
    this.types = new DwarfTypes(elf);
  }

  static async open(vmlinuxPath: string, _opts: { cacheDir?: string } = {}): Promise<DebugInfo> {
    const d = new DebugInfo(ElfFile.open(vmlinuxPath));
    d.scan();
    return d;
  }

  private scan(): void {
    this.typeIndex = this.types.buildIndex();
    const r = this.types.reader;
    for (const unit of r.units) {
      const cu = r.readDie(unit.dieOffset, unit);
      if (!cu) continue;
      for (const d of r.childrenOf(cu)) {
        if (d.tag === DW_TAG.variable) this.addVariable(d);
        else if (d.tag === DW_TAG.subprogram) {
          const name = this.nameOf(d);
          if (name && !this.functions.has(name) && d.attrs.get(DW_AT.declaration) !== true)
            this.functions.set(name, d.offset);
        } else if (d.tag === DW_TAG.enumeration_type) {
          for (const c of r.childrenOf(d)) {
            if (c.tag !== DW_TAG.enumerator) continue;
            const n = c.attrs.get(DW_AT.name);
            if (typeof n === 'string' && !this.enumerators.has(n))
              this.enumerators.set(n, { die: c.offset, enumDie: d.offset });
          }
        }
      }
    }
  }

  private nameOf(d: Die): string | undefined {
    const n = d.attrs.get(DW_AT.name);
    if (typeof n === 'string') return n;
    const spec = d.attrs.get(AT_specification);
    if (typeof spec === 'number') {
      const s = this.types.reader.readDie(spec);
      const sn = s?.attrs.get(DW_AT.name);
      if (typeof sn === 'string') return sn;
    }
    return undefined;
  }

  private addVariable(d: Die): void {
    const name = this.nameOf(d);
    if (!name) return;
    const hasLocation = d.attrs.has(AT_location);
    const prev = this.variables.get(name);
    if (prev === undefined) {
      this.variables.set(name, d.offset);
      return;
    }
    // Prefer a definition (with a location) over a declaration.
    if (hasLocation) {
      const p = this.types.reader.readDie(prev);
      if (p && !p.attrs.has(AT_location)) this.variables.set(name, d.offset);
    }
  }

  private typeOfDie(offset: number): CType {
    const r = this.types.reader;
    let d = r.readDie(offset);
    for (let i = 0; d && i < 4; i++) {
      const t = d.attrs.get(DW_AT.type);
      if (typeof t === 'number') return this.types.typeAt(t);
      const spec = d.attrs.get(AT_specification);
      if (typeof spec !== 'number') break;
      d = r.readDie(spec);
    }
    return { kind: 'void' };
  }

  findType(spelling: string): CType | undefined {
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
      const off = this.typeIndex.get(s) ?? this.typeIndex.get(BASE_SYNONYMS[s] ?? '');
      if (off === undefined) return undefined;
      t = this.types.typeAt(off);
    }
    for (const q of quals) t = { kind: 'qualified', qualifier: q, target: t };
    for (let i = 0; i < stars; i++) t = { kind: 'pointer', target: t, size: 8 };
    if (dims.length) t = { kind: 'array', element: t, counts: dims.map((d) => (Number.isNaN(d) ? undefined : d)) };
    return t;
  }

  findVariable(name: string): VariableInfo | undefined {
    const off = this.variables.get(name);
    if (off === undefined) return undefined;
    return { name, type: this.typeOfDie(off), dieOffset: off };
  }

  findFunction(name: string): VariableInfo | undefined {
    const off = this.functions.get(name);
    if (off === undefined) return undefined;
    const r = this.types.reader;
    const d = r.readDie(off);
    const ret = this.typeOfDie(off);
    const params: CType[] = [];
    let variadic = false;
    if (d) {
      for (const c of r.childrenOf(d)) {
        if (c.tag === DW_TAG.formal_parameter) {
          const t = c.attrs.get(DW_AT.type);
          params.push(typeof t === 'number' ? this.types.typeAt(t) : { kind: 'void' });
        } else if (c.tag === DW_TAG.unspecified_parameters) variadic = true;
      }
    }
    return { name, type: { kind: 'function', ret, params, variadic }, dieOffset: off };
  }

  findEnumerator(name: string): EnumeratorInfo | undefined {
    const e = this.enumerators.get(name);
    if (!e) return undefined;
    const d = this.types.reader.readDie(e.die);
    const v = d?.attrs.get(DW_AT.const_value);
    const value = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
    return { name, value, type: this.types.typeAt(e.enumDie) };
  }

  typeNames(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.typeIndex.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort();
  }

  close(): void {
    this.elf.close();
  }
}
