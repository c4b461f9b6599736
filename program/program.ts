/**
 * Program: the crashed kernel as commands and plugins see it: its memory (by
 * physical and kernel virtual address), VMCOREINFO, the registers each CPU had
 * at the crash, and the vmlinux it was built from when one is given.
 */
import type { Dump } from '../core/dump.js';
import { type CpuRegisters, prstatusRegisters } from '../core/elf-notes.js';
import { LookupError, MissingDebugInfoError, TscrashError } from '../core/errors.js';
import { KernelMemory } from '../core/kernel-memory.js';
import { openDump } from '../core/open.js';
import type { VmcoreInfo } from '../core/vmcoreinfo.js';
import { BtfDebugInfo } from '../symbols/btf/debug-info.js';
import { Btf } from '../symbols/btf/format.js';
import { elfIdentity } from '../symbols/build-id.js';
import { cacheDir } from '../symbols/cache-file.js';
import { DebugInfo } from '../symbols/dwarf/debug-info.js';
import type { CType } from '../symbols/dwarf/types.js';
import { ElfFile } from '../symbols/elf.js';
import { type LineInfo, LineTable } from '../symbols/line.js';
import { SymbolTable } from '../symbols/symtab.js';
import type { TypeSource } from '../symbols/type-source.js';
import { BTF_GLOBALS, type CountSource } from './btf-globals.js';
import { readKallsymsArrays } from './kallsyms.js';
import { Obj, offsetOf, strip, typeName } from './object.js';

export interface OpenOptions {
  /** The dump; without one only the vmlinux's types and symbols are available. */
  vmcore?: string;
  vmlinux?: string;
  /** Open even when the vmlinux does not match the dump. */
  force?: boolean;
  /**
   * The KASLR offset (crash's --kaslr OFFSET): how far the kernel text was moved from the vmlinux's link address.
   * Default ('auto'): VMCOREINFO's KERNELOFFSET.
   */
  kaslr?: bigint | 'auto';
  /** Read nothing of the loaded modules (crash's --no_modules): no module list, no module symbols. */
  noModules?: boolean;
}

/** What a file is, for choosing module object files: ELF type, build-id, whether it has DWARF. */
export function objectFileInfo(path: string): { type: number; buildId?: string; dwarf: boolean } | undefined {
  const id = elfIdentity(path);
  if (!id) return undefined;
  let dwarf = false;
  try {
    const elf = ElfFile.open(path);
    try {
      dwarf = elf.section('.debug_info') !== undefined;
    } finally {
      elf.close();
    }
  } catch {
    dwarf = false;
  }
  return { type: id.type, buildId: id.buildId, dwarf };
}

/** A module's debug info loaded by `mod -s`. */
export interface ModuleDebug {
  name: string;
  path: string;
  debug: DebugInfo;
  lines: LineTable;
  /** Where its code is loaded: [start, end) of each executable section. */
  text: [bigint, bigint][];
  /** Names the object file defines as global or weak symbols. */
  globals: Set<string>;
}

const SHF_EXECINSTR = 4;

/**
 * A kernel crash dump and its vmlinux (drgn's Program): memory (`memory`), the per-CPU registers of the crash
 * (`cpus`), VMCOREINFO, the symbols, and the debug info's types and variables (`type`, `variable`, `object`).
 * `tscrash.open` gives one with its debug info loaded.
 */
export class Program {
  private readonly _memory: KernelMemory | undefined;
  private readonly _cpus: CpuRegisters[] | undefined;
  /** Warnings from opening (shown once at session start). */
  readonly warnings: string[] = [];

  /** Nothing of the loaded modules is read (--no_modules): listModules gives none, module symbols are not loaded. */
  readonly noModules: boolean;

  private _vmlinux: string | undefined;

  /**
   * How many times the session's debug data changed under it (`useVmlinux`: BTF to DWARF): what helpers keep
   * per Program and per source of symbols (the modules' kallsyms in the symbol table) is made again when it moves.
   */
  private _epoch = 0;

  private constructor(
    private readonly _dump: Dump | undefined,
    vmlinux: string | undefined,
    opts: OpenOptions = {},
  ) {
    this._vmlinux = vmlinux;
    this.noModules = opts.noModules ?? false;
    if (_dump) {
      for (const w of _dump.warnings) this.warnings.push(`WARNING: ${w}`);
      const kaslr = opts.kaslr === undefined || opts.kaslr === 'auto' ? undefined : opts.kaslr;
      this._memory = new KernelMemory(_dump, undefined, { kaslrOffset: kaslr });
      this._cpus = prstatusRegisters(_dump);
    }
  }

