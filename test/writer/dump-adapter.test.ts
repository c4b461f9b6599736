/**
 * Re-filtering through the Dump interface (core/dump.ts): a kdump file read by
 * a Dump implementation is written again with another compression; pages the
 * input lacks stay out. The Dump here is a small test implementation over the
 * test reader; core/formats' readers plug in the same way via core/open.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Dump, DumpNote, PageState } from '../../core/dump.js';
import { FaultError } from '../../core/errors.js';
import { DumpAdapter } from '../../core/writer/dump-source.js';
import { writeKdump } from '../../core/writer/kdump-writer.js';
import { Messages } from '../../core/writer/messages.js';
import { FileSink } from '../../core/writer/output.js';
import { prepareDump } from '../../core/writer/prepare.js';
import { bitmapBit, readElfPages, readKdump } from './kdump-read.js';
import { runCli } from './run-cli.js';
import { buildElfCore, mixedFill } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmkd-adapter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function kdumpAsDump(path: string): Dump {
  const k = readKdump(path);
  const notes: DumpNote[] = [];
  for (let o = 0; o + 12 <= k.notes.length; ) {
    const nl = k.notes.readUInt32LE(o);
    const dl = k.notes.readUInt32LE(o + 4);
    const type = k.notes.readUInt32LE(o + 8);
    const name = k.notes
      .subarray(o + 12, o + 12 + nl)
      .toString('latin1')
      .replace(/\0+$/, '');
    const d = o + 12 + ((nl + 3) & ~3);
    notes.push({ name, type, desc: k.notes.subarray(d, d + dl), offset: d });
    o = d + ((dl + 3) & ~3);
  }
  const state = (pfn: number): PageState =>
    pfn >= k.maxPfn || !bitmapBit(k.bitmap1, pfn) ? 'absent' : bitmapBit(k.bitmap2, pfn) ? 'dumped' : 'excluded';
  return {
    path,
    pageSize: k.blockSize,
    maxPfn: k.maxPfn,
    notes,
    vmcoreinfo: k.vmcoreinfo.replace(/\0+$/, ''),
    info: { format: 'kdump', nrCpus: k.nrCpus, physBase: k.physBase },
    warnings: [],
    pageState: state,
    readPage(pfn) {
      const p = k.page(pfn);
      if (!p)
        throw new FaultError(`pfn ${pfn} ${state(pfn)}`, BigInt(pfn * 4096), 'physical', 'excluded', undefined, pfn);
      return p;
    },
    *presentPfns() {
      for (let p = 0; p < k.maxPfn; p++) if (bitmapBit(k.bitmap2, p)) yield p;
    },
    close() {},
  };
}

test('a kdump input re-written through the Dump interface keeps its pages and excluded pages stay out', async () => {
  const core = join(dir, 'vmcore');
  buildElfCore(
    core,
    [{ paddr: 0x100000, pages: 600, fill: mixedFill }],
    'OSRELEASE=6.1.0-x\nPAGESIZE=4096\nCRASHTIME=1700000002\n',
  );
  const first = join(dir, 'first');
  assert.equal(runCli(['-c', '-d', '1', core, first]).status, 0);
  const src = new DumpAdapter(kdumpAsDump(first));
  const quiet = new Messages(0, false, true);
  const prep = prepareDump(src, { dumpLevel: 1, messages: quiet });
  const out = join(dir, 'second');
  const sink = new FileSink(out, false);
  const r = await writeKdump({
    source: src,
    sink,
    compression: 'zstd',
    dumpLevel: 1,
    bitmap1: prep.bitmap1,
    bitmap2: prep.bitmap2,
    header: prep.header,
    numDumpable: prep.numDumpable,
    threads: 0,
    messages: quiet,
    counts: prep.counts,
  });
  sink.finish();
  assert.equal(r.incomplete, false);
  const a = readKdump(first);
  const b = readKdump(out);
  assert.equal(b.status, 0x20);
  assert.equal(b.nrCpus, a.nrCpus);
  assert.equal(b.timestamp, a.timestamp);
  assert.equal(b.vmcoreinfo, a.vmcoreinfo);
  assert.ok(b.bitmap1.equals(a.bitmap1));
  assert.ok(b.bitmap2.equals(a.bitmap2));
  const e = readElfPages(core);
  for (let p = 0; p < b.maxPfn; p++) {
    const pg = b.page(p);
    if (pg) assert.ok(pg.equals(e.page(p)!), `pfn ${p}`);
  }
});
