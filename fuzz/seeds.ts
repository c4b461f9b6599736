/**
 * Seed inputs for the fuzz targets, extracted at fuzz time from the real samples (~/.cache/tscrash/samples: the
 * sysrq case's dump files and its vmlinux) into dist/fuzz/seeds/TARGET/; no dump bytes are committed. A seed is
 * small (libFuzzer mutates whole inputs): the real headers, notes, VMCOREINFO and bitmaps of a window of the
 * machine's pfns with those pages' real descriptors and data; the real program headers with a few pages of each
 * PT_LOAD; the real first units of .debug_info and .debug_line; slices of the real ORC and kallsyms tables. Where
 * a sample has no such input (BTF: the vmlinux's 4 MB blob is too large to mutate), test/lib's builders make one.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFilePrivate } from '../core/private-file.js';
import { buildNameIndex } from '../symbols/dwarf/name-index.js';
import { DwarfReader } from '../symbols/dwarf/reader.js';
import { ElfFile } from '../symbols/elf.js';
import { decodeProgram } from '../symbols/line.js';
import { samplesDir } from '../test/lib/samples.js';
import { BtfBuilder } from '../test/lib/synth-btf.js';
import { flatten } from '../test/lib/synth-dump.js';
import { AT, buildDwarf, FORM, TAG } from '../test/lib/synth-dwarf.js';
import { buildElf } from '../test/lib/synth-elf.js';
import { joinParts } from './lib/harness.js';

function readRange(path: string, pos: number, len: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(len);
    const n = readSync(fd, b, 0, len, pos);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const DESC = 24;

/**
 * A kdump file of `n` pfns made from a real one: its disk_dump_header and sub-header blocks (notes and VMCOREINFO
 * as they are), max_mapnr and bitmap_blocks set for n pfns, both bitmaps' bits of the window of n pfns from the
 * first with at least 3/4 of them dumped, those pages' real descriptors (offsets moved) and their real
 * (compressed) data. With `split`, the set's file for pfns [start, end).
 */
export function kdumpSeed(path: string, n = 32, split?: { start: number; end: number }): Buffer {
  const h = readRange(path, 0, 4096);
  const bs = h.readUInt32LE(428);
  const sub = h.readUInt32LE(432);
  const bitmapBlocks = h.readUInt32LE(436);
  const headLen = (1 + sub) * bs;
  const head = Buffer.from(readRange(path, 0, headLen));
  const half = (bitmapBlocks * bs) / 2;
  const bm1 = readRange(path, headLen, half);
  const bm2 = readRange(path, headLen + half, half);
  const bit = (b: Buffer, p: number): number => (b[p >> 3]! >> (p & 7)) & 1;
  // The first window of n pfns with 3/4 of them dumped and some excluded (present, not dumped); else all dumped.
  const window = (withExcluded: boolean): { start: number; rank: number } | undefined => {
    let rank = 0;
    for (let s = 0; s + n <= half * 8; s += 8) {
      let c = 0;
      let excluded = 0;
      for (let p = s; p < s + n; p++) {
        c += bit(bm2, p);
        excluded += bit(bm1, p) & (bit(bm2, p) ^ 1);
      }
      if (withExcluded ? c >= (n * 3) / 4 && excluded > 0 : c === n) return { start: s, rank };
      for (let p = s; p < s + 8; p++) rank += bit(bm2, p);
    }
    return undefined;
  };
  const w = window(true) ?? window(false);
  const start = w?.start ?? -1;
  const rank = w?.rank ?? 0;
  if (start < 0) throw new Error(`${path}: no window of ${n} pfns mostly dumped`);
  const descStart = headLen + bitmapBlocks * bs;
  // Header: n pfns, one block per bitmap.
  head.writeUInt32LE(n, 440);
  head.writeUInt32LE(2, 436);
  const version = head.readInt32LE(8);
  if (version >= 6) head.writeBigUInt64LE(BigInt(n), bs + 96);
  if (split) {
    head.writeInt32LE(1, bs + 12);
    head.writeBigUInt64LE(BigInt(split.start), bs + 16);
    head.writeBigUInt64LE(BigInt(split.end), bs + 24);
    if (version >= 6) {
      head.writeBigUInt64LE(BigInt(split.start), bs + 80);
      head.writeBigUInt64LE(BigInt(split.end), bs + 88);
    }
  }
  const nb1 = Buffer.alloc(bs);
  const nb2 = Buffer.alloc(bs);
  const dumped: number[] = [];
  for (let p = 0; p < n; p++) {
    if (bit(bm1, start + p)) nb1[p >> 3]! |= 1 << (p & 7);
    if (bit(bm2, start + p)) {
      nb2[p >> 3]! |= 1 << (p & 7);
      dumped.push(p);
    }
  }
  const inFile = dumped.filter((p) => !split || (p >= split.start && p < split.end));
  const firstIdx = rank + dumped.filter((p) => split && p < split.start).length;
  const real = readRange(path, descStart + firstIdx * DESC, inFile.length * DESC);
  const newDescStart = headLen + 2 * bs;
  let dataAt = newDescStart + inFile.length * DESC;
  const descs = Buffer.alloc(inFile.length * DESC);
  const data: Buffer[] = [];
  const moved = new Map<number, number>();
  for (let i = 0; i < inFile.length; i++) {
    real.copy(descs, i * DESC, i * DESC, (i + 1) * DESC);
    const off = Number(real.readBigInt64LE(i * DESC));
    const size = real.readUInt32LE(i * DESC + 8);
    let at = moved.get(off);
    if (at === undefined) {
      at = dataAt;
      moved.set(off, at);
      data.push(readRange(path, off, size));
      dataAt += size;
    }
    descs.writeBigInt64LE(BigInt(at), i * DESC);
  }
  return Buffer.concat([head, nb1, nb2, descs, ...data]);
}

