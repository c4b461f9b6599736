import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ElfFile } from '../../symbols/elf.js';
import { SymbolTable } from '../../symbols/symtab.js';
import { loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;

function systemMap(path: string): { address: bigint; letter: string; name: string }[] {
  return readFileSync(path, 'latin1')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, letter, name] = l.split(' ');
      return { address: BigInt(`0x${a}`), letter: letter!, name: name! };
    });
}

for (const name of SAMPLE_NAMES) {
  describe(`vmlinux symbols of the ${name} sample's kernel`, () => {
    test('ELF sections and build-id agree with readelf and the dump', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const elf = ElfFile.open(m.vmlinux);
      assert.equal(elf.buildId, m.buildId);
      const re = spawnSync('readelf', ['-S', '-W', m.vmlinux], { encoding: 'latin1' }).stdout;
      const rows = [...re.matchAll(/\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)/g)];
      assert.ok(rows.length > 30);
      for (const r of rows) {
        const s = elf.section(r[1]!);
        assert.ok(s, `section ${r[1]}`);
        assert.equal(s.addr, BigInt(`0x${r[2]}`), `${r[1]} address`);
        assert.equal(s.offset, Number.parseInt(r[3]!, 16), `${r[1]} offset`);
        assert.equal(s.size, Number.parseInt(r[4]!, 16), `${r[1]} size`);
      }
      elf.close();
    });

    test('every System.map symbol resolves both ways, with its type letter', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const map = systemMap(m.systemMap);
      assert.ok(map.length > 50000, `System.map has ${map.length} entries (the real one from -dbg)`);
      const elf = ElfFile.open(m.vmlinux);
      const st = SymbolTable.fromElf(elf, 0n);
      const atAddress = new Map<bigint, Set<string>>();
      for (const e of map) {
        const s = atAddress.get(e.address);
        if (s) s.add(e.name);
        else atAddress.set(e.address, new Set([e.name]));
      }
      let letterMismatch = 0;
      for (const e of map) {
        const hits = st.lookupAll(e.name);
        const hit = hits.find((h) => h.address === e.address);
        assert.ok(
          hit,
          `${e.name} at ${e.address.toString(16)} (have ${hits.map((h) => h.address.toString(16)).join(', ')})`,
        );
        if (hit.letter !== e.letter) letterMismatch++;
        if (e.letter === 'A' || e.letter === 'a') continue;
        const back = st.symbolize(e.address);
        assert.ok(back, `${e.address.toString(16)} symbolizes`);
        assert.equal(back.offset, 0n, `${e.name}: ${back.symbol.name}+${back.offset}`);
        assert.ok(
          atAddress.get(e.address)!.has(back.symbol.name) || back.symbol.address === e.address,
          `${e.name} ~ ${back.symbol.name}`,
        );
      }
      assert.ok(letterMismatch < map.length / 1000, `${letterMismatch} type letters differ from System.map`);
      elf.close();
    });

    test('sym and rd with symbols agree with crash', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const run = (...cmds: string[]): string =>
        spawnSync(BIN, [m.vmlinux, m.files.elf!.path, ...cmds.flatMap((c) => ['-c', c])], { encoding: 'latin1' })
          .stdout;
      assert.equal(run('sym jiffies'), oracleText(m, 'crash-sym-jiffies'));
      for (const fn of ['panic', 'schedule']) {
        // crash adds the function's file:line from .debug_line.
        const want = oracleText(m, `crash-sym-${fn}`).split(' ').slice(0, 3).join(' ');
        assert.equal(run(`sym ${fn}`).trim(), want);
      }
      assert.equal(run('rd -64 jiffies 4'), oracleText(m, 'crash-rd-jiffies'));
      assert.equal(run('rd -a linux_banner'), oracleText(m, 'crash-rd-linux_banner'));
    });
  });
}