  /** Open the dump (and check the vmlinux against it); types need `loadDebugInfo()` (or use `Program.load`). */
  static open(opts: OpenOptions): Program {
    if (!opts.vmcore) {
      if (!opts.vmlinux) throw new TscrashError('give a vmcore, a vmlinux, or both');
      return new Program(undefined, opts.vmlinux, opts);
    }
    const dump = openDump(opts.vmcore);
    try {
      const p = new Program(dump, opts.vmlinux, opts);
      if (opts.vmlinux) p.checkVmlinux(opts.vmlinux, opts.force ?? false);
      return p;
    } catch (e) {
      dump.close();
      throw e;
    }
  }

  /**
   * Open and load the types: the vmlinux's debug info (its name index built, or read from the on-disk cache), or
   * with no vmlinux the BTF the dump carries (when it has some).
   */
  static async load(opts: OpenOptions & { cacheDir?: string }): Promise<Program> {
    const p = Program.open(opts);
    try {
      if (opts.vmlinux) await p.loadDebugInfo(opts.cacheDir);
      else if (opts.vmcore) await p.loadTypes();
      return p;
    } catch (e) {
      p.close();
      throw e;
    }
  }

  /** The vmlinux the session's symbols and types come from (none: kallsyms and the dump's BTF). */
  get vmlinux(): string | undefined {
    return this._vmlinux;
  }

  /** See `_epoch`. */
  get epoch(): number {
    return this._epoch;
  }

  /**
   * Move a session that started without a vmlinux (kallsyms, the dump's BTF) to this vmlinux's symbols and DWARF
   * (debuginfod's download ended): checked against the dump's build-id, its debug info loaded, then the symbols,
   * types and line numbers come from it. Call it between commands. When the file does not match or its debug info
   * cannot be loaded, the session stays as it was and the error says why.
   */
  async useVmlinux(path: string, cacheDir?: string): Promise<DebugInfo> {
    if (this._vmlinux) throw new TscrashError(`the session has a vmlinux already (${this._vmlinux})`);
    if (!this._dump) this.noDump();
    this.checkVmlinux(path, false);
    const saved = { symtab: this.symtab, btfInfo: this.btfInfo, btfError: this.btfError };
    this._vmlinux = path;
    this.symtab = undefined;
    this.btfInfo = undefined;
    this.btfError = undefined;
    this.typeCache.clear();
    try {
      const d = await this.loadDebugInfo(cacheDir);
      this._epoch++;
      return d;
    } catch (e) {
      this.debugInfo = undefined;
      this.elf?.close();
      this.elf = undefined;
      this.lines = undefined;
      this._vmlinux = undefined;
      this.symtab = saved.symtab;
      this.btfInfo = saved.btfInfo;
      this.btfError = saved.btfError;
      this.typeCache.clear();
      throw e;
    }
  }

  get hasDump(): boolean {
    return this._dump !== undefined;
  }

  private noDump(): never {
    throw new TscrashError('this needs a vmcore: tscrash was started with only a vmlinux');
  }

  get dump(): Dump {
    return this._dump ?? this.noDump();
  }

  get memory(): KernelMemory {
    return this._memory ?? this.noDump();
  }

  get vmcoreinfo(): VmcoreInfo {
    return this.memory.vmcoreinfo;
  }

  get cpus(): CpuRegisters[] {
    return this._cpus ?? this.noDump();
  }

  private debugInfo: DebugInfo | undefined;

  /** Load the vmlinux's debug info (its name index from the on-disk cache, or built); done once. */
  async loadDebugInfo(cacheDir?: string): Promise<DebugInfo> {
    const vmlinux = this._vmlinux;
    if (!vmlinux) this.requireDebugInfo('types');
    let linked: SymbolTable | undefined;
    const had = this.debugInfo !== undefined;
    this.debugInfo ??= await DebugInfo.open(vmlinux, {
      cacheDir,
      // Link-time addresses, as the DWARF has them.
      addressesOf: (name) => {
        linked ??= this.symbols.relocate(0n);
        return linked.lookupAll(name).map((e) => e.address);
      },
    });
    if (!had) for (const w of this.debugInfo.warnings) this.warnings.push(`WARNING: ${w}`);
    return this.debugInfo;
  }