/** An ELF core made from a real one: its headers and notes, each PT_LOAD cut to its first `pages` pages. */
export function elfCoreSeed(path: string, pages = 3): Buffer {
  const h = readRange(path, 0, 64);
  const phoff = Number(h.readBigUInt64LE(32));
  const phnum = h.readUInt16LE(56);
  const ph = Buffer.from(readRange(path, phoff, phnum * 56));
  const out = Buffer.alloc(64);
  h.copy(out);
  out.writeBigUInt64LE(64n, 32);
  out.writeBigUInt64LE(0n, 40);
  out.writeUInt16LE(0, 60);
  out.writeUInt16LE(0, 62);
  let at = 64 + phnum * 56;
  const data: Buffer[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = i * 56;
    const type = ph.readUInt32LE(p);
    const off = Number(ph.readBigUInt64LE(p + 8));
    let filesz = Number(ph.readBigUInt64LE(p + 32));
    if (type === 1) {
      filesz = Math.min(filesz, pages * 4096);
      ph.writeBigUInt64LE(BigInt(filesz), p + 32);
      ph.writeBigUInt64LE(BigInt(filesz), p + 40);
    }
    data.push(readRange(path, off, filesz));
    ph.writeBigUInt64LE(BigInt(at), p + 8);
    at += filesz;
  }
  return Buffer.concat([out, ph, ...data]);
}

/** The PT_NOTE segment of a real ELF core. */
function elfNotes(path: string): Buffer {
  const h = readRange(path, 0, 64);
  const phoff = Number(h.readBigUInt64LE(32));
  const phnum = h.readUInt16LE(56);
  const ph = readRange(path, phoff, phnum * 56);
  for (let i = 0; i < phnum; i++) {
    if (ph.readUInt32LE(i * 56) !== 4) continue;
    return readRange(path, Number(ph.readBigUInt64LE(i * 56 + 8)), Number(ph.readBigUInt64LE(i * 56 + 32)));
  }
  throw new Error(`${path}: no PT_NOTE`);
}

/**
 * A vmlinux made from the real one: its ELF header and every section header, each section's data cut to its first
 * `keep` bytes (the symbol table to whole entries, the section name table whole), laid out again.
 */
