/**
 * A vmlinux with one corrupt byte in one compile unit (issue 18): the full name index skips that unit, names it
 * in a warning, and answers every name of the other units as the intact file's index does; `tscrash index`
 * exits 0 with the warning and does not cache the partial index.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DebugInfo } from '../../symbols/dwarf/debug-info.js';
import type { NameIndex } from '../../symbols/dwarf/name-index.js';
import { DwarfReader } from '../../symbols/dwarf/reader.js';
import { ElfFile } from '../../symbols/elf.js';
import { damagedCopy } from '../lib/damage.js';
import { loadSample } from '../lib/samples.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tscrash');

describe('a damaged compile unit', () => {
  test('is skipped and named; the other units answer as in the intact index', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const elf = ElfFile.open(m.vmlinux);
    const sec = elf.section('.debug_info')!;
    const units = DwarfReader.unitRecords(elf);
    elf.close();
    // A unit in the middle; its first DIE's abbreviation code gets a continuation bit (one byte changed).
    const u = units[Math.floor(units.length / 2)]!;
    const fd = openSync(m.vmlinux, 'r');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, Number(sec.offset) + u.dieOffset);
    closeSync(fd);
    const path = damagedCopy(m.vmlinux, 'vmlinux-damaged', undefined, [
      [Number(sec.offset) + u.dieOffset, [b[0]! | 0xf0]],
    ]);
    const cache = mkdtempSync(join(tmpdir(), 'tscrash-index-'));
    try {
      const intact = await DebugInfo.open(m.vmlinux, { index: 'full' });
      const d = await DebugInfo.open(path, { index: 'full', cacheDir: cache });
      try {
        assert.equal(d.warnings.length, 1, d.warnings.join('\n'));
        assert.ok(
          d.warnings[0]!.startsWith(
            `${path}: the .debug_info unit at 0x${u.offset.toString(16)} is damaged and was skipped (`,
          ),
          d.warnings[0],
        );
        const a = (intact as unknown as { index: NameIndex }).index;
        const z = (d as unknown as { index: NameIndex }).index;
        assert.deepEqual(
          z.damaged?.map((x) => x.unit),
          [u.offset],
        );
        const inside = (die: number): boolean => die >= u.offset && die < u.end;
        let compared = 0;
        for (const kind of ['types', 'variables', 'functions'] as const) {
          for (const [name, die] of a[kind]) {
            if (inside(die)) continue;
            assert.equal(z[kind].get(name), die, `${kind} ${name}`);
            compared++;
          }
        }
        assert.ok(compared > 10000, `${compared} names compared`);
        assert.equal(d.findType('struct task_struct')?.kind, 'struct');
      } finally {
        d.close();
        intact.close();
      }
      // tscrash index: the warning, exit 0, and nothing cached for the damaged file.
      const r = spawnSync(BIN, ['index', path], { encoding: 'latin1', env: { ...process.env, TSCRASH_CACHE: cache } });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /tscrash: warning: .* is damaged and was skipped/);
      assert.match(r.stdout, /indexed without its damaged units: not cached/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
