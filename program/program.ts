/**
 * Program: the crashed kernel as commands and plugins see it: its memory (by
 * physical and kernel virtual address), VMCOREINFO, the registers each CPU had
 * at the crash, and the vmlinux it was built from when one is given.
 */
import type { Dump } from '../core/dump.js';
import { type CpuRegisters, prstatusRegisters } from '../core/elf-notes.js';
import { MissingDebugInfoError, TscrashError } from '../core/errors.js';
import { KernelMemory } from '../core/kernel-memory.js';
import { openDump } from '../core/open.js';
import type { VmcoreInfo } from '../core/vmcoreinfo.js';
import { elfIdentity } from '../symbols/build-id.js';
import { ElfFile } from '../symbols/elf.js';
import { SymbolTable } from '../symbols/symtab.js';

export interface OpenOptions {
  vmcore: string;
  vmlinux?: string;
  /** Open even when the vmlinux does not match the dump. */
  force?: boolean;
}

export class Program {
  readonly memory: KernelMemory;
  readonly vmcoreinfo: VmcoreInfo;
  readonly cpus: CpuRegisters[];
  /** Warnings from opening (shown once at session start). */
  readonly warnings: string[] = [];

  private constructor(
    readonly dump: Dump,
    readonly vmlinux: string | undefined,
  ) {
    this.memory = new KernelMemory(dump);
    this.vmcoreinfo = this.memory.vmcoreinfo;
    this.cpus = prstatusRegisters(dump);
  }

  static open(opts: OpenOptions): Program {
    const dump = openDump(opts.vmcore);
    try {
      const p = new Program(dump, opts.vmlinux);
      if (opts.vmlinux) p.checkVmlinux(opts.vmlinux, opts.force ?? false);
      return p;
    } catch (e) {
      dump.close();
      throw e;
    }
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
        ? `${what} needs types and symbols from the vmlinux, which this version of tscrash does not load yet`
        : `${what} needs debug info: start tscrash with the matching vmlinux (tscrash VMLINUX VMCORE)`,
    );
  }

  /** Address of a kernel symbol that VMCOREINFO names (KASLR already applied). */
  vmcoreinfoSymbol(name: string): bigint | undefined {
    return this.vmcoreinfo.symbols.get(name);
  }

  private symtab: SymbolTable | undefined;
  private elf: ElfFile | undefined;

  /** The vmlinux's symbol table, relocated by the dump's KASLR offset (loaded on first use). */
  get symbols(): SymbolTable {
    if (!this.vmlinux) {
      throw new MissingDebugInfoError(
        'symbols need the vmlinux: start tscrash with the matching vmlinux (tscrash VMLINUX VMCORE)',
      );
    }
    if (!this.symtab) {
      this.elf ??= ElfFile.open(this.vmlinux);
      this.symtab = SymbolTable.fromElf(this.elf, this.memory.kaslrOffset);
    }
    return this.symtab;
  }

  /** A symbol's address: from the vmlinux when loaded, else from VMCOREINFO. */
  symbolAddress(name: string): bigint | undefined {
    if (this.vmlinux) return this.symbols.lookup(name)?.address;
    return this.vmcoreinfoSymbol(name);
  }

  close(): void {
    this.elf?.close();
    this.dump.close();
  }
}