function vmlinuxSeed(path: string, keep = 1024): Buffer {
  const h = Buffer.from(readRange(path, 0, 64));
  const shoff = Number(h.readBigUInt64LE(40));
  const shnum = h.readUInt16LE(60);
  const shstrndx = h.readUInt16LE(62);
  const sh = Buffer.from(readRange(path, shoff, shnum * 64));
  const phoff = Number(h.readBigUInt64LE(32));
  const phnum = h.readUInt16LE(56);
  const ph = Buffer.from(readRange(path, phoff, phnum * 56));
  let at = 64 + phnum * 56;
  const data: Buffer[] = [];
  for (let i = 0; i < shnum; i++) {
    const p = i * 64;
    const type = sh.readUInt32LE(p + 4);
    const off = Number(sh.readBigUInt64LE(p + 24));
    const size = Number(sh.readBigUInt64LE(p + 32));
    if (type === 8 || type === 0) continue; // NOBITS, NULL
    let want = i === shstrndx ? size : Math.min(size, keep);
    if (type === 2 || type === 11) want -= want % 24;
    const bytes = readRange(path, off, want);
    sh.writeBigUInt64LE(BigInt(at), p + 24);
    sh.writeBigUInt64LE(BigInt(want), p + 32);
    data.push(bytes);
    at += want;
  }
  // Program headers: file offsets into the kept data of the section at the same address, else none.
  for (let i = 0; i < phnum; i++) {
    const p = i * 56;
    ph.writeBigUInt64LE(BigInt(Math.min(Number(ph.readBigUInt64LE(p + 32)), keep)), p + 32);
    ph.writeBigUInt64LE(64n + BigInt(phnum * 56), p + 8);
  }
  h.writeBigUInt64LE(64n, 32);
  h.writeBigUInt64LE(BigInt(at), 40);
  return Buffer.concat([h, ph, ...data, sh]);
}

/** The first units of a real .debug_info that decode with prefixes of the string and abbreviation sections. */
function dwarfSeeds(vmlinux: string): Uint8Array[] {
  const elf = ElfFile.open(vmlinux);
  const out: Uint8Array[] = [];
  try {
    const sec = (n: string) => elf.section(n);
    const info = sec('.debug_info')!;
    const head = elf.readSectionRange(info, 0, 1 << 16);
    // Units: unit_length (32-bit DWARF), version, ...
    const units: [number, number][] = [];
    for (let o = 0; o + 4 <= head.length && units.length < 24; ) {
      const len = new DataView(head.buffer, head.byteOffset).getUint32(o, true);
      if (o + 4 + len > head.length) break;
      units.push([o, o + 4 + len]);
      o += 4 + len;
    }
    const prefix = (name: string, len: number): Uint8Array => {
      const s = sec(name);
      return s ? elf.readSectionRange(s, 0, Math.min(len, s.size)) : new Uint8Array(0);
    };
    for (const count of [1, 3, 8]) {
      if (units.length < count) break;
      const infoBytes = head.subarray(0, units[count - 1]![1]);
      for (const strLen of [16 << 10, 64 << 10, 256 << 10]) {
        const parts = [
          prefix('.debug_abbrev', 16 << 10),
          infoBytes,
          prefix('.debug_str', strLen),
          prefix('.debug_str_offsets', 4 << 10),
          prefix('.debug_line_str', 8 << 10),
        ];
        const names = ['.debug_abbrev', '.debug_info', '.debug_str', '.debug_str_offsets', '.debug_line_str'];
        const file = join(seedRoot(), '.check.elf');
        writeFilePrivate(
          file,
          buildElf({ sections: names.map((name, i) => ({ name, type: 1, data: parts[i]! })) }).bytes,
        );
        const e = ElfFile.open(file);
        try {
          const idx = buildNameIndex(new DwarfReader(e));
          if (!idx.damaged?.length) {
            out.push(joinParts(parts));
            break;
          }
        } catch {
          // a string or abbreviation past the prefixes: try longer ones
        } finally {
          e.close();
          rmSync(file, { force: true });
        }
      }
    }
  } finally {
    elf.close();
  }
  return out;
}