  get hasDebugInfo(): boolean {
    return this.debugInfo !== undefined || this.btfInfo !== undefined;
  }

  /** The debug info types come from: the vmlinux's DWARF, or the BTF in the dump (no vmlinux). */
  get debug(): TypeSource {
    const d = this.debugInfo ?? this.btfInfo;
    if (!d) this.requireDebugInfo('this');
    return d;
  }

  private btfInfo: BtfDebugInfo | undefined;
  private btfError: string | undefined;

  /** Whether types can be loaded: a vmlinux, or a dump whose kernel carries BTF (__start_BTF in kallsyms). */
  get canLoadTypes(): boolean {
    if (this.vmlinux) return true;
    if (!this._memory || this.btfError !== undefined) return false;
    return this.btfRange() !== undefined;
  }

  /**
   * Load the types: the vmlinux's DWARF when there is a vmlinux, else the BTF the dump's kernel carries.
   * Undefined when there is neither (or the dump's BTF is unreadable: `btfError` says why).
   */
  async loadTypes(cacheDir?: string): Promise<TypeSource | undefined> {
    if (this.vmlinux) return this.loadDebugInfo(cacheDir);
    return this.loadBtf();
  }

  /** The vmlinux BTF's place in the dump: [__start_BTF, __stop_BTF), from kallsyms. */
  private btfRange(): [bigint, bigint] | undefined {
    const start = this.symbolAddress('__start_BTF');
    const stop = this.symbolAddress('__stop_BTF');
    if (start === undefined || stop === undefined || stop <= start || stop - start > 1n << 30n) return undefined;
    return [start, stop];
  }

  /** The vmlinux's BTF as the dump has it in memory (undefined when its kernel has none). */
  btfBytes(): Uint8Array | undefined {
    const r = this.btfRange();
    if (!r) return undefined;
    return this.memory.readVirt(r[0], Number(r[1] - r[0]), 'the kernel BTF (__start_BTF..__stop_BTF)');
  }

  /** Why the dump's BTF could not be used, when it could not. */
  get btfLoadError(): string | undefined {
    return this.btfError;
  }

  /** The dump's BTF as the session's types (no vmlinux); read once. */
  loadBtf(): BtfDebugInfo | undefined {
    if (this.btfInfo || this.btfError !== undefined || !this._memory) return this.btfInfo;
    try {
      const r = this.btfRange();
      const bytes = r ? this.btfBytes() : undefined;
      if (!r || !bytes) return undefined;
      const btf = new Btf(bytes, `the dump's BTF (__start_BTF at 0x${r[0].toString(16)})`);
      this.btfInfo = new BtfDebugInfo(btf, {
        declared: (name, d) => this.declaredType(name, d),
        modules: (d) => this.moduleBtfs(btf, d),
      });
      this.typeCache.clear();
    } catch (e) {
      if (!(e instanceof TscrashError)) throw e;
      this.btfError = e.message;
      this.warnings.push(`types: the dump's BTF is not usable: ${e.message}`);
    }
    return this.btfInfo;
  }

  /**
   * The loaded modules' BTF, split on the kernel's: the kernel keeps each module's copy in a struct btf on
   * its btf_modules list (kernel/bpf/btf.c); the module's own btf_data is cleared once it has initialized.
   * A module whose BTF cannot be read is a warning; the others are used.
   */
  private *moduleBtfs(base: Btf, d: BtfDebugInfo): Generator<[string, Btf]> {
    const head = this.variableAddress('btf_modules');
    const entryT = d.findType('struct btf_module');
    const btfT = d.findType('struct btf');
    if (head === undefined || !entryT || !btfT) return;
    const warn = (e: unknown): void => {
      if (!(e instanceof TscrashError)) throw e;
      this.warnings.push(`types: a module's BTF is not usable: ${e.message}`);
    };
    const listOff = BigInt(offsetOf(entryT, 'list').offset);
    let next: bigint;
    try {
      next = this.memory.readU64(head, 'btf_modules.next');
    } catch (e) {
      warn(e);
      return;
    }
    for (let n = 0; next !== head && n < 10_000; n++) {
      let parsed: [string, Btf] | undefined;
      try {
        const entry = this.object(entryT, next - listOff);
        next = entry.member('list.next').value();
        const b = entry.member('btf').deref();
        const name = b.member('name').string(56);
        const size = Number(b.member('data_size').value());
        const data = b.member('data').value();
        if (size > 0 && size < 64 << 20 && data) {
          const bytes = this.memory.readVirt(data, size, `the BTF of module ${name}`);
          // One module's bad BTF is its warning; the next modules are still read.
          try {
            parsed = [name, new Btf(bytes, `module ${name}'s BTF (at 0x${data.toString(16)})`, base)];
          } catch (e) {
            warn(e);
          }
        }
      } catch (e) {
        // The list itself cannot be followed: no more modules.
        warn(e);
        return;
      }
      if (parsed) yield parsed;
    }
  }

