/**
 * ORC tables of the real vmlinux: the format version equals what the DWARF
 * `struct orc_entry` (pahole) says; the tables equal the crashed kernel's own
 * copy in the dump's memory; every block of the kernel's boot-time
 * `orc_lookup` table agrees with our binary search; and function entries look
 * like function entries (return address just above SP).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { ElfFile } from '../../symbols/elf.js';
import { ORC_REG_SP, OrcTable, orcVersionFromMembers } from '../../symbols/orc.js';
import { SymbolTable } from '../../symbols/symtab.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

for (const name of SAMPLE_NAMES) {
  describe(`ORC tables of the ${name} sample's kernel`, () => {
    test('version from the data equals the DWARF layout of struct orc_entry (pahole)', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const orc = OrcTable.fromElf(elf)!;
      assert.ok(orc);
      assert.equal(orc.versionSource, 'data');
      const pa = execFileSync('pahole', ['-C', 'orc_entry', m.vmlinux], { encoding: 'latin1' });
      const members = [...pa.matchAll(/^\s+\S.*?\s(\w+)(?::(\d+))?;/gm)].map((r) => ({
        name: r[1]!,
        bitSize: r[2] ? Number(r[2]) : undefined,
      }));
      assert.ok(members.some((x) => x.name === 'sp_reg'));
      assert.equal(orc.version, orcVersionFromMembers(members));
      assert.equal(OrcTable.fromElf(elf, { version: orc.version })!.versionSource, 'given');
      elf.close();
    });

    test('entries are sorted; function entries have the return address at SP+8', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const orc = OrcTable.fromElf(elf)!;
      assert.equal(orc.count, elf.section('.orc_unwind_ip')!.size / 4);
      assert.ok(orc.storedSorted, 'v5.6+ kernels sort the tables at build time');
      for (let i = 1; i < orc.count; i++) assert.ok(orc.ip(i) >= orc.ip(i - 1));
      const text = elf.section('.text')!;
      const end = text.addr + BigInt(text.size);
      const st = SymbolTable.fromElf(elf);
      let funcs = 0;
      let callAtEntry = 0;
      for (const s of st.entries()) {
        if (s.letter !== 'T' || s.size === 0 || s.address < text.addr || s.address >= end) continue;
        funcs++;
        const e = orc.find(s.address)!;
        if (e.type === 'call' && e.spReg === ORC_REG_SP && e.spOffset === 8 && !e.end) callAtEntry++;
      }
      assert.ok(funcs > 10000);
      // Assembly entry points (entry_SYSCALL_64, the IDT stubs...) are the exceptions.
      assert.ok(callAtEntry > funcs * 0.98, `${callAtEntry} of ${funcs} global functions start with a call frame`);
      const sched = orc.find(st.lookup('schedule')!.address)!;
      assert.deepEqual([sched.type, sched.spReg, sched.spOffset], ['call', ORC_REG_SP, 8]);
      const sys = orc.find(st.lookup('entry_SYSCALL_64')!.address)!;
      assert.ok(sys.end, 'the syscall entry is the end of the stack');
      const pf = orc.find(st.lookup('asm_exc_page_fault')!.address)!;
      assert.ok(pf.type === 'regs_partial' && pf.signal, 'an exception entry starts at its IRET frame');
      elf.close();
    });

    test("the dump's memory holds the same tables, and the kernel's orc_lookup agrees with our search", (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const orc = OrcTable.fromElf(elf)!;
      const kaslr = BigInt(m.facts.kaslrOffset!);
      const st = SymbolTable.fromElf(elf, kaslr);
      const dump = openDump(m.files['kdump-c-d31']!.path);
      const mem = new KernelMemory(dump);
      assert.equal(mem.kaslrOffset, kaslr);
      const sym = (n: string): bigint => st.lookup(n)!.address;
      const ipStart = sym('__start_orc_unwind_ip');
      const ipLen = Number(sym('__stop_orc_unwind_ip') - ipStart);
      const uStart = sym('__start_orc_unwind');
      const uLen = Number(sym('__stop_orc_unwind') - uStart);
      const ipBytes = mem.readVirt(ipStart, ipLen, '.orc_unwind_ip');
      const uBytes = mem.readVirt(uStart, uLen, '.orc_unwind');
      assert.deepEqual(ipBytes, elf.sectionData('.orc_unwind_ip'));
      assert.deepEqual(uBytes, elf.sectionData('.orc_unwind'));
      // Parsed from memory, in the running kernel's addresses.
      const live = OrcTable.fromBytes(ipBytes, uBytes, ipStart);
      assert.equal(live.version, orc.version);
      for (const fn of ['schedule', 'panic', 'vfs_write']) {
        const a = live.find(sym(fn))!;
        const b = orc.find(sym(fn) - kaslr)!;
        assert.equal(a.ip - kaslr, b.ip);
        assert.deepEqual({ ...a, ip: 0n }, { ...b, ip: 0n });
      }
      // orc_lookup: one u32 entry index per 256-byte block of text from _stext, built at boot.
      const look = sym('orc_lookup');
      const lookLen = Number(sym('orc_lookup_end') - look);
      const lb = mem.readVirt(look, lookLen, 'orc_lookup');
      const lookup = new Uint32Array(lb.buffer.slice(lb.byteOffset, lb.byteOffset + lookLen));
      assert.ok(lookup.length > 1000);
      assert.equal(orc.checkLookup(lookup, st.lookup('_stext')!.address - kaslr), 0);
      dump.close();
      elf.close();
    });
  });
}
