/**
 * Damaged dumps (issue 18): copies of the real sysrq sample cut short or with bytes changed, opened as a user
 * would open them. Each damaged copy must open (or be refused in one clear line), say what is wrong naming the
 * file offset, and answer from the undamaged part what the intact sample answers.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Dump } from '../../core/dump.js';
import { BadDataError, FaultError } from '../../core/errors.js';
import { describeDump, formatFacts } from '../../core/info.js';
import { openDump } from '../../core/open.js';
import { Program } from '../../program/index.js';
import { damageDir, damagedCopy } from '../lib/damage.js';
import { DUMP_KEYS, loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';
import { run } from '../lib/session.js';

const dir = damageDir();

/** Every page the damaged dump can read equals the intact dump's; returns how many pages read and failed. */
function comparePages(d: Dump, intact: Dump): { read: number; failed: FaultError[] } {
  let read = 0;
  const failed: FaultError[] = [];
  for (const pfn of intact.presentPfns()) {
    if (intact.pageState(pfn) !== 'dumped') continue;
    try {
      const a = d.readPage(pfn);
      if (Buffer.compare(a, intact.readPage(pfn)) !== 0) assert.fail(`pfn 0x${pfn.toString(16)} differs`);
      read++;
    } catch (e) {
      if (!(e instanceof FaultError)) throw e;
      failed.push(e);
    }
  }
  return { read, failed };
}