  /** The BTF types when they are the session's. */
  get btf(): BtfDebugInfo | undefined {
    return this.btfInfo;
  }

  /** A global's type from program/btf-globals.ts (BTF describes only per-cpu variables). */
  private declaredType(name: string, d: BtfDebugInfo): CType | undefined {
    if (!Object.hasOwn(BTF_GLOBALS, name)) return undefined;
    const g = BTF_GLOBALS[name]!;
    const elem = typeof g.type === 'string' ? d.findType(g.type) : d.anonymousStruct(g.type.anonymousStruct);
    if (!elem || g.count === undefined) return elem;
    const n = this.declaredCount(name, g.count, elem, d, 0);
    return { kind: 'array', element: elem, counts: [n] };
  }

  private declaredCount(name: string, c: CountSource, elem: CType, d: BtfDebugInfo, depth: number): number | undefined {
    if (typeof c === 'number') return c;
    if (c.startsWith('enum:')) {
      const e = d.findEnumerator(c.slice(5));
      return e ? Number(e.value) : undefined;
    }
    if (c.startsWith('vmcoreinfo:')) return this.vmcoreinfo.lengths.get(c.slice(11));
    if (c.startsWith('as:')) {
      const other = c.slice(3);
      const g = Object.hasOwn(BTF_GLOBALS, other) ? BTF_GLOBALS[other] : undefined;
      if (!g || g.count === undefined || depth > 4) return undefined;
      const t = typeof g.type === 'string' ? d.findType(g.type) : undefined;
      return t ? this.declaredCount(other, g.count, t, d, depth + 1) : undefined;
    }
    // 'gap': kallsyms' size (the distance to the next symbol) over the element's size.
    const size = this.symbols.lookup(name)?.size;
    const es = Obj.at(this, elem, 0n).size;
    return size && es ? Math.floor(size / es) : undefined;
  }

  /** One line naming where types, symbols and unwinding come from (said once at session start). */
  sourcesLine(): string {
    const parts: string[] = [];
    if (this.debugInfo) parts.push(`types: DWARF from ${this.vmlinux}`);
    else if (this.btfInfo) parts.push(`types: BTF from the dump (${this.btfInfo.typeCount} types)`);
    else parts.push('types: none');
    if (this.vmlinux) parts.push('symbols: the vmlinux');
    else if (this._memory) {
      try {
        parts.push(`symbols: kallsyms (${this.symbols.size})`);
      } catch (e) {
        if (!(e instanceof TscrashError)) throw e;
        parts.push('symbols: none');
      }
    }
    parts.push(this.vmlinux ? 'unwinding: ORC (the vmlinux)' : 'unwinding: ORC (the dump)');
    return parts.join('; ');
  }

  private readonly typeCache = new Map<string, CType>();

  /** A type by its C spelling: 'struct task_struct', 'unsigned long', 'struct page *', 'char [16]'. */
  type(name: string): CType {
    const hit = this.typeCache.get(name);
    if (hit) return hit;
    const t = this.debug.findType(name);
    if (!t) throw new LookupError(`no type named "${name}" in the debug info`);
    this.typeCache.set(name, t);
    return t;
  }

  /** Whether the debug info has a type of that name (`struct task_struct`, `pid_t`). */
  hasType(name: string): boolean {
    return this.debug.findType(name) !== undefined;
  }

  /** Whether `typeName` (a struct or union) has the member (looking through anonymous members). */
  hasMember(typeName_: string, member: string): boolean {
    const t = this.debug.findType(typeName_);
    if (!t) return false;
    try {
      offsetOf(t, member);
      return true;
    } catch (e) {
      if (e instanceof LookupError) return false;
      throw e;
    }
  }

  /** The byte offset of a member path (`tasks.next`, `thread.sp`) in a struct type. */
  offsetOf(type: CType | string, memberPath: string): number {
    return offsetOf(typeof type === 'string' ? this.type(type) : type, memberPath).offset;
  }

