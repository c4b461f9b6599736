/**
 * DebugInfo: the vmlinux's DWARF as the program model uses it: types by their
 * C spelling, global variables, functions and enumerators by name, through
 * the name index (name-index.ts, cached on disk by name-cache.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BadDataError } from '../../core/errors.js';
import { ElfFile } from '../elf.js';
import type { EnumeratorInfo, TypeSource, VariableInfo } from '../type-source.js';
import { typeFromSpelling } from '../type-source.js';
import { DW_AT, DW_TAG } from './forms.js';
import { cacheDir, cachePath, loadNameIndex, saveNameIndex } from './name-cache.js';
import { mergeScans, type NameIndex } from './name-index.js';
import { type ScanResult, scanNames } from './name-scan.js';
import { NameSearch, searchUnsupported } from './name-search.js';
import { DwarfReader, type UnitRecord } from './reader.js';
import { type CType, DwarfTypes } from './types.js';

const AT_specification = 0x47;

export type { EnumeratorInfo, VariableInfo } from '../type-source.js';

/**
 * How many threads to index `units` with: from 4 CPUs on, one per CPU up to 8 (the calling thread counts as one
 * unless the build is in the background), at least 4 MB of units each. On this project's loaded 2-CPU machine
 * the calling thread alone beat it and a worker in every run, in wall and CPU time (bench/index.ts: the
 * worker's start and its own warm-up cost more than its half of the scan saved). TSCRASH_INDEX_WORKERS
 * overrides.
 */
function indexThreads(units: UnitRecord[]): number {
  const cpus = availableParallelism();
  const wanted = Number(process.env.TSCRASH_INDEX_WORKERS) || (cpus >= 4 ? Math.min(cpus, 8) : 1);
  const total = units.reduce((n, u) => n + (u.end - u.offset), 0);
  return Math.max(1, Math.min(wanted, 16, Math.ceil(total / (4 << 20))));
}

/**
 * `units` cut into `n` consecutive shares, balanced by bytes; the first share `firstWeight` times the size of
 * the others (the calling thread's, which starts at once while the workers load).
 */
function shareUnits<U extends UnitRecord>(units: U[], n: number, firstWeight = 1): U[][] {
  const total = units.reduce((t, u) => t + (u.end - u.offset), 0);
  const weights = n - 1 + firstWeight;
  const shares: U[][] = [];
  let cur: U[] = [];
  let bytes = 0;
  for (const u of units) {
    cur.push(u);
    bytes += u.end - u.offset;
    const goal = (total * (firstWeight + shares.length)) / weights;
    if (bytes >= goal && shares.length < n - 1) {
      shares.push(cur);
      cur = [];
    }
  }
  shares.push(cur);
  return shares;
}

/**
 * Scan shares of the units in worker threads, each reading only its units' bytes (a run at a time); the
 * scans come back as typed arrays moved, not copied, and are merged in unit order by the caller.
 */