/** Synthetic DWARF (test/lib/synth-dwarf.ts): a struct with members, a pointer, an array, an enum, a variable. */
function synthDwarfSeed(version: 4 | 5): Uint8Array {
  const d = buildDwarf(
    [
      {
        tag: TAG.base_type,
        label: 'int',
        attrs: [
          [AT.name, FORM.strp, 'int'],
          [AT.byte_size, FORM.data1, 4],
          [AT.encoding, FORM.data1, 5],
        ],
      },
      {
        tag: TAG.pointer_type,
        label: 'pint',
        attrs: [
          [AT.byte_size, FORM.data1, 8],
          [AT.type, FORM.ref4, { ref: 'int' }],
        ],
      },
      {
        tag: TAG.structure_type,
        label: 's',
        attrs: [
          [AT.name, FORM.strp, 'pair'],
          [AT.byte_size, FORM.data1, 16],
        ],
        children: [
          {
            tag: TAG.member,
            attrs: [
              [AT.name, FORM.string, 'a'],
              [AT.type, FORM.ref4, { ref: 'int' }],
              [AT.data_member_location, FORM.data1, 0],
            ],
          },
          {
            tag: TAG.member,
            attrs: [
              [AT.name, FORM.string, 'p'],
              [AT.type, FORM.ref4, { ref: 'pint' }],
              [AT.data_member_location, FORM.data1, 8],
            ],
          },
        ],
      },
      {
        tag: TAG.array_type,
        label: 'arr',
        attrs: [[AT.type, FORM.ref4, { ref: 's' }]],
        children: [{ tag: TAG.subrange_type, attrs: [[AT.upper_bound, FORM.data1, 3]] }],
      },
      {
        tag: TAG.enumeration_type,
        attrs: [
          [AT.name, FORM.strp, 'state'],
          [AT.byte_size, FORM.data1, 4],
        ],
        children: [
          {
            tag: TAG.enumerator,
            attrs: [
              [AT.name, FORM.strp, 'RUNNING'],
              [AT.const_value, FORM.sdata, 0],
            ],
          },
        ],
      },
      {
        tag: TAG.variable,
        attrs: [
          [AT.name, FORM.strp, 'pairs'],
          [AT.type, FORM.ref4, { ref: 'arr' }],
          [AT.external, FORM.flag_present, true],
        ],
      },
    ],
    version,
  );
  const elf = ElfFile.open(writeTemp('synth-dwarf.elf', d.elf.bytes));
  try {
    const get = (n: string) => {
      const s = elf.section(n);
      return s ? elf.sectionData(s) : new Uint8Array(0);
    };
    return joinParts(['.debug_abbrev', '.debug_info', '.debug_str', '.debug_str_offsets', '.debug_line_str'].map(get));
  } finally {
    elf.close();
  }
}

/** The first line programs of a real .debug_line with a prefix of .debug_line_str that they decode with. */
function lineSeeds(vmlinux: string): Uint8Array[] {
  const elf = ElfFile.open(vmlinux);
  const out: Uint8Array[] = [];
  try {
    const line = elf.section('.debug_line')!;
    const head = elf.readSectionRange(line, 0, 1 << 16);
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const ends: number[] = [];
    for (let o = 0; o + 4 <= head.length && ends.length < 8; ) {
      const len = dv.getUint32(o, true);
      if (o + 4 + len > head.length) break;
      o += 4 + len;
      ends.push(o);
    }
    const ls = elf.section('.debug_line_str');
    const lineStr = ls ? elf.sectionData(ls) : new Uint8Array(0);
    for (const k of [1, 4]) {
      if (ends.length < k) break;
      const progs = head.subarray(0, ends[k - 1]);
      for (const strLen of [4 << 10, 16 << 10, lineStr.length]) {
        const parts = [progs, lineStr.subarray(0, strLen), new Uint8Array(0)];
        const file = writeTemp(
          'line-check.elf',
          buildElf({
            sections: [
              { name: '.debug_line', type: 1, data: parts[0] },
              { name: '.debug_line_str', type: 1, data: parts[1] },
            ],
          }).bytes,
        );
        const e = ElfFile.open(file);
        try {
          const sec = e.section('.debug_line')!;
          const bytes = e.sectionData(sec);
          let ok = true;
          for (let o = 0, i = 0; i < k; i++) {
            try {
              decodeProgram(bytes, o, e, 0, '/build', 8);
            } catch {
              ok = false;
            }
            o = ends[i]!;
          }
          if (ok) {
            out.push(joinParts(parts));
            break;
          }
        } finally {
          e.close();
        }
      }
    }
  } finally {
    elf.close();
  }
  return out;
}