  /** Whether a global variable exists with both a symbol and a type. */
  hasVariable(name: string): boolean {
    return this.debug.findVariable(name) !== undefined && this.variableAddress(name) !== undefined;
  }

  /**
   * A variable's address. Without a vmlinux, kallsyms' before VMCOREINFO's: VMCOREINFO's SYMBOL(mem_section) is
   * the pointer's value (VMCOREINFO_SYMBOL_ARRAY), not the variable's address.
   */
  private variableAddress(name: string): bigint | undefined {
    if (this.vmlinux || !this._memory) return this.symbolAddress(name);
    try {
      const a = this.symbols.lookup(name)?.address;
      if (a !== undefined) return a;
    } catch (e) {
      if (!(e instanceof TscrashError)) throw e;
    }
    return this.symbolAddress(name);
  }

  /** A global (or per-cpu: the address is then the per-cpu offset) variable as an lvalue. */
  variable(name: string): Obj {
    const v = this.debug.findVariable(name);
    if (!v) throw new LookupError(`no variable named ${name} in the debug info`);
    const a = this.variableAddress(name);
    if (a === undefined) throw new LookupError(`${name} has a type in the debug info but no symbol`);
    return Obj.at(this, this.completeArray(name, v.type), a, name);
  }

  /** `extern char x[];` declarations: the array's length from the ELF symbol's size, as gdb does. */
  private completeArray(name: string, t: CType): CType {
    const quals: CType[] = [];
    let cur = t;
    while (cur.kind === 'qualified') {
      quals.push(cur);
      cur = cur.target;
    }
    if (cur.kind !== 'array' || cur.counts[0] !== undefined) return t;
    const size = this.vmlinux ? this.symbols.lookup(name)?.size : undefined;
    const elem = cur.counts.length > 1 ? { ...cur, counts: cur.counts.slice(1) } : cur.element;
    const es = Obj.at(this, elem, 0n).size;
    if (!size || !es) return t;
    let out: CType = { ...cur, counts: [Math.floor(Number(size) / es), ...cur.counts.slice(1)] };
    for (const q of quals.reverse()) out = { ...(q as Extract<CType, { kind: 'qualified' }>), target: out };
    return out;
  }

  /** The object of a type (or type name) at an address. */
  object(type: CType | string, address: bigint, expr?: string): Obj {
    const t = typeof type === 'string' ? this.type(type) : type;
    return Obj.at(this, t, address, expr ?? `(${typeName(t)} *)0x${address.toString(16)}`);
  }

  /** An enumerator's value, e.g. constant('PIDTYPE_PID'). */
  constant(name: string): bigint {
    const e = this.debug.findEnumerator(name);
    if (!e) throw new LookupError(`no enumerator named ${name} in the debug info`);
    return e.value;
  }

  /** The size of a type by name. */
  sizeof(name: string): number {
    const t = strip(this.type(name));
    return 'size' in t ? t.size : Obj.at(this, t, 0n).size;
  }

  private checkVmlinux(path: string, force: boolean): void {
    const id = elfIdentity(path);
    if (!id) throw new TscrashError(`${path}: not an ELF file`);
    const want = this.vmcoreinfo.buildId;
    if (want && id.buildId && !id.buildId.startsWith(want.toLowerCase())) {
      const msg = `${path} does not match the dump: its build-id is ${id.buildId}, the dump's kernel has ${want} (release ${this.vmcoreinfo.osrelease})`;
      if (!force) throw new TscrashError(`${msg}; use --force to open anyway`);
      this.warnings.push(`WARNING: ${msg}`);
    }
  }

  /** Throw unless debug info is loaded: commands that need types and symbols call this. */
  requireDebugInfo(what: string): never {
    throw new MissingDebugInfoError(
      this.vmlinux
        ? `${what} needs types from the vmlinux, whose debug info is not loaded (Program.load / loadDebugInfo)`
        : `${what} needs debug info: ${this.btfError !== undefined ? "the dump's BTF is not usable" : this._dump ? "the dump's kernel carries no BTF" : 'no dump'}; start tscrash with the matching vmlinux (tscrash VMLINUX VMCORE)`,
    );
  }

  /** Load the types (DWARF or the dump's BTF) or throw the missing-debug-info error naming `what`. */
  async requireTypes(what: string): Promise<TypeSource> {
    const d = this.debugInfo ?? this.btfInfo ?? (await this.loadTypes());
    if (!d) this.requireDebugInfo(what);
    return d;
  }