describe('truncated dumps open, say so once, and name each missing page when it is read', () => {
  test('kdump cut in its page data: TRUNCATED, the pages before the cut read as the intact file', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const cutAt = 8_000_000;
    const d = openDump(damagedCopy(src, 'kdump-cut', cutAt));
    const intact = openDump(src);
    try {
      assert.equal(d.info.truncated, true);
      assert.equal(d.info.truncatedAt, cutAt);
      // tscrash info: the state row, and the warning among its WARNING rows.
      const facts = formatFacts(describeDump(d));
      assert.match(facts, /^ +STATE: TRUNCATED$/m);
      assert.match(facts, /^ +WARNING: .*: may be truncated or incomplete$/m);
      assert.match(d.warnings[0]!, /: may be truncated or incomplete\n.*the file ends at 0x7a1200 \(8000000 bytes\)/);
      const { read, failed } = comparePages(d, intact);
      assert.ok(read > 1000 && failed.length > 1000, `${read} pages read, ${failed.length} failed`);
      for (const e of failed.slice(0, 50)) {
        assert.equal(e.reason, 'truncated');
        assert.match(e.message, new RegExp(`pfn 0x${e.pfn!.toString(16)}\\b.*past the end of the truncated file`));
      }
      assert.equal(d.pageState(failed[0]!.pfn!), 'truncated');
    } finally {
      d.close();
      intact.close();
    }
  });

  test('kdump cut inside its descriptor table and flattened stream cut short: TRUNCATED, pages named', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    for (const [key, cut] of [
      ['kdump-c-d31', 100_000],
      ['flat-c-d31', 8_000_000],
    ] as const) {
      const d = openDump(damagedCopy(m.files[key]!.path, `${key}-cut`, cut));
      const intact = openDump(m.files[key]!.path);
      try {
        assert.equal(d.info.truncated, true, key);
        assert.match(formatFacts(describeDump(d)), /^ +STATE: TRUNCATED$/m, key);
        assert.match(d.warnings[0]!, /may be truncated or incomplete/);
        if (key === 'flat-c-d31') assert.match(d.warnings[0]!, /flattened stream ends at offset 0x[0-9a-f]+ without/);
        else assert.match(d.warnings[0]!, /descriptors are in the file/);
        const { read, failed } = comparePages(d, intact);
        assert.ok(failed.length > 0 && (key === 'kdump-c-d31' || read > 1000), `${key}: ${read} read`);
        for (const e of failed.slice(0, 20)) assert.equal(e.reason, 'truncated', e.message);
      } finally {
        d.close();
        intact.close();
      }
    }
  });

  test("ELF core cut anywhere past its headers opens with crash's warning, in crash's numbers", (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files.elf!.path;
    const intact = openDump(src);
    try {
      for (const cut of [20_000, 60_000_000]) {
        const d = openDump(damagedCopy(src, `elf-cut-${cut}`, cut));
        try {
          // crash (netdump.c) names the first PT_LOAD, in header order, whose data runs past the end.
          const phdrs = (intact as unknown as { segments: { offset: number; filesz: number }[] }).segments;
          const first = phdrs
            .slice()
            .sort((a, b) => a.offset - b.offset)
            .find((s) => s.offset + s.filesz > cut)!;
          assert.ok(
            d.warnings[0]!.startsWith(
              `${d.path}: may be truncated or incomplete\n` +
                `         PT_LOAD p_offset: ${first.offset}\n` +
                `                 p_filesz: ${first.filesz}\n` +
                `           bytes required: ${first.offset + first.filesz}\n` +
                `            dumpfile size: ${cut}\n`,
            ),
            d.warnings[0],
          );
          assert.equal(d.info.truncated, true);
          assert.match(formatFacts(describeDump(d)), /^ +STATE: TRUNCATED$/m);
          assert.equal(d.info.nrCpus, intact.info.nrCpus);
          assert.equal(d.vmcoreinfo, intact.vmcoreinfo);
          const { read, failed } = comparePages(d, intact);
          assert.ok(failed.length > 0 && (cut < 1e6 || read > 1000), `cut ${cut}: ${read} read`);
          for (const e of failed.slice(0, 20)) assert.match(e.message, /lies past the end of the truncated dump/);
        } finally {
          d.close();
        }
      }
    } finally {
      intact.close();
    }
  });

  test('a session on a cut kdump starts with the warning; sys says which figures it cannot read and why', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const path = damagedCopy(m.files['kdump-c-d31']!.path, 'kdump-cut-14m', 14_000_000);
    const prog = await Program.load({ vmcore: path, vmlinux: m.vmlinux });
    try {
      assert.match(prog.warnings[0]!, /^WARNING: .*kdump-cut-14m: may be truncated or incomplete\n/);
      const out = await run(prog, 'sys');
      const crash = oracleText(m, 'crash-sys').split('\n');
      const rows = out.split('\n');
      // Every row either is crash's own row for the intact dump, or says it is unreadable and names the page.
      for (const field of [
        'KERNEL',
        'CPUS',
        'DATE',
        'UPTIME',
        'LOAD AVERAGE',
        'TASKS',
        'NODENAME',
        'RELEASE',
        'VERSION',
        'MACHINE',
        'MEMORY',
        'PANIC',
      ]) {
        const want = crash.find((l) => l.startsWith(`${field.padStart(12)}: `))!;
        const got = rows.filter((l) => l.startsWith(`${field.padStart(12)}: `));
        assert.ok(got.length >= 1, `${field} is not left out: ${out}`);
        for (const g of got) {
          if (g === want || (field === 'MACHINE' && want.startsWith(g))) continue;
          assert.match(g, /\(unreadable: .*\(pfn 0x[0-9a-f]+\).*lies past the end of the truncated file/, field);
        }
      }
      assert.ok(
        rows.some((l) => /^ {7}TASKS: \(unreadable: /.test(l)),
        out,
      );
      assert.ok(
        rows.some((l) => /^ {6}MEMORY: \(unreadable: /.test(l)),
        out,
      );
    } finally {
      prog.close();
    }
  });
});

/** The program headers of an ELF file: [file offset of the header, type, paddr, filesz, memsz]. */
function programHeaders(path: string): { at: number; type: number; paddr: number; filesz: number; memsz: number }[] {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    const phoff = Number(h.readBigUInt64LE(32));
    const n = h.readUInt16LE(56);
    const ph = Buffer.alloc(n * 56);
    readSync(fd, ph, 0, ph.length, phoff);
    return Array.from({ length: n }, (_, i) => ({
      at: phoff + i * 56,
      type: ph.readUInt32LE(i * 56),
      paddr: Number(ph.readBigUInt64LE(i * 56 + 24)),
      filesz: Number(ph.readBigUInt64LE(i * 56 + 32)),
      memsz: Number(ph.readBigUInt64LE(i * 56 + 40)),
    }));
  } finally {
    closeSync(fd);
  }
}

