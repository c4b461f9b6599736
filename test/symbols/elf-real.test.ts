/**
 * ElfFile on the real Debian vmlinux (and one debug module) against binutils:
 * readelf's section and program headers and build-id, raw file bytes for
 * positioned reads, and readelf's relocated view of a module's DWARF.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { ElfFile, ET_EXEC, ET_REL } from '../../symbols/elf.js';
import { UnitHeaderReader } from '../../symbols/line-units.js';
import { inCI, loadSample, SAMPLE_NAMES, samplesDir } from '../lib/samples.js';

const FLAG_LETTERS: [number, string][] = [
  [0x1, 'W'],
  [0x2, 'A'],
  [0x4, 'X'],
  [0x10, 'M'],
  [0x20, 'S'],
  [0x40, 'I'],
  [0x80, 'L'],
  [0x200, 'G'],
  [0x400, 'T'],
  [0x800, 'C'],
];

function flagString(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => flags & bit)
    .map(([, l]) => l)
    .join('');
}

for (const name of SAMPLE_NAMES) {
  describe(`ElfFile on the ${name} sample's vmlinux`, () => {
    test('every section header equals readelf -S', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      assert.equal(elf.type, ET_EXEC);
      const out = execFileSync('readelf', ['-S', '-W', m.vmlinux], { encoding: 'latin1' });
      const rows = [
        ...out.matchAll(
          /^\s+\[\s*(\d+)\]\s+(\S*)\s+([A-Z_0-9]+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]{2})\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)$/gm,
        ),
      ];
      assert.equal(rows.length, elf.sections.length, 'readelf lists every section');
      for (const r of rows) {
        const s = elf.sections[Number(r[1])]!;
        const what = `[${r[1]}] ${r[2]}`;
        assert.equal(s.name, r[2] === 'NULL' ? '' : r[2], what);
        assert.equal(s.addr, BigInt(`0x${r[4]}`), `${what} address`);
        assert.equal(s.offset, Number.parseInt(r[5]!, 16), `${what} offset`);
        assert.equal(s.size, Number.parseInt(r[6]!, 16), `${what} size`);
        assert.equal(s.entsize, Number.parseInt(r[7]!, 16), `${what} entsize`);
        assert.equal(flagString(s.flags), r[8], `${what} flags`);
        assert.equal(s.link, Number(r[9]), `${what} link`);
        assert.equal(s.info, Number(r[10]), `${what} info`);
        assert.equal(s.addralign, Number(r[11]), `${what} align`);
      }
      elf.close();
    });

    test('program headers equal readelf -l, build-id equals readelf -n', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const out = execFileSync('readelf', ['-l', '-W', m.vmlinux], { encoding: 'latin1' });
      const rows = [
        ...out.matchAll(
          /^\s+([A-Z_]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s.*0x([0-9a-f]+)$/gm,
        ),
      ];
      assert.equal(rows.length, elf.programHeaders.length);
      rows.forEach((r, i) => {
        const p = elf.programHeaders[i]!;
        assert.equal(p.type, { LOAD: 1, NOTE: 4 }[r[1]!] ?? p.type);
        assert.equal(p.offset, Number.parseInt(r[2]!, 16));
        assert.equal(p.vaddr, BigInt(`0x${r[3]}`));
        assert.equal(p.paddr, BigInt(`0x${r[4]}`));
        assert.equal(p.filesz, Number.parseInt(r[5]!, 16));
        assert.equal(p.memsz, Number.parseInt(r[6]!, 16));
        assert.equal(p.align, Number.parseInt(r[7]!, 16));
      });
      const notes = execFileSync('readelf', ['-n', m.vmlinux], { encoding: 'latin1' });
      const id = /Build ID: ([0-9a-f]+)/.exec(notes)?.[1];
      assert.ok(id);
      assert.equal(elf.buildId, id);
      assert.equal(elf.buildId, m.buildId);
      elf.close();
    });

    test('positioned range reads equal the file; .rela.debug_* are not applied to an ET_EXEC; shared sections', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const info = elf.section('.debug_info')!;
      assert.ok(elf.section('.rela.debug_info'), 'Debian keeps --emit-relocs sections');
      assert.equal(elf.needsRelocation(info), false);
      const fd = openSync(m.vmlinux, 'r');
      for (const off of [0, 12345, info.size - 64]) {
        const want = new Uint8Array(64);
        readSync(fd, want, 0, 64, info.offset + off);
        assert.deepEqual(elf.readSectionRange(info, off, 64), want, `.debug_info+${off}`);
      }
      closeSync(fd);
      const line = elf.sectionData('.debug_line', { shared: true });
      assert.ok(line.buffer instanceof SharedArrayBuffer);
      assert.equal(line.length, elf.section('.debug_line')!.size);
      assert.deepEqual(elf.readSectionRange('.debug_line', 1000, 32), line.subarray(1000, 1032));
      elf.close();
    });
  });
}

/** A debug module from the -dbg package, extracted once into a temp cache. */
function debugModule(t: TestContext, release: string, rel: string): string | undefined {
  const out = join(tmpdir(), 'tscrash-test-modules', release, rel);
  if (existsSync(out)) return out;
  const debs = join(samplesDir(), 'debs');
  const deb = existsSync(debs) ? readdirSync(debs).find((f) => f.startsWith(`linux-image-${release}-dbg_`)) : undefined;
  if (!deb) {
    const why = `no -dbg package for ${release} under ${debs}`;
    if (inCI()) throw new Error(why);
    t.skip(why);
    return undefined;
  }
  mkdirSync(dirname(out), { recursive: true });
  const member = `./usr/lib/debug/lib/modules/${release}/${rel}`;
  const r = spawnSync(
    'sh',
    [
      '-c',
      `dpkg-deb --fsys-tarfile "$1" | tar -x -O "$2" > "$3.tmp" && mv "$3.tmp" "$3"`,
      'sh',
      join(debs, deb),
      member,
      out,
    ],
    { stdio: 'ignore' },
  );
  if (r.status !== 0 || !existsSync(out)) throw new Error(`could not extract ${member} from ${deb}`);
  return out;
}

