/**
 * The inputs the fuzzers found (fuzz/), as regression tests built from the real sysrq sample: each escaped as a
 * raw JavaScript error (or left a broken value behind) before its fix; now each is the project's one-line error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadDataError, LookupError, TscrashError } from '../../core/errors.js';
import { BtfDebugInfo } from '../../symbols/btf/debug-info.js';
import { BTF_KIND, Btf } from '../../symbols/btf/format.js';
import { buildNameIndex } from '../../symbols/dwarf/name-index.js';
import { type Die, DwarfReader } from '../../symbols/dwarf/reader.js';
import { ElfFile } from '../../symbols/elf.js';
import { loadSample } from '../lib/samples.js';
import { tempFile } from '../lib/synth-dump.js';
import { buildElf } from '../lib/synth-elf.js';

describe('fuzz findings', () => {
  test('DWARF: a unit that ends inside a DIE (its fixed-size attributes past .debug_info) is damaged, named', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const elf = ElfFile.open(m.vmlinux);
    const units = DwarfReader.unitRecords(elf);
    // The real vmlinux's first unit, its abbreviations and strings.
    const u = units[0]!;
    const unit = Buffer.from(elf.readSectionRange('.debug_info', u.offset, u.end - u.offset));
    const abbrev = elf.sectionData('.debug_abbrev');
    const str = elf.sectionData('.debug_str');
    const strOffsets = elf.section('.debug_str_offsets') ? elf.sectionData('.debug_str_offsets') : new Uint8Array(0);
    elf.close();
    let damaged = 0;
    // The unit cut at 48 places through its DIEs, its unit_length made to say so: the last DIE runs off the end.
    for (let k = 1; k <= 48; k++) {
      const cut = u.dieOffset - u.offset + Math.floor(((unit.length - (u.dieOffset - u.offset)) * k) / 49);
      const info = Buffer.from(unit.subarray(0, cut));
      info.writeUInt32LE(cut - 4, 0);
      const path = tempFile(
        `cut-unit-${k}.elf`,
        buildElf({
          sections: [
            { name: '.debug_abbrev', type: 1, data: abbrev },
            { name: '.debug_info', type: 1, data: info },
            { name: '.debug_str', type: 1, data: str },
            { name: '.debug_str_offsets', type: 1, data: strOffsets },
          ],
        }).bytes,
      );
      const e = ElfFile.open(path);
      try {
        const r = new DwarfReader(e);
        // `tscrash index`: the unit is skipped and named, never a RangeError.
        const idx = buildNameIndex(r);
        if (idx.damaged?.length) {
          damaged++;
          assert.match(idx.damaged[0]!.message, /: offset 0x[0-9a-f]+: /);
        }
        // Reading its DIEs as a lookup does: each is a DIE or the project's error naming the offset.
        const walk = (d: Die | undefined, depth: number): void => {
          if (!d?.children || depth > 64) return;
          for (const c of r.childrenOf(d)) walk(c, depth + 1);
        };
        try {
          walk(r.readDie(r.units[0]!.dieOffset), 0);
        } catch (err) {
          assert.ok(err instanceof BadDataError, `cut ${cut}: ${(err as Error).stack}`);
        }
      } finally {
        e.close();
      }
    }
    // Cuts at a DIE's edge leave a shorter, sound unit; the others are damage.
    assert.ok(damaged >= 8, `${damaged} of 48 cuts named as damaged`);
  });

  test('DWARF: a 64-bit unit length in the last 11 bytes of .debug_info is refused naming its offset', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const elf = ElfFile.open(m.vmlinux);
    const u = DwarfReader.unitRecords(elf)[0]!;
    const unit = Buffer.from(elf.readSectionRange('.debug_info', u.offset, u.end - u.offset));
    const abbrev = elf.sectionData('.debug_abbrev');
    const str = elf.sectionData('.debug_str');
    elf.close();
    // The real first unit, then 11 bytes that start as a 64-bit unit's length (0xffffffff) and end before it.
    const info = Buffer.concat([unit, Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7])]);
    const path = tempFile(
      'unit64-cut.elf',
      buildElf({
        sections: [
          { name: '.debug_abbrev', type: 1, data: abbrev },
          { name: '.debug_info', type: 1, data: info },
          { name: '.debug_str', type: 1, data: str },
        ],
      }).bytes,
    );
    const e = ElfFile.open(path);
    try {
      assert.throws(
        () => new DwarfReader(e),
        (err: unknown) =>
          err instanceof BadDataError &&
          err.offset === unit.length &&
          /64-bit unit length runs past the section/.test(err.message),
      );
    } finally {
      e.close();
    }
  });

  test('BTF: a typedef of a type that is not a C type (a DATASEC) is refused each time, never left half-built', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const elf = ElfFile.open(m.vmlinux);
    const bytes = Uint8Array.from(elf.sectionData('.BTF'));
    elf.close();
    const intact = new Btf(bytes, 'vmlinux .BTF');
    // A typedef and a type no C type is made of (a DATASEC or a DECL_TAG) that does not lead back to it.
    const typedefs: number[] = [];
    const others: number[] = [];
    for (let id = intact.firstId; id < intact.endId && (typedefs.length < 8 || others.length < 8); id++) {
      const k = intact.kind(id);
      if (k === BTF_KIND.TYPEDEF && typedefs.length < 8) typedefs.push(id);
      if ((k === BTF_KIND.DATASEC || k === BTF_KIND.DECL_TAG) && others.length < 8) others.push(id);
    }
    let typedef = 0;
    let d: BtfDebugInfo | undefined;
    for (const td of typedefs) {
      for (const o of others) {
        const copy = Uint8Array.from(bytes);
        new DataView(copy.buffer).setUint32(intact.recordOffset(td) + 8, o, true);
        try {
          d = new BtfDebugInfo(new Btf(copy, 'vmlinux .BTF (damaged)'));
          typedef = td;
          break;
        } catch (e) {
          if (!(e instanceof BadDataError)) throw e; // a cycle back to the typedef: refused at load, try another
        }
      }
      if (d) break;
    }
    assert.ok(d, 'a typedef and a non-C type that make no cycle');
    const name = intact.name(typedef);
    for (let i = 0; i < 2; i++) {
      assert.throws(
        () => d!.types.typeAt(typedef),
        (e: unknown) => e instanceof LookupError && /is not a C type/.test(e.message),
      );
      // By name too: an error, or nothing, never a typedef without a target.
      try {
        const ty = d!.findType(name);
        assert.ok(ty === undefined || (ty.kind === 'typedef' && ty.target !== undefined), JSON.stringify(ty));
      } catch (e) {
        assert.ok(e instanceof TscrashError, String(e));
      }
    }
  });
});
