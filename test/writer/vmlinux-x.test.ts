import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDump } from '../../core/open.js';
import { loadSample } from '../lib/samples.js';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tscrash-x-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Overwrite, in place, the first occurrence of each key in the file's first `limit` bytes (same length). */
function knockOut(path: string, keys: [string, string][], limit: number): void {
  const fd = openSync(path, 'r+');
  try {
    const head = Buffer.alloc(Math.min(limit, statSync(path).size));
    readSync(fd, head, 0, head.length, 0);
    for (const [from, to] of keys) {
      const at = head.indexOf(from, 0, 'latin1');
      assert.ok(at >= 0, `${from} in the VMCOREINFO note`);
      writeSync(fd, Buffer.from(to, 'latin1'), 0, to.length, at);
    }
  } finally {
    closeSync(fd);
  }
}

describe('tsmakedumpfile -x VMLINUX (sysrq sample)', () => {
  test('a core whose VMCOREINFO lacks struct page layout and flags filters with -x as with the full VMCOREINFO', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const core = join(dir, 'vmcore');
    copyFileSync(m.files.elf!.path, core);
    // The VMCOREINFO note is near the start of /proc/vmcore's ELF file: make these entries unreadable.
    knockOut(
      core,
      [
        ['OFFSET(page.flags)=', 'XFFSET(page.flags)='],
        ['SIZE(page)=', 'XIZE(page)='],
        ['NUMBER(PG_lru)=', 'XUMBER(PG_lru)='],
        ['OFFSET(page.mapping)=', 'XFFSET(page.mapping)='],
      ],
      1 << 20,
    );
    const without = runCli(['-c', '-d', '31', core, join(dir, 'without')]);
    assert.notEqual(without.status, 0, 'filtering needs the struct page layout');
    assert.match(without.stderr + without.stdout.toString(), /SIZE\(page\)|OFFSET\(page\.flags\)|exclude/);

    const withX = runCli(['-c', '-d', '31', '-x', m.vmlinux, core, join(dir, 'with-x')]);
    assert.equal(withX.status, 0, withX.stderr);
    const ref = openDump(m.files['kdump-c-d31']!.path);
    const ours = openDump(join(dir, 'with-x'));
    try {
      assert.equal(ours.maxPfn, ref.maxPfn);
      let dumped = 0;
      for (let pfn = 0; pfn < ref.maxPfn; pfn++) {
        const a = ref.pageState(pfn);
        assert.equal(ours.pageState(pfn), a, `pfn 0x${pfn.toString(16)}`);
        if (a === 'dumped' && pfn % 64 === 0) {
          assert.equal(Buffer.compare(ours.readPage(pfn), ref.readPage(pfn)), 0);
          dumped++;
        }
      }
      assert.ok(dumped > 100);
    } finally {
      ours.close();
      ref.close();
    }
  });

  test("a vmlinux that is not the dump's kernel is refused", (t) => {
    const m = loadSample('sysrq', t);
    const other = loadSample('mce', t);
    if (!m || !other) return;
    const r = runCli(['-c', '-d', '31', '-x', other.vmlinux, m.files.elf!.path, join(dir, 'wrong')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr + r.stdout.toString(), /don't match/);
  });
});