const u64le = (v: bigint): number[] => [...Buffer.from(new BigUint64Array([v]).buffer)];

describe('absurd and overlapping ELF segments', () => {
  test('a PT_LOAD with p_memsz 0xfffffffff000: warned naming its header, cut back; info ends, pages as intact', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['elf-d31']!.path;
    const loads = programHeaders(src).filter((p) => p.type === 1);
    // The first RAM segment (after the kernel-text ones) and the last one: a huge tail, and one into its neighbour.
    const ram = loads.filter((p) => p.paddr < 0x100000);
    const target = ram[0] ?? loads[1]!;
    const next = loads.filter((p) => p.paddr > target.paddr).sort((a, b) => a.paddr - b.paddr)[0]!;
    const intact = openDump(src);
    try {
      for (const [name, memsz, why] of [
        [
          'elf-huge-memsz',
          0xfffffffff000n,
          /ends past the 46-bit physical address space: its size is taken as its p_filesz/,
        ],
        [
          'elf-overlap',
          BigInt(next.paddr - target.paddr + 0x10_0000),
          /overlaps the PT_LOAD at 0x[0-9a-f]+ .*its size is taken as its p_filesz/,
        ],
      ] as const) {
        const path = damagedCopy(src, name, undefined, [[target.at + 40, u64le(memsz)]]);
        const d = openDump(path);
        try {
          assert.equal(d.warnings.length, 1, d.warnings.join('\n'));
          assert.ok(d.warnings[0]!.startsWith(`${path}: offset 0x${target.at.toString(16)}: PT_LOAD`), d.warnings[0]);
          assert.match(d.warnings[0]!, why);
          assert.equal(d.maxPfn, intact.maxPfn);
          const { read, failed } = comparePages(d, intact);
          assert.equal(failed.length, 0);
          assert.ok(read > 1000);
        } finally {
          d.close();
        }
      }
    } finally {
      intact.close();
    }
  });
});

/** Offsets of every occurrence of `needle` in the file's first `limit` bytes. */
function findAll(path: string, needle: string, limit = 1 << 20): number[] {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(limit);
  const n = readSync(fd, b, 0, limit, 0);
  closeSync(fd);
  const out: number[] = [];
  for (let i = b.subarray(0, n).indexOf(needle); i >= 0; i = b.subarray(0, n).indexOf(needle, i + 1)) out.push(i);
  return out;
}

describe('damaged VMCOREINFO', () => {
  test("one byte of KERNELOFFSET's value changed: one line naming the file, offset and the value", async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const at = findAll(src, 'KERNELOFFSET=');
    assert.ok(at.length >= 1);
    const value = m.facts.kaslrOffset!.replace(/^0x/, '');
    // The value's last '0' (0x30) becomes 0x14, as in the issue.
    const byte = 'KERNELOFFSET='.length + value.lastIndexOf('0');
    const path = damagedCopy(
      src,
      'kdump-kerneloffset',
      undefined,
      at.map((o) => [o + byte, [0x14]]),
    );
    const bad = `${value.slice(0, value.lastIndexOf('0'))}\\u0014${value.slice(value.lastIndexOf('0') + 1)}`;
    await assert.rejects(
      () => Program.load({ vmcore: path, vmlinux: m.vmlinux }),
      (e: unknown) =>
        e instanceof BadDataError &&
        e.file === path &&
        at.includes(e.offset) &&
        e.message.includes(`KERNELOFFSET=${bad} is not a hexadecimal number`),
    );
  });
});

