/**
 * .debug_line on the real vmlinux: file:line equal to crash's `sym` output and
 * to addr2line for a seeded sample of addresses across the kernel's text.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { ElfFile } from '../../symbols/elf.js';
import { LineTable } from '../../symbols/line.js';
import { SymbolTable } from '../../symbols/symtab.js';
import { loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';

for (const name of SAMPLE_NAMES) {
  describe(`file:line on the ${name} sample's vmlinux`, () => {
    test("equals crash's sym output for panic and schedule", (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const kaslr = BigInt(m.facts.kaslrOffset!);
      const elf = ElfFile.open(m.vmlinux);
      const lines = new LineTable(elf);
      for (const fn of ['panic', 'schedule']) {
        // "ffffffff967ccf31 (T) panic debian/build/.../kernel/panic.c: 276"
        const want = oracleText(m, `crash-sym-${fn}`).trim();
        const addr = BigInt(`0x${want.split(' ')[0]}`);
        const r = lines.lookup(addr - kaslr);
        assert.ok(r, fn);
        assert.equal(`${want.split(' ').slice(3).join(' ')}`, `${r.file}: ${r.line}`);
      }
      elf.close();
    });

    test('equals addr2line for 600 addresses inside functions', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      const lines = new LineTable(elf);
      const funcs = [...SymbolTable.fromElf(elf).entries()].filter(
        (s) => (s.letter === 'T' || s.letter === 't') && s.size > 0,
      );
      let seed = 4242;
      const rnd = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      const addrs: bigint[] = [];
      for (let i = 0; i < 600; i++) {
        const f = funcs[Math.floor(rnd() * funcs.length)]!;
        addrs.push(f.address + BigInt(Math.floor(rnd() * f.size)));
      }
      const want = execFileSync('addr2line', ['-e', m.vmlinux], {
        input: addrs.map((a) => a.toString(16)).join('\n'),
        maxBuffer: 1 << 26,
        encoding: 'latin1',
      })
        .trim()
        .split('\n')
        .map((l) => l.replace(/ \(discriminator \d+\)$/, ''));
      let known = 0;
      let sameFile = 0;
      for (let i = 0; i < addrs.length; i++) {
        const r = lines.lookup(addrs[i]!);
        const w = want[i]!;
        const [wFile, wLine] = [w.slice(0, w.lastIndexOf(':')), w.slice(w.lastIndexOf(':') + 1)];
        if (wLine === '?' || wLine === '0') continue; // addr2line has no line for it either
        known++;
        assert.ok(r, `${addrs[i]!.toString(16)}: addr2line says ${w}, we have nothing`);
        assert.equal(r.line, Number(wLine), `${addrs[i]!.toString(16)}: ${r.file}:${r.line} vs addr2line ${w}`);
        if (r.file === wFile) sameFile++;
        else {
          // bfd names the function's own file for code expanded from a macro in a header (trace
          // events); the line table row (which gdb and crash use) names the header.
          assert.match(r.file, /\.h$/, `${addrs[i]!.toString(16)}: ${r.file} vs addr2line ${wFile}`);
        }
      }
      assert.ok(known > 560, `${known} addresses have a line`);
      assert.ok(sameFile > known * 0.95, `${sameFile} of ${known} name addr2line's file`);
      elf.close();
    });
  });
}
