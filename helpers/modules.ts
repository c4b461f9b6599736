/**
 * Loaded kernel modules, from memory: the `modules` list of struct module,
 * each module's address range, and its symbols from its in-memory kallsyms
 * (so addresses in modules get names without any file).
 */
import { type Dirent, existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TscrashError } from '../core/errors.js';
import { debugFileFromDebuginfod } from '../program/debuginfod.js';
import type { Obj } from '../program/object.js';
import { type ModuleDebug, objectFileInfo, type Program } from '../program/program.js';
import type { ModuleSymbolInput } from '../symbols/symtab.js';
import { listForEachEntry } from './lists.js';

/** A loaded module: its name, struct module, address, code base and size. */
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

/** The loaded modules (the modules list): name, address, sizes, taints. */
export function listModules(prog: Program): ModuleInfo[] {
  if (prog.noModules || !prog.hasVariable('modules')) return [];
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
const STB_GLOBAL = 1;

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
    // The kernel's type letter (typetab) is lower case; a global binding makes it capital, as nm and crash show
    // it (crash maps st_info GLOBAL FUNC to 'T').
    let letter = types ? String.fromCharCode(types[i]!) : undefined;
    if (letter && info8 >> 4 === STB_GLOBAL && /^[a-z]$/.test(letter) && letter !== 'w' && letter !== 'v')
      letter = letter.toUpperCase();
    out.push({ name, address: value, size, letter });
  }
  return out;
}

/** The Program's epoch whose symbol table has the modules' kallsyms (a vmlinux taken mid-session has a new one). */
const loaded = new WeakMap<Program, number>();

/** Add every loaded module's kallsyms to the program's symbol table (once for each symbol table). */
export function loadModuleSymbols(prog: Program): void {
  if (loaded.get(prog) === prog.epoch || !prog.hasDebugInfo || !prog.hasDump || prog.noModules) return;
  loaded.set(prog, prog.epoch);
  for (const m of listModules(prog)) {
    try {
      prog.symbols.addSymbols(moduleSymbols(prog, m), m.name);
    } catch (e) {
      if (!(e instanceof TscrashError)) throw e;
      prog.warnings.push(`module ${m.name}: symbols not read: ${e.message}`);
    }
  }
}

/**
 * Where the loaded module has each of its ELF sections, from mod->sect_attrs (the sysfs
 * /sys/module/NAME/sections files): the attribute's name and either module_sect_attr.address (up to 6.13)
 * or the bin_attribute's private pointer (later). Without sect_attrs, only .text: the text allocation's base.
 */
export function moduleSections(prog: Program, info: ModuleInfo): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const mod = info.module;
  if (mod.hasMember('sect_attrs')) {
    const sa = mod.member('sect_attrs');
    if (!sa.isNull()) {
      const attrs = sa.deref();
      const withAddress = prog.hasMember('struct module_sect_attr', 'address');
      let n: number;
      if (attrs.hasMember('nsections')) n = attrs.member('nsections').num();
      else {
        // A NULL-terminated array of bin_attribute pointers in the attribute group.
        const list = attrs.member(attrs.hasMember('grp') ? 'grp.bin_attrs' : 'bin_attrs');
        n = 0;
        while (n < 4096 && !list.index(n).isNull()) n++;
      }
      if (n > 4096) throw new TscrashError(`module ${info.name}: implausible section count ${n}`);
      for (let i = 0; i < n; i++) {
        const a = attrs.member('attrs').index(i);
        const battr = withAddress ? a.member('battr') : a;
        const name = battr.member('attr.name').deref().address;
        const sec = prog.memory.readCString(name as bigint, 256, `module ${info.name} section name`);
        const addr = withAddress ? a.member('address').value() : battr.member('private').value();
        if (sec) out.set(sec, addr);
      }
      return out;
    }
  }
  out.set('.text', info.base);
  return out;
}

/** The module's GNU build-id, from its .note.gnu.build-id as loaded (mod->notes_attrs), when the kernel keeps it. */
export function moduleBuildId(prog: Program, info: ModuleInfo): string | undefined {
  const mod = info.module;
  if (!mod.hasMember('notes_attrs')) return undefined;
  const na = mod.member('notes_attrs');
  if (na.isNull()) return undefined;
  const notes = na.deref();
  const n = notes.member('notes').num();
  if (n > 64) return undefined;
  for (let i = 0; i < n; i++) {
    const a = notes.member('attrs').index(i);
    const name = prog.memory.readCString(a.member('attr.name').value(), 64, `module ${info.name} note name`);
    if (name !== '.note.gnu.build-id') continue;
    const size = Math.min(a.member('size').num(), 256);
    const raw = prog.memory.readVirt(a.member('private').value(), size, `module ${info.name} build-id note`);
    // Elf64_Nhdr: namesz, descsz, type; then the name and the descriptor, each 4-aligned.
    for (let o = 0; o + 12 <= raw.length; ) {
      const dv = new DataView(raw.buffer, raw.byteOffset + o, raw.length - o);
      const namesz = dv.getUint32(0, true);
      const descsz = dv.getUint32(4, true);
      const type = dv.getUint32(8, true);
      const descAt = o + 12 + ((namesz + 3) & ~3);
      if (descAt + descsz > raw.length) break;
      if (type === 3 && namesz === 4) return Buffer.from(raw.subarray(descAt, descAt + descsz)).toString('hex');
      o = descAt + ((descsz + 3) & ~3);
    }
  }
  return undefined;
}

