/**
 * Loaded kernel modules, from memory: the `modules` list of struct module,
 * each module's address range, and its symbols from its in-memory kallsyms
 * (so addresses in modules get names without any file).
 */
import { TscrashError } from '../core/errors.js';
import type { Obj } from '../program/object.js';
import type { Program } from '../program/program.js';
import type { ModuleSymbolInput } from '../symbols/symtab.js';
import { listForEachEntry } from './lists.js';

export interface ModuleInfo {
  name: string;
  /** The struct module. */
  module: Obj;
  address: bigint;
  /** Start and size of the module's core (text) allocation, as crash's mod shows them. */
  base: bigint;
  size: bigint;
}

/** The module's core allocation: mem[MOD_TEXT] (6.4+), core_layout (4.5+), or module_core / core_size. */
function coreRange(prog: Program, mod: Obj): { base: bigint; size: bigint } {
  if (mod.hasMember('mem')) {
    const text = mod.member('mem').index(Number(prog.constant('MOD_TEXT')));
    // crash shows the text allocation's base and the sum of the core allocations' sizes.
    let size = 0n;
    for (const n of ['MOD_TEXT', 'MOD_DATA', 'MOD_RODATA', 'MOD_RO_AFTER_INIT']) {
      try {
        size += mod
          .member('mem')
          .index(Number(prog.constant(n)))
          .member('size')
          .value();
      } catch {
        // Older 6.x have fewer types.
      }
    }
    return { base: text.member('base').value(), size };
  }
  if (mod.hasMember('core_layout')) {
    return { base: mod.member('core_layout.base').value(), size: mod.member('core_layout.size').value() };
  }
  return { base: mod.member('module_core').value(), size: mod.member('core_size').value() };
}

export function listModules(prog: Program): ModuleInfo[] {
  if (!prog.hasVariable('modules')) return [];
  const out: ModuleInfo[] = [];
  for (const mod of listForEachEntry(prog.variable('modules'), 'struct module', 'list')) {
    const { base, size } = coreRange(prog, mod);
    out.push({ name: mod.member('name').string(64), module: mod, address: mod.address as bigint, base, size });
  }
  return out;
}

const ELF64_SYM_SIZE = 24;
const STT_SECTION = 3;
const STT_FILE = 4;

/** A module's symbols from its in-memory kallsyms (mod->kallsyms on 5.x+, mod->symtab before). */
export function moduleSymbols(prog: Program, info: ModuleInfo): ModuleSymbolInput[] {
  const mod = info.module;
  const ks = mod.hasMember('kallsyms') ? mod.member('kallsyms').deref() : mod;
  const n = ks.member('num_symtab').num();
  if (n <= 0) return [];
  if (n > 1_000_000) throw new TscrashError(`module ${info.name}: implausible num_symtab ${n}`);
  const symtab = ks.member('symtab').value();
  const strtab = ks.member('strtab').value();
  const typetab = ks.hasMember('typetab') ? ks.member('typetab').value() : 0n;
  const mem = prog.memory;
  const raw = mem.readVirt(symtab, n * ELF64_SYM_SIZE, `module ${info.name} kallsyms symtab`);
  const types = typetab ? mem.readVirt(typetab, n, `module ${info.name} kallsyms typetab`) : undefined;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  // The string table has no recorded size: read names one by one (they are short and in one allocation).
  const out: ModuleSymbolInput[] = [];
  for (let i = 1; i < n; i++) {
    const o = i * ELF64_SYM_SIZE;
    const nameOff = dv.getUint32(o, true);
    const info8 = dv.getUint8(o + 4);
    const value = dv.getBigUint64(o + 8, true);
    const size = Number(dv.getBigUint64(o + 16, true));
    const type = info8 & 0xf;
    if (!nameOff || type === STT_SECTION || type === STT_FILE || value === 0n) continue;
    let name: string;
    try {
      name = mem.readCString(strtab + BigInt(nameOff), 512, `module ${info.name} symbol name`);
    } catch {
      continue;
    }
    if (!name || name.startsWith('__UNIQUE_ID') || name.startsWith('$')) continue;
    const letter = types ? String.fromCharCode(types[i]!) : undefined;
    out.push({ name, address: value, size, letter });
  }
  return out;
}

const loaded = new WeakSet<Program>();

/** Add every loaded module's kallsyms to the program's symbol table (once). */
export function loadModuleSymbols(prog: Program): void {
  if (loaded.has(prog) || !prog.vmlinux || !prog.hasDump) return;
  loaded.add(prog);
  for (const m of listModules(prog)) {
    try {
      prog.symbols.addSymbols(moduleSymbols(prog, m), m.name);
    } catch (e) {
      if (!(e instanceof TscrashError)) throw e;
      prog.warnings.push(`module ${m.name}: symbols not read: ${e.message}`);
    }
  }
}