/** The first `n` entries of the real ORC tables (and the version byte part the target reads). */
function orcSeed(vmlinux: string, n: number, version?: number): Uint8Array {
  const elf = ElfFile.open(vmlinux);
  try {
    const ip = elf.readSectionRange('.orc_unwind_ip', 0, n * 4);
    const unwind = elf.readSectionRange('.orc_unwind', 0, n * 6);
    return joinParts([ip, unwind, version === undefined ? new Uint8Array(0) : Uint8Array.of(version)]);
  } finally {
    elf.close();
  }
}

/**
 * The real kallsyms tables cut to their first `n` symbols: kallsyms_offsets, kallsyms_relative_base,
 * kallsyms_num_syms (set to n), kallsyms_names (n entries), kallsyms_token_table, kallsyms_token_index.
 */
function kallsymsSeed(vmlinux: string, n: number): Uint8Array {
  const elf = ElfFile.open(vmlinux);
  try {
    const want = [
      'kallsyms_offsets',
      'kallsyms_relative_base',
      'kallsyms_num_syms',
      'kallsyms_names',
      'kallsyms_token_table',
      'kallsyms_token_index',
    ];
    const at = new Map<string, bigint>();
    for (const s of elf.symbols('symtab')) if (want.includes(s.name)) at.set(s.name, s.value);
    const read = (name: string, len: number): Uint8Array => {
      const a = at.get(name);
      const b = a === undefined ? undefined : elf.readVirtual(a, len);
      if (!b) throw new Error(`${vmlinux}: cannot read ${name}`);
      return b;
    };
    const names = read('kallsyms_names', 64 * n);
    let p = 0;
    for (let i = 0; i < n; i++) {
      let len = names[p++]!;
      if (len & 0x80) len = (len & 0x7f) | (names[p++]! << 7);
      p += len;
    }
    const index = read('kallsyms_token_index', 512);
    const idv = new DataView(index.buffer, index.byteOffset, 512);
    let span = 0;
    for (let i = 0; i < 256; i++) span = Math.max(span, idv.getUint16(2 * i, true));
    const table = read('kallsyms_token_table', span + 64);
    const count = Buffer.alloc(4);
    count.writeUInt32LE(n);
    return joinParts([
      read('kallsyms_offsets', 4 * n),
      read('kallsyms_relative_base', 8),
      count,
      names.subarray(0, p),
      table.subarray(0, table.indexOf(0, span) + 1),
      index,
    ]);
  } finally {
    elf.close();
  }
}