/** The notes of an ELF core's first PT_NOTE: the file offset of each note's header, its name, type and size. */
function elfNotes(path: string): { at: number; name: string; type: number; descsz: number }[] {
  const note = programHeaders(path).find((p) => p.type === 4)!;
  const fd = openSync(path, 'r');
  const ph = Buffer.alloc(56);
  readSync(fd, ph, 0, 56, note.at);
  const off = Number(ph.readBigUInt64LE(8));
  const b = Buffer.alloc(note.filesz);
  readSync(fd, b, 0, b.length, off);
  closeSync(fd);
  const out: { at: number; name: string; type: number; descsz: number }[] = [];
  for (let p = 0; p + 12 <= b.length; ) {
    const namesz = b.readUInt32LE(p);
    const descsz = b.readUInt32LE(p + 4);
    if (namesz === 0 && descsz === 0) break;
    const name = b.toString('latin1', p + 12, p + 12 + namesz).replace(/\0+$/, '');
    out.push({ at: off + p, name, type: b.readUInt32LE(p + 8), descsz });
    p += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3);
  }
  return out;
}

describe('damage that used to be read in silence is named', () => {
  test('the intact samples raise no warning in any format', (t) => {
    for (const name of SAMPLE_NAMES) {
      const m = loadSample(name, t);
      if (!m) return;
      for (const key of DUMP_KEYS) {
        if (!m.files[key]) continue;
        const d = openDump(m.files[key]!.path);
        try {
          assert.deepEqual(d.warnings, [], `${name} ${key}`);
        } finally {
          d.close();
        }
      }
    }
  });

  test('a flipped bit in the 2nd bitmap, either way: the count and the descriptor table disagree, named', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const fd = openSync(src, 'r');
    const h = Buffer.alloc(464);
    readSync(fd, h, 0, 464, 0);
    const bs = h.readUInt32LE(428);
    const bitmapAt = (1 + h.readUInt32LE(432)) * bs;
    const half = (h.readUInt32LE(436) * bs) / 2;
    const bm2 = Buffer.alloc(half);
    readSync(fd, bm2, 0, half, bitmapAt + half);
    closeSync(fd);
    // A byte of the 2nd bitmap in the middle of the dumped pages with both set and clear bits.
    const mixed = [...bm2.keys()].filter((i) => bm2[i]! > 0 && bm2[i]! < 255);
    const i = mixed[Math.floor(mixed.length / 2)]!;
    const set = [0, 1, 2, 3, 4, 5, 6, 7].find((k) => !((bm2[i]! >> k) & 1))!;
    const clear = [0, 1, 2, 3, 4, 5, 6, 7].find((k) => (bm2[i]! >> k) & 1)!;
    const intact = openDump(src);
    const count = intact.info.pagesDumped as number;
    intact.close();
    for (const [name, byte, want] of [
      ['bitmap-set', bm2[i]! | (1 << set), `says ${count + 1} pages are dumped, but the first page's data starts`],
      ['bitmap-clear', bm2[i]! & ~(1 << clear), `says ${count - 1} pages are dumped, but a page descriptor follows`],
    ] as const) {
      const d = openDump(damagedCopy(src, name, undefined, [[bitmapAt + half + i, [byte]]]));
      try {
        assert.equal(d.warnings.length, 1, d.warnings.join('\n'));
        assert.match(d.warnings[0]!, /: offset 0x[0-9a-f]+: the 2nd bitmap /);
        assert.ok(d.warnings[0]!.includes(want), d.warnings[0]);
      } finally {
        d.close();
      }
    }
  });

  test('status 0x7f (four compression methods) is refused; nr_cpus 0x80000000 is warned and not used', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    assert.throws(
      () => openDump(damagedCopy(src, 'status-7f', undefined, [[424, [0x7f, 0, 0, 0]]])),
      (e: unknown) =>
        e instanceof BadDataError &&
        e.offset === 424 &&
        /status 0x7f names 4 compression methods \(zlib, lzo, snappy, zstd\)/.test(e.message),
    );
    const d = openDump(damagedCopy(src, 'nr-cpus', undefined, [[460, [0, 0, 0, 0x80]]]));
    try {
      // crash's sys on the intact dump: the CPUs the notes have.
      const cpus = Number(/^ +CPUS: (\d+)$/m.exec(oracleText(m, 'crash-sys'))![1]);
      assert.equal(d.info.nrCpus, cpus);
      assert.equal(d.warnings.length, 1);
      assert.match(
        d.warnings[0]!,
        /offset 0x1cc: the disk_dump_header's nr_cpus 2147483648 disagrees with its \d+ NT_PRSTATUS notes/,
      );
    } finally {
      d.close();
    }
  });

  test("the PT_NOTE's type changed, or CPU 1's NT_PRSTATUS retyped: warned with the offset; bt says what is missing", async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['elf-d31']!.path;
    const note = programHeaders(src).find((p) => p.type === 4)!;
    const prstatus = elfNotes(src).filter((n) => n.name === 'CORE' && n.type === 1);
    assert.ok(prstatus.length >= 2);
    const intactProg = await Program.load({ vmcore: src, vmlinux: m.vmlinux });
    const intactBt = await run(intactProg, 'bt -a');
    intactProg.close();
    // The whole note segment retyped: no notes, no CPU registers: said, and bt makes up no frames.
    const noNotes = damagedCopy(src, 'elf-pt-note', undefined, [[note.at, [0x14, 0, 0, 0]]]);
    // info still finds VMCOREINFO (in memory) and says why CPUS is 0.
    const nd = openDump(noNotes);
    try {
      const f = describeDump(nd);
      assert.equal(f.cpus, 0);
      assert.equal(f.release, m.release);
      assert.equal(f.kaslrOffset, m.facts.kaslrOffset);
      assert.ok(f.warnings.some((w) => /no NT_PRSTATUS note/.test(w)));
    } finally {
      nd.close();
    }
    const p1 = await Program.load({ vmcore: noNotes, vmlinux: m.vmlinux });
    try {
      assert.ok(p1.warnings.some((w) => w.includes(`offset 0x${note.at.toString(16)}: program header 0 has type 20`)));
      assert.ok(p1.warnings.some((w) => /no NT_PRSTATUS note/.test(w)));
      const bt = await run(p1, 'bt -a');
      assert.doesNotMatch(bt, /0000000000000000 at 0000000000000000/);
      assert.equal((bt.match(/^bt: no registers for CPU \d in the dump/gm) ?? []).length, prstatus.length, bt);
    } finally {
      p1.close();
    }
    // CPU 1's note retyped: that CPU's registers are missing, CPU 0's backtrace is the intact one.
    const second = prstatus[1]!;
    const oneNote = damagedCopy(src, 'elf-prstatus', undefined, [[second.at + 8, [0x77, 0, 0, 0]]]);
    const p2 = await Program.load({ vmcore: oneNote, vmlinux: m.vmlinux });
    try {
      const want = `offset 0x${(second.at + 12 + 8).toString(16)}: a CORE note of type 119, which no vmcore has (of the size of NT_PRSTATUS`;
      assert.ok(
        p2.warnings.some((w) => w.includes(want)),
        p2.warnings.join('\n'),
      );
      const bt = await run(p2, 'bt -a');
      const blocks = (x: string): string[] => x.split(/\n(?=PID: )/);
      const cpu0 = blocks(intactBt).find((b) => /CPU: 0 /.test(b))!;
      assert.ok(
        blocks(bt).some((b) => b.trimEnd() === cpu0.trimEnd()),
        'CPU 0 as in the intact dump',
      );
      assert.match(bt, /CPU: 1 .*\nbt: no registers for CPU 1 in the dump/);
    } finally {
      p2.close();
    }
  });

  test("a flattened record's offset byte changed: the overlap is warned naming the record", (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['flat-c-d31']!.path;
    const fd = openSync(src, 'r');
    const recs: { pos: number; off: number; size: number }[] = [];
    const rh = Buffer.alloc(16);
    for (let pos = 4096; ; ) {
      readSync(fd, rh, 0, 16, pos);
      const off = rh.readBigInt64BE(0);
      if (off === -1n) break;
      const size = Number(rh.readBigInt64BE(8));
      recs.push({ pos, off: Number(off), size });
      pos += 16 + size;
    }
    closeSync(fd);
    const r = recs[Math.floor(recs.length * 0.6)]!;
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt(r.off ^ 0x100));
    const d = openDump(damagedCopy(src, 'flat-record', undefined, [[r.pos, [...bytes]]]));
    try {
      assert.equal(d.warnings.length, 1, d.warnings.join('\n'));
      // The damaged record is one of the overlapping pair: the one that comes second in the stream is warned of,
      // and whether the damage moved it onto its successor or its predecessor depends on the boot's layout.
      const at = `0x${r.pos.toString(16)}`;
      const w = d.warnings[0]!;
      const pair =
        /offset (0x[0-9a-f]+): the flattened stream's records are damaged .* the record at stream offset (0x[0-9a-f]+) writes image bytes .* over those of the record at stream offset (0x[0-9a-f]+) /.exec(
          w,
        );
      assert.ok(pair, w);
      assert.equal(pair[1], pair[2], w);
      assert.ok(pair[2] === at || pair[3] === at, `the damaged record ${at} is one of the pair: ${w}`);
    } finally {
      d.close();
    }
  });
});