  /** Address of a kernel symbol that VMCOREINFO names (KASLR already applied). */
  vmcoreinfoSymbol(name: string): bigint | undefined {
    return this.vmcoreinfo.symbols.get(name);
  }

  private symtab: SymbolTable | undefined;
  private elf: ElfFile | undefined;

  /**
   * The vmlinux's symbol table, relocated by the dump's KASLR offset (loaded on first use); with no vmlinux,
   * the kernel's own kallsyms read from the dump (program/kallsyms.ts).
   */
  get symbols(): SymbolTable {
    if (!this.vmlinux) {
      if (!this._memory) {
        throw new MissingDebugInfoError(
          'symbols need the vmlinux: start tscrash with the matching vmlinux (tscrash VMLINUX VMCORE)',
        );
      }
      this.symtab ??= SymbolTable.fromKernelArrays(readKallsymsArrays(this._memory));
      return this.symtab;
    }
    if (!this.symtab) {
      this.elf ??= ElfFile.open(this.vmlinux);
      this.symtab = SymbolTable.fromElf(this.elf, this._memory?.kaslrOffset ?? 0n, { cacheDir: cacheDir() });
    }
    return this.symtab;
  }

  private lines: LineTable | undefined;

  /** Source file and line of a kernel text address (KASLR-relocated, as in the dump), from .debug_line. */
  lineFor(address: bigint): LineInfo | undefined {
    if (!this.vmlinux) return undefined;
    this.elf ??= ElfFile.open(this.vmlinux);
    this.lines ??= new LineTable(this.elf, { reader: this.debugInfo?.types.reader });
    const kaslr = this._memory?.kaslrOffset ?? 0n;
    const own = this.lines.lookup(address - kaslr);
    if (own) return own;
    // Modules' line tables (mod -s) have the loaded addresses.
    for (const m of this.moduleDebug.values()) {
      if (!m.text.some(([a, b]) => address >= a && address < b)) continue;
      const hit = m.lines.lookup(address);
      if (hit) return hit;
    }
    return undefined;
  }

  private readonly moduleDebug = new Map<string, ModuleDebug>();

  /**
   * Load a module's debug info (`mod -s`): its object file (a .ko or .ko.debug) with each section at the
   * address the loaded module has it, so its DWARF types, variables and line numbers join the vmlinux's.
   */
  async loadModuleDebug(name: string, path: string, sections: ReadonlyMap<string, bigint>): Promise<ModuleDebug> {
    const vm = await this.loadDebugInfo();
    const d = await DebugInfo.open(path, { sectionAddresses: sections, index: 'full' });
    const text: [bigint, bigint][] = [];
    for (const [sec, addr] of sections) {
      const h = d.elf.section(sec);
      if (h && (Number(h.flags) & SHF_EXECINSTR) !== 0) text.push([addr, addr + BigInt(h.size)]);
    }
    // The object's global (and weak) definitions: crash names these with capital letters once it has the file.
    const globals = new Set<string>();
    for (const sym of d.elf.symbols('symtab'))
      if (sym.shndx !== 0 && (sym.bind === 1 || sym.bind === 2)) globals.add(sym.name);
    const m: ModuleDebug = {
      name,
      path,
      debug: d,
      lines: new LineTable(d.elf, { reader: d.types.reader }),
      text,
      globals,
    };
    vm.attachModule(name, d);
    this.moduleDebug.set(name, m);
    this.typeCache.clear();
    return m;
  }

  /** Drop a module's debug info (`mod -d`); false when none was loaded. */
  unloadModuleDebug(name: string): boolean {
    const had = this.moduleDebug.delete(name);
    if (had) this.debugInfo?.detachModule(name);
    this.typeCache.clear();
    return had;
  }

  /** The modules whose debug info is loaded, by name. */
  get modulesWithDebug(): ReadonlyMap<string, ModuleDebug> {
    return this.moduleDebug;
  }

  /** A symbol's address: from the vmlinux when loaded, else from VMCOREINFO, else from the dump's kallsyms. */
  symbolAddress(name: string): bigint | undefined {
    if (this.vmlinux) return this.symbols.lookup(name)?.address;
    const v = this.vmcoreinfoSymbol(name);
    if (v !== undefined || !this._memory) return v;
    try {
      return this.symbols.lookup(name)?.address;
    } catch (e) {
      if (e instanceof TscrashError) return undefined;
      throw e;
    }
  }

  /** Close the dump and the debug info. */
  close(): void {
    this.elf?.close();
    this._dump?.close();
  }
}