/** BTF blobs made with test/lib/synth-btf.ts: the kinds a kernel's BTF has. */
function btfSeeds(): Uint8Array[] {
  const a = new BtfBuilder();
  const int = a.int('int', 4, { signed: true });
  const ul = a.int('long unsigned int', 8);
  const ch = a.int('char', 1, { signed: true });
  const fwd = a.fwd('task_struct');
  const lh = a.struct('list_head', 16, []);
  const plh = a.ptr(lh);
  const comm = a.array(ch, int, 16);
  const task = a.struct('task_struct', 64, [
    { name: 'state', type: int, bitOffset: 0 },
    { name: 'tasks', type: lh, bitOffset: 64 },
    { name: 'comm', type: comm, bitOffset: 192 },
    { name: 'flags', type: ul, bitOffset: 320, bitSize: 0 },
    { name: 'parent', type: a.ptr(fwd), bitOffset: 384 },
  ]);
  a.struct('list_head', 16, [
    { name: 'next', type: plh, bitOffset: 0 },
    { name: 'prev', type: plh, bitOffset: 64 },
  ]);
  a.typedef('pid_t', int);
  a.enum('pid_type', 4, [
    ['PIDTYPE_PID', 0],
    ['PIDTYPE_MAX', 4],
  ]);
  const proto = a.proto(int, [['prev', a.ptr(task)]]);
  a.func('schedule', proto);
  const v = a.variable('init_task', task);
  a.datasec('.data', 64, [[v, 0, 64]]);
  a.qualifier('const', a.typeTag('user', ch));
  a.float('double', 8);
  a.declTag('noinline', proto, -1);
  const b = new BtfBuilder();
  const u32 = b.int('unsigned int', 4);
  b.struct(
    'bits',
    8,
    [
      { name: 'x', type: u32, bitOffset: 0, bitSize: 3 },
      { name: 'y', type: u32, bitOffset: 3, bitSize: 29 },
    ],
    { kflag: true },
  );
  b.struct('u', 8, [{ name: 'w', type: u32, bitOffset: 0 }], { union: true });
  return [a.build(), b.build()];
}

const CMDLINES = [
  'bt -a',
  'ps | grep kworker',
  'log > /tmp/out.txt',
  'struct task_struct.comm,pid init_task -c 2',
  'eval (1 << 12) + 0x10',
  'eval 4k * 3',
  'rd -64 ffffffff82a05c00 4',
  'sym schedule',
  "p 'a' >> /tmp/x",
  'kmem -p ~0x1000',
  'dis -l schedule 10',
  '!echo "a > b" | cat',
  'set scroll off',
  '(jiffies - 100)',
  'foreach bt -f',
];

const EXPRESSIONS = [
  'jiffies',
  '(char)jiffies',
  'init_task.comm',
  'init_task.tasks.next',
  '*init_task.tasks.next',
  '&init_task',
  'sizeof(struct task_struct)',
  '(struct list_head *)&init_task.tasks',
  'init_uts_ns.name.release',
  '((struct task_struct *)&init_task)->pid + 1',
  '-(1 << 63) / 3',
  "'a' + 1",
  '0x7fffffffffffffff * 2 % 7',
  'init_task.comm[3]',
  '(unsigned char)-1 == 255',
];

let root: string | undefined;

export function seedRoot(): string {
  root ??= join(process.env.TSCRASH_FUZZ_ROOT ?? join(import.meta.dirname, '..', 'dist', 'fuzz'), 'seeds');
  return root;
}

function writeTemp(name: string, bytes: Uint8Array): string {
  mkdirSync(seedRoot(), { recursive: true });
  const p = join(seedRoot(), `.${name}`);
  rmSync(p, { force: true });
  writeFilePrivate(p, bytes);
  return p;
}

function put(target: string, name: string, bytes: Uint8Array): void {
  const dir = join(seedRoot(), target);
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  rmSync(p, { force: true });
  writeFilePrivate(p, bytes);
}

export interface SeedSource {
  /** The sysrq sample's manifest, when it is built. */
  files: Record<string, string>;
  vmlinux: string | undefined;
}

/** The sample the seeds come from (the sysrq case), or undefined when it is not built. */
export function seedSource(): SeedSource | undefined {
  const manifest = join(samplesDir(), 'sysrq', 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
    vmlinux?: string;
    files: Record<string, { path: string }>;
  };
  const files: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.files)) if (existsSync(v.path)) files[k] = v.path;
  return { files, vmlinux: m.vmlinux && existsSync(m.vmlinux) ? m.vmlinux : undefined };
}

/**
 * Write every target's seeds (rewritten each time: the samples are rebuilt when Debian ships a new kernel).
 * Returns, per target, how many seeds it got.
 */
