/**
 * DebugInfo: the vmlinux's DWARF as the program model uses it: types by their
 * C spelling, global variables, functions and enumerators by name, through
 * the name index (name-index.ts, cached on disk by name-cache.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BadDataError } from '../../core/errors.js';
import { ElfFile } from '../elf.js';
import { DW_AT, DW_TAG } from './forms.js';
import { cacheDir, loadNameIndex, saveNameIndex } from './name-cache.js';
import { buildNameIndex, mergeNameIndexes, type NameIndex, type PartialIndex } from './name-index.js';
import { DwarfReader, type UnitRecord } from './reader.js';
import { type CType, DwarfTypes } from './types.js';

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

/**
 * Build the name index with worker threads, each scanning a contiguous share of the units (balanced by
 * bytes) and reading only those; merged in unit order. One share is scanned here when there is one CPU.
 */
async function scanInParallel(path: string, units: UnitRecord[]): Promise<PartialIndex[]> {
  const total = units.reduce((n, u) => n + (u.end - u.offset), 0);
  // On this project's 2-CPU machine two workers each took as long as one thread doing all the units (2.2 s vs
  // 2.35 s: the CPUs do not scale for this), so workers are used from 4 CPUs on; TSCRASH_INDEX_WORKERS overrides.
  const cpus = availableParallelism();
  const wanted = Number(process.env.TSCRASH_INDEX_WORKERS) || (cpus >= 4 ? Math.min(cpus - 1, 8) : 1);
  const n = Math.max(1, Math.min(wanted, 16, Math.ceil(total / (4 << 20))));
  const shares: UnitRecord[][] = [];
  let cur: UnitRecord[] = [];
  let bytes = 0;
  for (const u of units) {
    cur.push(u);
    bytes += u.end - u.offset;
    if (bytes >= (total * (shares.length + 1)) / n && shares.length < n - 1) {
      shares.push(cur);
      cur = [];
    }
  }
  shares.push(cur);
  if (shares.length === 1) {
    const elf = ElfFile.open(path);
    try {
      return [buildNameIndex(new DwarfReader(elf, { units }), { deferSpecifications: true })];
    } finally {
      elf.close();
    }
  }
  const here = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const script = new URL(`./name-worker${here}`, import.meta.url);
  const parts = await Promise.all(
    shares.map(
      (share) =>
        new Promise<PartialIndex>((resolve, reject) => {
          // From TypeScript sources (tests under tsx), the worker registers tsx itself before loading the script.
          const w =
            here === '.ts'
              ? new Worker(
                  `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); })`,
                  { eval: true, workerData: { path, units: share } },
                )
              : new Worker(script, { workerData: { path, units: share } });
          w.once(
            'message',
            (m: { ok: boolean; idx?: PartialIndex; message?: string; file?: string; offset?: number }) => {
              if (m.ok && m.idx) resolve(m.idx);
              else reject(new BadDataError(m.message ?? 'DWARF index worker failed', m.file ?? path, m.offset ?? 0));
              void w.terminate();
            },
          );
          w.once('error', reject);
          w.once('exit', (code) => {
            if (code !== 0) reject(new Error(`DWARF index worker exited with code ${code}`));
          });
        }),
    ),
  );
  return parts;
}

export class DebugInfo {
  readonly types: DwarfTypes;
  private index: NameIndex = { types: new Map(), variables: new Map(), functions: new Map(), enumerators: new Map() };
  // The index's maps, read through the index (a cached index builds each map on first use).
  private get typeIndex(): Map<string, number> {
    return this.index.types;
  }
  private get variables(): Map<string, number> {
    return this.index.variables;
  }
  private get functions(): Map<string, number> {
    return this.index.functions;
  }
  private get enumerators(): Map<string, [number, number]> {
    return this.index.enumerators;
  }

  private constructor(
    readonly elf: ElfFile,
    reader: DwarfReader,
  ) {
    this.types = new DwarfTypes(reader);
  }

  /**
   * Open a vmlinux's debug info: the name index comes from the on-disk cache (keyed by build-id), and then
   * .debug_info is read a unit at a time as lookups need it; without a cache entry the whole section is
   * scanned once and the index saved.
   */
  static async open(vmlinuxPath: string, opts: { cacheDir?: string } = {}): Promise<DebugInfo> {
    const elf = ElfFile.open(vmlinuxPath);
    try {
      const buildId = elf.buildId;
      const size = elf.section('.debug_info')?.size ?? 0;
      const dir = cacheDir(opts.cacheDir);
      const cached = buildId ? loadNameIndex(dir, buildId, size) : undefined;
      let d: DebugInfo;
      let idx: NameIndex;
      if (cached) {
        d = new DebugInfo(elf, new DwarfReader(elf, { units: cached.units }));
        idx = cached.index;
      } else {
        const units = DwarfReader.unitRecords(elf);
        const parts = await scanInParallel(vmlinuxPath, units);
        const reader = new DwarfReader(elf, { units });
        idx = mergeNameIndexes(parts, (die) => {
          const n = reader.readDie(die)?.attrs.get(DW_AT.name);
          return typeof n === 'string' ? n : undefined;
        });
        d = new DebugInfo(elf, reader);
        if (buildId) saveNameIndex(dir, buildId, size, { index: idx, units });
      }
      d.useIndex(idx);
      return d;
    } catch (e) {
      elf.close();
      throw e;
    }
  }

  private useIndex(idx: NameIndex): void {
    this.index = idx;
    this.types.setIndex(idx.types);
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
    const hit = this.enumerators.get(name);
    if (!hit) return undefined;
    const e = { die: hit[0], enumDie: hit[1] };
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