describe('ElfFile on a real debug module (ET_REL)', () => {
  test("relocated .debug_info gives the unit's name, comp_dir and stmt_list readelf shows", (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const ko = debugModule(t, m.release, 'kernel/net/key/af_key.ko');
    if (!ko) return;
    const elf = ElfFile.open(ko);
    assert.equal(elf.type, ET_REL);
    assert.ok(elf.needsRelocation('.debug_info'));
    const out = execFileSync('readelf', ['--debug-dump=info', '--dwarf-depth=1', ko], {
      encoding: 'latin1',
      maxBuffer: 1 << 28,
    });
    const units = [...out.matchAll(/Compilation Unit @ offset (0x[0-9a-f]+|0):/g)].map((r) => Number(r[1]));
    assert.ok(units.length >= 1);
    const reader = new UnitHeaderReader(elf);
    assert.deepEqual(reader.unitOffsets(), units);
    for (const u of units) {
      const info = reader.unit(u);
      const block = out.slice(out.indexOf(`Compilation Unit @ offset ${u === 0 ? '0' : `0x${u.toString(16)}`}:`));
      const name = /DW_AT_name\s+: \(indirect line string, offset: 0x[0-9a-f]+\): (.*)/.exec(block)?.[1];
      const compDir = /DW_AT_comp_dir\s+: \(indirect line string, offset: 0x[0-9a-f]+\): (.*)/.exec(block)?.[1];
      const stmt = /DW_AT_stmt_list\s+: (0x[0-9a-f]+|\d+)/.exec(block)?.[1];
      assert.equal(info.name, name);
      assert.equal(info.compDir, compDir);
      assert.equal(info.stmtList, Number(stmt));
    }
    // Unrelocated, the string offsets are all zero (RELA keeps them in the addends): relocation did the work.
    const raw = elf.sectionData('.debug_info', { raw: true });
    const rel = elf.sectionData('.debug_info');
    assert.notDeepEqual(raw, rel);
    elf.close();
  });
});