/** The names a module's object file can have: NAME.ko, with '_' and '-' both ways, and .ko.debug. */
function objectNames(name: string): Set<string> {
  const out = new Set<string>();
  for (const n of [name, name.replace(/_/g, '-'), name.replace(/-/g, '_')]) {
    out.add(`${n}.ko`);
    out.add(`${n}.ko.debug`);
  }
  return out;
}

/**
 * The files under `dirs` (searched recursively, symlinks not followed, at most `limit` directories) named
 * as a module's object file, by module name.
 */
export function moduleFilesUnder(dirs: string[], limit = 20000): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let seen = 0;
  const stack = [...dirs];
  while (stack.length && seen < limit) {
    const d = stack.pop()!;
    seen++;
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && /\.ko(\.debug)?$/.test(e.name)) {
        const key = e.name.replace(/\.ko(\.debug)?$/, '').replace(/-/g, '_');
        const list = out.get(key) ?? [];
        list.push(p);
        out.set(key, list);
      }
    }
  }
  return out;
}

/** The default places for module object files: the debug tree's lib/modules/RELEASE, then /lib/modules/RELEASE. */
export function defaultModuleDirs(prog: Program): string[] {
  const release = prog.vmcoreinfo.osrelease;
  const root = process.env.TSCRASH_DEBUG_ROOT || '/usr/lib/debug';
  return release ? [join(root, 'lib', 'modules', release), join('/lib/modules', release)] : [];
}

/** Why `path` is not the object file with debug info of the loaded module, or undefined when it is. */
export function checkModuleFile(prog: Program, info: ModuleInfo, path: string): string | undefined {
  const id = objectFileInfo(path);
  if (!id) return `${path}: not an ELF file`;
  if (id.type !== 1) return `${path}: not a relocatable object (a .ko)`;
  const want = moduleBuildId(prog, info);
  if (want && id.buildId && id.buildId !== want)
    return `${path}: build-id ${id.buildId} does not match module ${info.name}'s ${want}`;
  if (!id.dwarf) return `${path}: no debug info (.debug_info)`;
  return undefined;
}

/**
 * Find a loaded module's object file: by build-id in the debug tree (.build-id/xx/yyyy.debug), then by name
 * under `dirs` (or the default places). Only a file that matches the module (build-id, when both have one)
 * is taken.
 */
export function findModuleFile(
  prog: Program,
  info: ModuleInfo,
  dirs?: string[],
  files?: Map<string, string[]>,
): string | undefined {
  const root = process.env.TSCRASH_DEBUG_ROOT || '/usr/lib/debug';
  const id = moduleBuildId(prog, info);
  const candidates: string[] = [];
  if (id && id.length > 2) candidates.push(join(root, '.build-id', id.slice(0, 2), `${id.slice(2)}.debug`));
  const found = files ?? moduleFilesUnder(dirs ?? defaultModuleDirs(prog));
  const names = objectNames(info.name);
  for (const p of found.get(info.name.replace(/-/g, '_')) ?? []) if (names.has(basename(p))) candidates.push(p);
  // Prefer files with debug info (the debug tree's) over stripped ones.
  for (const c of candidates) if (existsSync(c) && checkModuleFile(prog, info, c) === undefined) return c;
  return undefined;
}

/** Load a module's debug info (mod -s): from `file`, or the one findModuleFile finds. */
export async function loadModuleDebug(
  prog: Program,
  info: ModuleInfo,
  file?: string,
  files?: Map<string, string[]>,
): Promise<ModuleDebug> {
  let path = file;
  if (path === undefined) {
    // findModuleFile takes only a file that matches and has DWARF.
    path = findModuleFile(prog, info, undefined, files);
    // None here: the debuginfod servers', by the loaded module's build-id (when DEBUGINFOD_URLS names any).
    const id = path ? undefined : moduleBuildId(prog, info);
    const remote = id
      ? await debugFileFromDebuginfod(id, (p) => checkModuleFile(prog, info, p), prog.memory)
      : undefined;
    if (remote && 'path' in remote) path = remote.path;
    if (!path) {
      throw new TscrashError(
        `cannot find an object file with debug info for module ${info.name} (looked by build-id and under ${defaultModuleDirs(prog).join(', ')}${remote && 'message' in remote ? `; ${remote.message}` : ''})`,
      );
    }
  } else {
    if (!existsSync(path)) throw new TscrashError(`${path}: no such file`);
    const bad = checkModuleFile(prog, info, path);
    if (bad) throw new TscrashError(bad);
  }
  const md = await prog.loadModuleDebug(info.name, path, moduleSections(prog, info));
  // With the object file, a symbol's letter follows its binding there (as crash's does): global ones capital.
  prog.symbols.addSymbols(
    moduleSymbols(prog, info).map((x) =>
      x.letter && md.globals.has(x.name) ? { ...x, letter: x.letter.toUpperCase() } : x,
    ),
    info.name,
  );
  return md;
}

/** Drop a module's debug info (mod -d): its symbols go back to the letters of its in-memory kallsyms. */
export function unloadModuleDebug(prog: Program, info: ModuleInfo): boolean {
  if (!prog.unloadModuleDebug(info.name)) return false;
  prog.symbols.addSymbols(moduleSymbols(prog, info), info.name);
  return true;
}
