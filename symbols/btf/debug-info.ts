/**
 * BtfDebugInfo: BTF as the program model uses debug info (type-source.ts), the same answers DWARF's
 * DebugInfo gives: types by their C spelling, functions (FUNC), enumerators, and variables. BTF describes
 * only the per-cpu variables (VARs of the DATASEC .data..percpu); the type of any other global comes from
 * `declared`, the caller's table of what the kernel's source declares.
 */
import type { CType } from '../dwarf/types.js';
import type { EnumeratorInfo, TypeSource, VariableInfo } from '../type-source.js';
import { typeFromSpelling } from '../type-source.js';
import { BTF_KIND, type Btf } from './format.js';
import { BtfTypes } from './types.js';

export interface BtfOptions {
  /** The type of a global BTF does not describe (`init_task`: `struct task_struct`), from the caller's table. */
  declared?: (name: string, btf: BtfDebugInfo) => CType | undefined;
  /**
   * The loaded modules' split BTF, asked for once, when a name is first not found in this BTF: their types are
   * then searched after this one's.
   */
  modules?: (base: BtfDebugInfo) => Iterable<[string, Btf]>;
}

export class BtfDebugInfo implements TypeSource {
  readonly source = 'btf' as const;
  readonly indexed = true;
  readonly types: BtfTypes;
  /** Modules' split BTF, searched after this one's, by module name. */
  private readonly modules = new Map<string, BtfDebugInfo>();

  /** @param base the kernel's, for a module's split BTF. */
  constructor(
    readonly btf: Btf,
    private readonly opts: BtfOptions = {},
    base?: BtfDebugInfo,
  ) {
    // A declaration with no definition here is completed from a module's (or, for a module, the kernel's).
    const baseTypes = base?.types ?? (btf.base ? new BtfTypes(btf.base) : undefined);
    this.types = new BtfTypes(btf, baseTypes, (key) => this.definitionElsewhere(key));
  }

  /** A struct's or union's definition in a module's BTF (for the kernel's declarations of it). */
  private definitionElsewhere(key: string): CType | undefined {
    this.askModules();
    for (const d of this.modules.values()) {
      const id = d.types.lookup('types', key) as number | undefined;
      if (id !== undefined && d.btf.kind(id) !== BTF_KIND.FWD) return d.types.typeAt(id);
    }
    return undefined;
  }

  /** Types, with the base's when split. */
  get typeCount(): number {
    return this.types.count;
  }

  /** Bytes of BTF (this blob's). */
  get size(): number {
    return this.btf.bytes.length;
  }

  attachModule(name: string, d: BtfDebugInfo): void {
    this.modules.set(name, d);
  }

  private modulesAsked = false;

  /** The modules' BTF (asked for on the first miss). */
  get moduleBtf(): ReadonlyMap<string, BtfDebugInfo> {
    this.askModules();
    return this.modules;
  }

  private askModules(): void {
    if (this.modulesAsked || !this.opts.modules) return;
    this.modulesAsked = true;
    for (const [name, btf] of this.opts.modules(this)) this.modules.set(name, new BtfDebugInfo(btf, {}, this));
  }

  private orModules<T>(own: T | undefined, f: (d: BtfDebugInfo) => T | undefined): T | undefined {
    if (own !== undefined) return own;
    this.askModules();
    for (const d of this.modules.values()) {
      const v = f(d);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  private named(name: string): CType | undefined {
    const id = this.types.lookup('types', name) as number | undefined;
    return id === undefined ? undefined : this.types.typeAt(id);
  }

  findType(spelling: string): CType | undefined {
    return this.orModules(
      typeFromSpelling(spelling, (n) => this.named(n)),
      (d) => d.findType(spelling),
    );
  }

  findVariable(name: string): VariableInfo | undefined {
    const id = this.types.lookup('variables', name) as number | undefined;
    if (id !== undefined) return { name, type: this.types.typeAt(id), dieOffset: id };
    const type = this.opts.declared?.(name, this);
    if (type) return { name, type, dieOffset: 0 };
    return this.orModules(undefined, (d) => d.findVariable(name));
  }

  findFunction(name: string): VariableInfo | undefined {
    const id = this.types.lookup('functions', name) as number | undefined;
    if (id !== undefined) return { name, type: this.types.functionType(id), dieOffset: id };
    return this.orModules(undefined, (d) => d.findFunction(name));
  }

  findEnumerator(name: string): EnumeratorInfo | undefined {
    const hit = this.types.lookup('enumerators', name) as [number, number] | undefined;
    if (hit) return { name, value: this.types.enumValue(hit[0], hit[1]), type: this.types.typeAt(hit[0]) };
    return this.orModules(undefined, (d) => d.findEnumerator(name));
  }

  typeNames(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.types.names().types.keys()) if (k.startsWith(prefix)) out.push(k);
    this.askModules();
    for (const d of this.modules.values()) out.push(...d.typeNames(prefix));
    return [...new Set(out)].sort();
  }

  /** The struct without a name whose members have exactly these names (tk_core's type). */
  anonymousStruct(members: string[]): CType | undefined {
    const b = this.btf;
    for (let id = b.firstId; id < b.endId; id++) {
      if (b.kind(id) !== BTF_KIND.STRUCT || b.vlen(id) !== members.length || b.name(id) !== '') continue;
      let same = true;
      for (let j = 0; j < members.length && same; j++) same = b.str(b.word(id, j * 3)) === members[j];
      if (same) return this.types.typeAt(id);
    }
    return undefined;
  }

  /** The per-cpu variables' names (the VARs of DATASEC .data..percpu). */
  percpuVariables(): string[] {
    const b = this.btf;
    const out: string[] = [];
    for (let id = b.firstId; id < b.endId; id++) {
      if (b.kind(id) !== BTF_KIND.DATASEC || b.name(id) !== '.data..percpu') continue;
      for (let j = 0; j < b.vlen(id); j++) out.push(b.name(b.word(id, j * 3)));
    }
    return out;
  }

  buildIndex(): Promise<void> {
    this.types.names();
    return Promise.resolve();
  }

  close(): void {
    this.modules.clear();
  }
}