describe('other architectures and formats are refused by name, in every format', () => {
  test('ELF e_machine of aarch64, ppc64le, arm, riscv64, i386; 32-bit and big-endian; a kdump or flattened header naming aarch64', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const elf = m.files['elf-d31']!.path;
    const u16 = (v: number, le = true): number[] => (le ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
    const cases: [string, string, [number, number[]][], RegExp][] = [
      ['aarch64', elf, [[18, u16(183)]], /unsupported architecture: aarch64 \(e_machine 183\); /],
      ['ppc64le', elf, [[18, u16(21)]], /unsupported architecture: ppc64le \(e_machine 21\); /],
      ['arm', elf, [[18, u16(40)]], /unsupported architecture: arm \(e_machine 40\); /],
      ['riscv64', elf, [[18, u16(243)]], /unsupported architecture: riscv64 \(e_machine 243\); /],
      ['i386', elf, [[18, u16(3)]], /unsupported architecture: i386 \(e_machine 3\); /],
      [
        'elf32',
        elf,
        [
          [4, [1]],
          [18, u16(3)],
        ],
        /unsupported architecture: i386 \(e_machine 3, a 32-bit little-endian ELF\)/,
      ],
      [
        'ppc64-be',
        elf,
        [
          [5, [2]],
          [18, u16(21, false)],
        ],
        /unsupported architecture: ppc64 \(e_machine 21, a 64-bit big-endian ELF\)/,
      ],
      [
        'kdump-aarch64',
        m.files['kdump-c-d31']!.path,
        [[12 + 4 * 65, [...Buffer.from('aarch64\0')]]],
        /unsupported architecture: aarch64 \(the disk_dump_header's utsname machine\)/,
      ],
      [
        'flat-aarch64',
        m.files['flat-c-d31']!.path,
        [[4096 + 16 + 12 + 4 * 65, [...Buffer.from('aarch64\0')]]],
        /unsupported architecture: aarch64 \(the disk_dump_header's utsname machine\)/,
      ],
    ];
    for (const [name, src, patch, want] of cases) {
      const path = damagedCopy(src, `arch-${name}`, 1 << 20, patch);
      assert.throws(
        () => openDump(path),
        (e: unknown) => e instanceof BadDataError && e.file === path && want.test(e.message),
        name,
      );
    }
  });

  test('a Xen xc_core ELF (memory in sections, no PT_LOAD) is named, not read as an empty vmcore', () => {
    // The layout Xen's xc_core writes: an ELF64 ET_CORE with no program headers and its .xen_* sections.
    const names = ['', '.shstrtab', '.note.Xen', '.xen_prstatus', '.xen_p2m', '.xen_pages'];
    const strtab = Buffer.from(`${names.join('\0')}\0`);
    const shoff = 64 + strtab.length + ((8 - ((64 + strtab.length) % 8)) % 8);
    const file = Buffer.alloc(shoff + names.length * 64);
    file.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
    file.writeUInt16LE(4, 16);
    file.writeUInt16LE(62, 18);
    file.writeUInt32LE(1, 20);
    file.writeBigUInt64LE(BigInt(shoff), 40);
    file.writeUInt16LE(64, 52);
    file.writeUInt16LE(56, 54);
    file.writeUInt16LE(64, 58);
    file.writeUInt16LE(names.length, 60);
    file.writeUInt16LE(1, 62);
    strtab.copy(file, 64);
    let at = 0;
    names.forEach((n, i) => {
      file.writeUInt32LE(at, shoff + i * 64);
      at += n.length + 1;
    });
    file.writeUInt32LE(3, shoff + 64 + 4);
    file.writeBigUInt64LE(64n, shoff + 64 + 24);
    file.writeBigUInt64LE(BigInt(strtab.length), shoff + 64 + 32);
    const path = join(dir, 'xc_core');
    writeSync(openSync(path, 'w', 0o600), file);
    assert.throws(
      () => openDump(path),
      (e: unknown) =>
        e instanceof BadDataError &&
        /a Xen xc_core dump \(sections \.note\.Xen, \.xen_prstatus, \.xen_p2m, \.xen_pages\), not a Linux vmcore/.test(
          e.message,
        ),
    );
  });
});

/** The sysrq kdump file's bitmap layout: block size, 1st bitmap's offset, each bitmap's length, both bitmaps. */
function bitmaps(src: string): { bitmapAt: number; half: number; bm1: Buffer; bm2: Buffer } {
  const fd = openSync(src, 'r');
  try {
    const h = Buffer.alloc(464);
    readSync(fd, h, 0, 464, 0);
    const bs = h.readUInt32LE(428);
    const bitmapAt = (1 + h.readUInt32LE(432)) * bs;
    const half = (h.readUInt32LE(436) * bs) / 2;
    const bm1 = Buffer.alloc(half);
    const bm2 = Buffer.alloc(half);
    readSync(fd, bm1, 0, half, bitmapAt);
    readSync(fd, bm2, 0, half, bitmapAt + half);
    return { bitmapAt, half, bm1, bm2 };
  } finally {
    closeSync(fd);
  }
}

describe('kdump bitmaps: the 1st against the 2nd, pages read from damaged ones marked, a file cut inside them', () => {
  test("a dumped page's bit cleared in the 1st bitmap: its read names the bitmap's offset, the count says it too", (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const { bitmapAt, bm2 } = bitmaps(src);
    // A byte of the 2nd bitmap in the middle of the dumped pages, and its first dumped pfn.
    const full = [...bm2.keys()].filter((i) => bm2[i]! !== 0);
    const i = full[Math.floor(full.length / 2)]!;
    const bit = [0, 1, 2, 3, 4, 5, 6, 7].find((k) => (bm2[i]! >> k) & 1)!;
    const pfn = i * 8 + bit;
    const intact = openDump(src);
    const { bm1 } = bitmaps(src);
    const d = openDump(damagedCopy(src, 'bitmap1-clear', undefined, [[bitmapAt + i, [bm1[i]! & ~(1 << bit)]]]));
    try {
      // The 1st bitmap is not read at open (big machines): nothing at open, the page's read says it.
      assert.deepEqual(d.warnings, []);
      assert.deepEqual(Buffer.compare(d.readPage(pfn), intact.readPage(pfn)), 0, 'the page reads as intact');
      const w = d.readWarnings ?? [];
      assert.equal(w.length, 1, w.join('\n'));
      assert.ok(
        w[0]!.includes(
          `: offset 0x${(bitmapAt + i).toString(16)}: the 1st bitmap says pfn 0x${pfn.toString(16)} is not in memory, but the 2nd bitmap says it is dumped`,
        ),
        w[0],
      );
      // tscrash info's count of the pages present finds it too.
      assert.equal(d.info.pagesPresent, (intact.info.pagesPresent as number) - 1);
      assert.equal(d.readWarnings?.length, 1, 'this 1st bitmap still has more present pages than dumped');
      // A neighbour whose bits agree reads with no warning.
      const other = [...intact.presentPfns()].find((p) => p >> 3 !== i)!;
      d.readPage(other);
      assert.equal(d.readWarnings?.length, 1);
    } finally {
      d.close();
      intact.close();
    }
  });

  test('a page read after the 2nd bitmap and the descriptors disagree names its descriptor; a session prints it', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const { bitmapAt, half, bm2 } = bitmaps(src);
    const mixed = [...bm2.keys()].filter((i) => bm2[i]! > 0 && bm2[i]! < 255);
    const i = mixed[Math.floor(mixed.length / 2)]!;
    const clear = [0, 1, 2, 3, 4, 5, 6, 7].find((k) => (bm2[i]! >> k) & 1)!;
    const path = damagedCopy(src, 'bitmap2-clear', undefined, [[bitmapAt + half + i, [bm2[i]! & ~(1 << clear)]]]);
    const d = openDump(path);
    try {
      assert.equal(d.warnings.length, 1);
      const pfn = [...d.presentPfns()].find((p) => p > i * 8)!;
      d.readPage(pfn);
      const w = d.readWarnings ?? [];
      assert.equal(w.length, 1, w.join('\n'));
      assert.match(
        w[0]!,
        new RegExp(
          `: offset 0x[0-9a-f]+: pfn 0x${pfn.toString(16)} is read from this page descriptor, but the 2nd bitmap and the descriptor table disagree`,
        ),
      );
    } finally {
      d.close();
    }
    // In a session, the command whose reads found it prints it after its output.
    const prog = await Program.load({ vmcore: path, vmlinux: m.vmlinux });
    try {
      const out = await run(prog, 'rd -p 0x100000 2');
      assert.match(
        out,
        /WARNING: .*is read from this page descriptor, but the 2nd bitmap and the descriptor table disagree/,
      );
    } finally {
      prog.close();
    }
  });

  test('a kdump file cut inside its bitmaps opens: TRUNCATED at the cut, VMCOREINFO and notes read, pages named', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const src = m.files['kdump-c-d31']!.path;
    const { bitmapAt, half, bm1, bm2 } = bitmaps(src);
    const intact = openDump(src);
    // Cut in the middle of the 2nd bitmap.
    const cut = bitmapAt + half + Math.floor(half / 2);
    const d = openDump(damagedCopy(src, 'cut-in-bitmaps', cut));
    try {
      assert.equal(d.info.truncated, true);
      assert.equal(d.info.truncatedAt, cut);
      assert.equal(d.warnings.length, 1, d.warnings.join('\n'));
      assert.match(d.warnings[0]!, /may be truncated or incomplete/);
      assert.ok(d.warnings[0]!.includes(`the file ends at 0x${cut.toString(16)} (${cut} bytes)`), d.warnings[0]);
      assert.equal(d.vmcoreinfo, intact.vmcoreinfo);
      assert.equal(d.notes.length, intact.notes.length);
      // A page dumped in the intact file: its read says the file ends in the bitmaps.
      const pfn = [...intact.presentPfns()][0]!;
      assert.equal(d.pageState(pfn), 'truncated');
      assert.throws(
        () => d.readPage(pfn),
        (e: unknown) =>
          e instanceof FaultError &&
          e.reason === 'truncated' &&
          e.message.includes(`(pfn 0x${pfn.toString(16)})`) &&
          e.message.includes(`the file ends at offset 0x${cut.toString(16)}, inside its bitmaps`),
      );
      // A pfn whose bits are in the file and say excluded reads as the intact file says.
      const excluded = [...bm1.keys()].find((j) => j < half / 2 && (bm1[j]! & ~bm2[j]!) !== 0)!;
      const e = excluded * 8 + [0, 1, 2, 3, 4, 5, 6, 7].find((k) => ((bm1[excluded]! & ~bm2[excluded]!) >> k) & 1)!;
      assert.equal(d.pageState(e), intact.pageState(e));
      // tscrash info reads it.
      assert.match(formatFacts(describeDump(d)), /TRUNCATED/);
    } finally {
      d.close();
      intact.close();
    }
  });
});