function scanInWorkers(path: string, shares: UnitRecord[][], background: boolean): Promise<ScanResult[]> {
  const here = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const script = new URL(`./name-worker${here}`, import.meta.url);
  return Promise.all(
    shares.map(
      (share) =>
        new Promise<ScanResult>((resolve, reject) => {
          // From TypeScript sources (tests under tsx), the worker registers tsx itself before loading the script.
          const w =
            here === '.ts'
              ? new Worker(
                  `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(script.href)}); })`,
                  { eval: true, workerData: { path, units: share } },
                )
              : new Worker(script, { workerData: { path, units: share } });
          // A background build does not keep a session that has ended alive.
          if (background) w.unref();
          w.once(
            'message',
            (m: { ok: boolean; idx?: ScanResult; message?: string; file?: string; offset?: number }) => {
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
}

export interface DebugInfoOptions {
  cacheDir?: string;
  /**
   * With no cached index: 'search' (the default) answers lookups by searching .debug_info for them
   * (name-search.ts) until building the index would have cost less; 'full' builds the index at once.
   * TSCRASH_INDEX=full|search overrides.
   */
  index?: 'search' | 'full';
  /** The link-time addresses of the ELF symbols with a name (the search finds variables by address). */
  addressesOf?: (name: string) => bigint[];
  /**
   * A relocatable object's (a module's) section load addresses, by section name: its DWARF's addresses are
   * then the loaded module's.
   */
  sectionAddresses?: ReadonlyMap<string, bigint>;
}

type Kind = 'types' | 'variables' | 'functions' | 'enumerators';

export class DebugInfo implements TypeSource {
  readonly source = 'dwarf' as const;
  readonly types: DwarfTypes;
  /** The full name index, once built or loaded. */
  private index: NameIndex | undefined;
  /** Before it: the targeted search. */
  private search: NameSearch | undefined;
  private building: Promise<void> | undefined;

  private constructor(
    readonly elf: ElfFile,
    reader: DwarfReader,
    private readonly cache: { dir: string; buildId: string | undefined; size: number },
  ) {
    this.types = new DwarfTypes(reader);
    this.types.setLookup((name) => this.lookup('types', name) as number | undefined);
  }

  /**
   * Open a vmlinux's debug info. The name index comes from the on-disk cache (keyed by build-id) when it is
   * there; .debug_info is then read a unit at a time as lookups need it. Without a cache entry, lookups are
   * answered by a targeted search of .debug_info (name-search.ts) and the full index is built (and saved)
   * when the searches have cost about what it does, when something needs every name, or by `buildIndex()`.
   */
  static async open(vmlinuxPath: string, opts: DebugInfoOptions = {}): Promise<DebugInfo> {
    const elf = ElfFile.open(vmlinuxPath);
    try {
      for (const [name, addr] of opts.sectionAddresses ?? []) if (elf.section(name)) elf.setSectionAddress(name, addr);
      const buildId = elf.buildId;
      const size = elf.section('.debug_info')?.size ?? 0;
      const dir = cacheDir(opts.cacheDir);
      const cached = buildId ? loadNameIndex(dir, buildId, size) : undefined;
      if (cached) {
        const d = new DebugInfo(elf, new DwarfReader(elf, { units: cached.units }), { dir, buildId, size });
        d.index = cached.index;
        return d;
      }
      const units = DwarfReader.unitRecords(elf);
      const reader = new DwarfReader(elf, { units });
      const d = new DebugInfo(elf, reader, { dir, buildId, size });
      const mode =
        process.env.TSCRASH_INDEX === 'full' || process.env.TSCRASH_INDEX === 'search'
          ? process.env.TSCRASH_INDEX
          : opts.index;
      if (mode !== 'full' && searchUnsupported(elf, reader.units) === undefined) {
        d.search = new NameSearch(reader, elf, opts.addressesOf);
      } else await d.buildIndex();
      return d;
    } catch (e) {
      elf.close();
      throw e;
    }
  }

  /** What was wrong in the file's debug info (units skipped as damaged), one message each. */
  readonly warnings: string[] = [];

  /** The cache file the index is kept in (undefined without a build-id). */
  get cacheFile(): string | undefined {
    const { dir, buildId, size } = this.cache;
    return buildId ? cachePath(dir, buildId, size) : undefined;
  }

  /** Whether the full name index is built (or loaded from the cache). */
  get indexed(): boolean {
    return this.index !== undefined;
  }

  /**
   * Build the full name index and save it to the cache: this thread scans a share of the units while worker
   * threads scan the others (one thread per CPU), or, in the `background` (a session that must stay
   * responsive), workers scan them all.
   */
  buildIndex(opts: { background?: boolean } = {}): Promise<void> {
    if (this.index) return Promise.resolve();
    const reader = this.types.reader;
    const units = reader.units;
    const background = opts.background ?? false;
    // In the background every share is a worker's (at least one).
    const n = background ? Math.max(1, indexThreads(units) - 1) : indexThreads(units);
    if (!background && n === 1) {
      this.buildIndexNow();
      return Promise.resolve();
    }
    this.building ??= (async () => {
      if (background) {
        const parts = await scanInWorkers(this.elf.path, shareUnits(reader.unitRecords(), n), true);
        if (!this.index) this.adopt(parts);
        return;
      }
      // The workers start first; while they load, this thread starts on its share (it merges after).
      const shares = shareUnits(units, n);
      const rest = shareUnits(reader.unitRecords(), n).slice(1);
      const others = scanInWorkers(this.elf.path, rest, false);
      let mine: ScanResult;
      try {
        mine = scanNames(reader, { share: shares[0]! });
      } catch (e) {
        await others.catch(() => undefined);
        throw e;
      }
      const parts = [mine, ...(await others)];
      if (!this.index) this.adopt(parts);
    })();
    return this.building;
  }

  /** Build the index here and now (a lookup that needs every name, or searches that cost too much). */
  private buildIndexNow(): NameIndex {
    if (this.index) return this.index;
    const reader = this.types.reader;
    return this.adopt([scanNames(reader)]);
  }

  private adopt(parts: ScanResult[]): NameIndex {
    const reader = this.types.reader;
    const idx = mergeScans(parts, reader);
    this.index = idx;
    this.search = undefined;
    for (const d of idx.damaged ?? [])
      this.warnings.push(
        `${this.elf.path}: the .debug_info unit at 0x${d.unit.toString(16)} is damaged and was skipped (${d.message}); names are answered from the other units`,
      );
    const { dir, buildId, size } = this.cache;
    // An index of a damaged file is not cached: the intact file of the same build-id must not get it.
    if (buildId && !idx.damaged) saveNameIndex(dir, buildId, size, { index: idx, units: reader.unitRecords() });
    return idx;
  }

  private lookup(kind: Kind, key: string): number | [number, number] | undefined {
    if (this.index) return this.index[kind].get(key);
    const s = this.search;
    if (!s) return this.buildIndexNow()[kind].get(key);
    const v = s.lookup(kind, key);
    // Searching reads about 16 times faster than indexing: once the searches have cost half of what the
    // index does, the rest of the session is better served by the index.
    if (s.bytesIndexed + s.bytesSearched / 16 > s.sectionSize / 2) this.buildIndexNow();
    return v;
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

  /** Modules' debug info, searched after this file's (`mod -s`), by module name. */
  private readonly modules = new Map<string, DebugInfo>();

  attachModule(name: string, d: DebugInfo): void {
    this.modules.get(name)?.close();
    this.modules.set(name, d);
  }

  detachModule(name: string): boolean {
    const d = this.modules.get(name);
    if (!d) return false;
    d.close();
    this.modules.delete(name);
    return true;
  }

  get attachedModules(): ReadonlyMap<string, DebugInfo> {
    return this.modules;
  }

  /** The first answer of this file, then of each attached module in the order they were loaded. */
  private orModules<T>(own: T | undefined, f: (d: DebugInfo) => T | undefined): T | undefined {
    if (own !== undefined) return own;
    for (const d of this.modules.values()) {
      const v = f(d);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  findType(spelling: string): CType | undefined {
    return this.orModules(this.ownType(spelling), (d) => d.findType(spelling));
  }

  findVariable(name: string): VariableInfo | undefined {
    return this.orModules(this.ownVariable(name), (d) => d.findVariable(name));
  }

  findFunction(name: string): VariableInfo | undefined {
    return this.orModules(this.ownFunction(name), (d) => d.findFunction(name));
  }

  findEnumerator(name: string): EnumeratorInfo | undefined {
    return this.orModules(this.ownEnumerator(name), (d) => d.findEnumerator(name));
  }

  private ownType(spelling: string): CType | undefined {
    return typeFromSpelling(spelling, (name) => {
      const off = this.lookup('types', name) as number | undefined;
      return off === undefined ? undefined : this.types.typeAt(off);
    });
  }

  private ownVariable(name: string): VariableInfo | undefined {
    const off = this.lookup('variables', name) as number | undefined;
    if (off === undefined) return undefined;
    return { name, type: this.typeOfDie(off), dieOffset: off };
  }

  private ownFunction(name: string): VariableInfo | undefined {
    const off = this.lookup('functions', name) as number | undefined;
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

  private ownEnumerator(name: string): EnumeratorInfo | undefined {
    const hit = this.lookup('enumerators', name) as [number, number] | undefined;
    if (!hit) return undefined;
    const e = { die: hit[0], enumDie: hit[1] };
    const d = this.types.reader.readDie(e.die);
    const v = d?.attrs.get(DW_AT.const_value);
    const value = typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
    return { name, value, type: this.types.typeAt(e.enumDie) };
  }

  typeNames(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.buildIndexNow().types.keys()) if (k.startsWith(prefix)) out.push(k);
    for (const d of this.modules.values()) out.push(...d.typeNames(prefix));
    return [...new Set(out)].sort();
  }

  close(): void {
    for (const d of this.modules.values()) d.close();
    this.modules.clear();
    this.elf.close();
  }
}