export function writeSeeds(src: SeedSource | undefined): Map<string, number> {
  rmSync(seedRoot(), { recursive: true, force: true });
  const count = new Map<string, number>();
  const add = (target: string, name: string, bytes: Uint8Array) => {
    put(target, name, bytes);
    count.set(target, (count.get(target) ?? 0) + 1);
  };
  const f = src?.files ?? {};
  for (const key of ['kdump-c-d31', 'kdump-l-d31', 'kdump-d31', 'kdump-c-d0']) {
    if (!f[key]) continue;
    const k = kdumpSeed(f[key]!);
    add('kdump', key, k);
    if (key === 'kdump-c-d31') {
      add('flattened', `${key}-4k`, flatten(k));
      add('flattened', `${key}-1000`, flatten(k, 1000));
      add('split', key, kdumpSeed(f[key]!, 32, { start: 0, end: 16 }));
      put('split-second', key, kdumpSeed(f[key]!, 32, { start: 16, end: 32 }));
      // The real 2nd bitmap's first 8 KiB (the bitmap target's input: two bytes of shift, then the bytes).
      const h = readRange(f[key]!, 0, 4096);
      const bs = h.readUInt32LE(428);
      const half = (h.readUInt32LE(436) * bs) / 2;
      add(
        'bitmap',
        key,
        Buffer.concat([Buffer.alloc(2), readRange(f[key]!, (1 + h.readUInt32LE(432)) * bs + half, 8192)]),
      );
    }
  }
  if (f.elf) {
    add('elf-core', 'elf', elfCoreSeed(f.elf));
    add('elf-notes', 'elf', elfNotes(f.elf));
  }
  if (f['elf-d31']) add('elf-core', 'elf-d31', elfCoreSeed(f['elf-d31'], 1));
  if (f['kdump-c-d31']) {
    const h = readRange(f['kdump-c-d31'], 0, 4096);
    const bs = h.readUInt32LE(428);
    const sub = readRange(f['kdump-c-d31'], bs, 104);
    const viOff = Number(sub.readBigUInt64LE(32));
    const viSize = Number(sub.readBigUInt64LE(40));
    add('vmcoreinfo', 'kdump-c-d31', readRange(f['kdump-c-d31'], viOff, viSize));
    const noteOff = Number(sub.readBigUInt64LE(48));
    const noteSize = Number(sub.readBigUInt64LE(56));
    add('elf-notes', 'kdump-c-d31', readRange(f['kdump-c-d31'], noteOff, noteSize));
  }
  const vm = src?.vmlinux;
  if (vm) {
    add('vmlinux-elf', 'vmlinux', vmlinuxSeed(vm));
    for (const [i, s] of dwarfSeeds(vm).entries()) add('dwarf', `vmlinux-${i}`, s);
    for (const [i, s] of lineSeeds(vm).entries()) add('dwarf-line', `vmlinux-${i}`, s);
    add('orc', 'vmlinux-64', orcSeed(vm, 64));
    add('orc', 'vmlinux-512-v2', orcSeed(vm, 512, 2));
    add('kallsyms', 'vmlinux-100', kallsymsSeed(vm, 100));
  }
  add('dwarf', 'synth-v5', synthDwarfSeed(5));
  add('dwarf', 'synth-v4', synthDwarfSeed(4));
  for (const [i, s] of btfSeeds().entries()) add('btf', `synth-${i}`, s);
  // The bitmap target: two bytes of shift, then bitmap bytes.
  add('bitmap', 'mixed', Buffer.concat([Buffer.from([0x10, 0x04]), Buffer.alloc(600, 0xff), Buffer.alloc(300, 0x5a)]));
  for (const [i, l] of CMDLINES.entries()) add('cmdline', `line-${i}`, Buffer.from(l, 'latin1'));
  for (const [i, l] of EXPRESSIONS.entries()) add('expr', `expr-${i}`, Buffer.from(l, 'latin1'));
  return count;
}
