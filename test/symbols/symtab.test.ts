import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

    test('every System.map symbol resolves both ways, with its type letter (the table read back from its cache)', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const map = systemMap(m.systemMap);
      assert.ok(map.length > 50000, `System.map has ${map.length} entries (the real one from -dbg)`);
      const elf = ElfFile.open(m.vmlinux);
      // Decoded and saved, then read back from the cache: the checks below run on what the cache gave.
      const cache = mkdtempSync(join(tmpdir(), 'tscrash-symcache-'));
      t.after(() => rmSync(cache, { recursive: true, force: true }));
      const decoded = SymbolTable.fromElf(elf, 0n, { cacheDir: cache });
      const [file] = readdirSync(cache);
      assert.match(file!, /\.sym$/);
      assert.equal(statSync(join(cache, file!)).mode & 0o777, 0o600);
      const st = SymbolTable.fromElf(elf, 0n, { cacheDir: cache });
      assert.deepEqual(st.lookupAll('schedule'), decoded.lookupAll('schedule'));
      // A damaged cache file is not trusted: the table is decoded again.
      const bytes = readFileSync(join(cache, file!));
      bytes[bytes.length - 100] ^= 0xff;
      writeFileSync(join(cache, file!), bytes);
      assert.deepEqual(
        SymbolTable.fromElf(elf, 0n, { cacheDir: cache }).symbolize(0xffffffff81000100n),
        decoded.symbolize(0xffffffff81000100n),
      );
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
        // Per-cpu offsets are not addresses (crash: "invalid address") unless asked for.
        const back = st.symbolize(e.address, { fixed: e.address < 0xffffffff80000000n });
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
      // Text symbols with the function's file:line from .debug_line, as crash shows them.
      for (const fn of ['panic', 'schedule']) assert.equal(run(`sym ${fn}`), oracleText(m, `crash-sym-${fn}`));
      assert.equal(run('rd -64 jiffies 4'), oracleText(m, 'crash-rd-jiffies'));
      assert.equal(run('rd -a linux_banner'), oracleText(m, 'crash-rd-linux_banner'));
    });
  });
}

describe("address → symbol agrees with crash's sym on the sysrq dump", () => {
  test('aliases (exact and inside), section starts, random text and data addresses', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const kaslr = BigInt(m.facts.kaslrOffset!);
    const map = systemMap(m.systemMap);
    const elf = ElfFile.open(m.vmlinux);
    const st = SymbolTable.fromElf(elf, kaslr);
    const addrs = new Set<bigint>();
    // Every address with several System.map names, exactly and 5 bytes in.
    for (let i = 1; i < map.length; i++) {
      const a = map[i]!.address;
      if (a === map[i - 1]!.address && a >= 0xffffffff80000000n) {
        addrs.add(a + kaslr);
        addrs.add(a + kaslr + 5n);
      }
    }
    for (const sec of elf.sections) if (sec.addr >= 0xffffffff80000000n && sec.size > 0) addrs.add(sec.addr + kaslr);
    let seed = 99;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const kernel = map.filter((e) => e.address >= 0xffffffff80000000n);
    for (let i = 0; i < 300; i++)
      addrs.add(kernel[Math.floor(rnd() * kernel.length)]!.address + kaslr + BigInt(Math.floor(rnd() * 64)));
    // Ascending: crash's value search caches its last hit per hash bucket, and an exact alias
    // address queried after a higher one in its bucket would start from the middle of the aliases.
    const list = [...addrs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-sym-'));
    try {
      const cmds = join(dir, 'cmds');
      writeFileSync(cmds, `${list.map((a) => `sym ${a.toString(16)}`).join('\n')}\nexit\n`);
      const out = spawnSync('crash', ['-s', m.vmlinux, m.files.elf!.path, '-i', cmds], {
        encoding: 'latin1',
        maxBuffer: 1 << 26,
      }).stdout;
      const rows = new Map<bigint, string>();
      for (const l of out.split('\n')) {
        const r = /^([0-9a-f]{16}) (\(.\)) (\S+)/.exec(l);
        if (r) rows.set(BigInt(`0x${r[1]}`), `${r[2]} ${r[3]}`);
      }
      assert.ok(rows.size > list.length * 0.95, `crash answered ${rows.size} of ${list.length}`);
      let bad = 0;
      const diffs: string[] = [];
      for (const [a, want] of rows) {
        const r = st.symbolize(a);
        const ours = r ? `(${r.symbol.letter}) ${r.symbol.name}${r.offset ? `+${r.offset}` : ''}` : 'invalid';
        if (ours !== want) {
          bad++;
          if (diffs.length < 10) diffs.push(`${a.toString(16)}: crash ${want}, ours ${ours}`);
        }
      }
      assert.equal(bad, 0, diffs.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      elf.close();
    }
  });
});
