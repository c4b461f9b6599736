/**
 * Pages decoded ahead in libuv's pool (Dump.prefetch) are the pages readPage decodes, and a damaged page is left
 * for readPage to report, on the real samples' zlib dumps.
 */
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FaultError } from '../../core/errors.js';
import type { KdumpDump } from '../../core/formats/kdump.js';
import { openDump } from '../../core/open.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

for (const name of SAMPLE_NAMES) {
  describe(`page prefetch on the ${name} sample`, () => {
    test('prefetched pages equal readPage of a fresh open, for a -c dump and its flattened form', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      for (const key of ['kdump-c-d31', 'flat-c-d31']) {
        const a = openDump(m.files[key]!.path);
        const b = openDump(m.files[key]!.path);
        const pfns = [...a.presentPfns()].filter((_, i) => i % 7 === 0).slice(0, 3000);
        assert.ok(a.prefetch, `${key} has prefetch`);
        const n = await a.prefetch!(pfns);
        // The pages stored uncompressed (the few zlib does not shrink) are read as they are: the rest decoded ahead.
        assert.ok(n > pfns.length / 2, `${key}: ${n} of ${pfns.length} decoded ahead`);
        for (const pfn of pfns)
          assert.ok(Buffer.from(a.readPage(pfn)).equals(Buffer.from(b.readPage(pfn))), `${key} pfn ${pfn}`);
        a.close();
        b.close();
      }
    });

    test('a page whose zlib data is damaged is not prefetched; readPage names it', async (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const dir = mkdtempSync(join(tmpdir(), 'tscrash-prefetch-'));
      try {
        const copy = join(dir, 'kdump-c-d31');
        copyFileSync(m.files['kdump-c-d31']!.path, copy);
        const probe = openDump(copy) as KdumpDump;
        const pfn = [...probe.presentPfns()].find((p) => {
          const d = probe.descriptor(p);
          return d !== undefined && d.size > 64 && d.size < probe.pageSize;
        })!;
        const d = probe.descriptor(pfn)!;
        probe.close();
        const fd = openSync(copy, 'r+');
        writeSync(fd, Buffer.alloc(16, 0xff), 0, 16, d.offset + 8);
        closeSync(fd);
        const dump = openDump(copy);
        // Among a hundred others (fewer are decoded where they are read): all but the damaged one decoded ahead.
        const others = [...dump.presentPfns()]
          .filter((p) => p !== pfn && (dump as KdumpDump).descriptor(p)!.size < dump.pageSize)
          .slice(0, 100);
        assert.equal(await dump.prefetch!([pfn, ...others]), others.length);
        assert.throws(
          () => dump.readPage(pfn),
          (e: unknown) =>
            e instanceof FaultError && e.reason === 'corrupt' && e.message.includes(`0x${d.offset.toString(16)}`),
        );
        dump.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
