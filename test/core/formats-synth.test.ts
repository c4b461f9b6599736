import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LzoError, lzo1xDecompress } from '../../core/compress/lzo-decompress.js';
import { BadDataError, FaultError } from '../../core/errors.js';
import { openDump, openDumpSet } from '../../core/open.js';
import { buildElfCore, buildKdump, flatten, patternPage, type SynthCompression, tempFile } from '../lib/synth-dump.js';

const VMCOREINFO = 'OSRELEASE=6.1.0-synth\nPAGESIZE=4096\n';

function eqBytes(actual: Uint8Array, expected: Uint8Array | undefined, msg?: string): void {
  assert.ok(expected, msg);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), msg ?? 'bytes differ');
}

function pages(pfns: number[]): Map<number, Uint8Array> {
  return new Map(pfns.map((p) => [p, patternPage(p)]));
}

describe('kdump-compressed, synthetic', () => {
  for (const compression of ['none', 'zlib', 'lzo', 'snappy', 'zstd'] as SynthCompression[]) {
    for (const version of [1, 2, 3, 4, 5, 6]) {
      test(`${compression}, header version ${version}`, () => {
        const spec = {
          version,
          compression,
          maxPfn: 100,
          pages: pages([1, 2, 3, 50, 99]),
          excluded: [4, 5],
          zero: [10, 11],
          vmcoreinfo: VMCOREINFO,
        };
        const d = openDump(tempFile(`k-${compression}-${version}`, buildKdump(spec)));
        assert.equal(d.info.format, 'kdump');
        assert.equal(d.info.headerVersion, version);
        for (const [pfn, data] of spec.pages) eqBytes(d.readPage(pfn), data, `pfn ${pfn}`);
        for (const pfn of spec.zero) eqBytes(d.readPage(pfn), new Uint8Array(4096));
        assert.equal(d.pageState(4), 'excluded');
        assert.throws(
          () => d.readPage(4),
          (e: unknown) => e instanceof FaultError && e.reason === 'excluded' && e.pfn === 4,
        );
        assert.equal(d.pageState(20), 'absent');
        assert.throws(
          () => d.readPage(20),
          (e: unknown) => e instanceof FaultError && e.reason === 'not-in-dump',
        );
        assert.throws(
          () => d.readPage(1000),
          (e: unknown) => e instanceof FaultError && e.reason === 'not-in-dump',
        );
        assert.deepEqual([...d.presentPfns()], [1, 2, 3, 10, 11, 50, 99]);
        if (version >= 3) assert.equal(d.vmcoreinfo, VMCOREINFO);
        d.close();
      });
    }
  }

  test('old DISKDUMP signature', () => {
    const d = openDump(
      tempFile('diskdump', buildKdump({ signature: 'DISKDUMP', version: 0, maxPfn: 16, pages: pages([3]) })),
    );
    eqBytes(d.readPage(3), patternPage(3));
  });

  test('INCOMPLETE dumps: unwritten pages say so', () => {
    const buf = buildKdump({ maxPfn: 64, pages: pages([1, 2]), unwritten: [5, 6], incomplete: true });
    const d = openDump(tempFile('incomplete', buf));
    assert.equal(d.info.incomplete, true);
    eqBytes(d.readPage(2), patternPage(2));
    assert.equal(d.pageState(5), 'incomplete');
    assert.throws(
      () => d.readPage(5),
      (e: unknown) => e instanceof FaultError && e.reason === 'incomplete',
    );
  });

  test('split dump sets', () => {
    const all = pages([1, 2, 40, 41, 90]);
    const a = buildKdump({ maxPfn: 100, pages: all, split: { start: 0, end: 40 } });
    const b = buildKdump({ maxPfn: 100, pages: all, split: { start: 40, end: 100 } });
    const fa = tempFile('split-a', a);
    const fb = tempFile('split-b', b);
    const one = openDump(fa);
    eqBytes(one.readPage(2), all.get(2));
    assert.throws(
      () => one.readPage(40),
      (e: unknown) => e instanceof FaultError && e.reason === 'not-in-dump' && /split/.test(e.message),
    );
    const set = openDumpSet([fb, fa]);
    for (const [pfn, data] of all) eqBytes(set.readPage(pfn), data);
    assert.equal(set.info.format, 'kdump-split');
  });

  test('truncation at every structure boundary gives a clear error or a named gap, never a hang', () => {
    const full = buildKdump({ maxPfn: 64, pages: pages([1, 2, 3, 60]), vmcoreinfo: VMCOREINFO, compression: 'zlib' });
    // Every structure boundary (header, sub-header, notes, bitmaps, descriptors, each page's data), one byte
    // either side, plus a sweep in between.
    const bs = 4096;
    const descStart = (1 + 1 + 2) * bs;
    const dataStart = descStart + 4 * 24;
    const bounds = [0, 8, 12, 424, 428, 440, 464, bs, bs + 104, 2 * bs, 3 * bs, descStart, descStart + 24, dataStart];
    const d0 = openDump(tempFile('full', full)) as unknown as {
      descriptor(pfn: number): { offset: number; size: number };
    };
    for (const pfn of [1, 2, 3, 60]) {
      const d = d0.descriptor(pfn);
      bounds.push(d.offset, d.offset + d.size);
    }
    const lengths = new Set<number>();
    for (const b of bounds) for (const x of [b - 1, b, b + 1]) if (x >= 0 && x < full.length) lengths.add(x);
    for (let len = 0; len < full.length; len += 211) lengths.add(len);
    for (const len of [...lengths].sort((a, b) => a - b)) {
      const f = tempFile('trunc', full.subarray(0, len));
      let d: ReturnType<typeof openDump>;
      try {
        d = openDump(f);
      } catch (e) {
        assert.ok(e instanceof BadDataError, `len ${len}: ${(e as Error).message}`);
        assert.match((e as Error).message, /trunc|offset 0x/);
        continue;
      }
      for (const pfn of [1, 2, 3, 60]) {
        try {
          eqBytes(d.readPage(pfn), patternPage(pfn));
        } catch (e) {
          assert.ok(
            e instanceof FaultError || e instanceof BadDataError,
            `len ${len} pfn ${pfn}: ${(e as Error).message}`,
          );
          if (e instanceof FaultError) assert.ok(['truncated', 'corrupt'].includes(e.reason), e.reason);
        }
      }
      d.close();
    }
  });

  test('absurd sizes and short bitmaps are refused quickly', () => {
    const good = buildKdump({ maxPfn: 64, pages: pages([1]) });
    const huge = Buffer.from(buildKdump({ version: 5, maxPfn: 64, pages: pages([1]) }));
    huge.writeUInt32LE(0xffffffff, 440); // max_mapnr (version < 6 uses this one)
    assert.throws(() => openDump(tempFile('huge', huge)), BadDataError);
    const v6 = Buffer.from(good);
    v6.writeBigUInt64LE(1n << 62n, 4096 + 96); // max_mapnr_64
    assert.throws(() => openDump(tempFile('huge64', v6)), BadDataError);
    const bitmaps = Buffer.from(good);
    bitmaps.writeUInt32LE(0x7fffffff, 436);
    assert.throws(() => openDump(tempFile('bitmaps', bitmaps)), /run past the end/);
    const block = Buffer.from(good);
    block.writeUInt32LE(3000, 428);
    assert.throws(() => openDump(tempFile('block', block)), /block_size/);
    const note = Buffer.from(buildKdump({ maxPfn: 64, pages: pages([1]), vmcoreinfo: VMCOREINFO }));
    note.writeBigUInt64LE(1n << 40n, 4096 + 56);
    assert.throws(() => openDump(tempFile('note', note)), BadDataError);
  });

  test('a descriptor pointing past the end and corrupt compressed data are named', () => {
    const buf = Buffer.from(buildKdump({ maxPfn: 64, pages: pages([1, 2]), compression: 'zlib' }));
    const descStart = (1 + 1 + 2) * 4096;
    buf.writeBigInt64LE(BigInt(buf.length + 100), descStart); // pfn 1's data past EOF
    const data2 = Number(buf.readBigInt64LE(descStart + 24));
    buf.fill(0xee, data2, data2 + 16); // corrupt pfn 2's zlib stream
    const d = openDump(tempFile('baddesc', buf));
    assert.throws(
      () => d.readPage(1),
      (e: unknown) => e instanceof FaultError && e.reason === 'truncated' && /past the end/.test(e.message),
    );
    assert.throws(
      () => d.readPage(2),
      (e: unknown) => e instanceof FaultError && e.reason === 'corrupt' && /zlib/.test(e.message),
    );
  });
});

describe('flattened, synthetic', () => {
  test('out-of-order and overwriting records: the later record wins', () => {
    const image = buildKdump({ maxPfn: 64, pages: pages([1, 2, 30]), vmcoreinfo: VMCOREINFO });
    const bogus = Buffer.alloc(4096, 0x55);
    const flat = flatten(image, 1000, (recs) => {
      const shuffled = recs.slice().reverse();
      // Write garbage over the header first; the real header comes later and wins.
      return [[0, bogus], ...shuffled];
    });
    const d = openDump(tempFile('flat', flat));
    assert.equal(d.info.format, 'flattened-kdump');
    for (const pfn of [1, 2, 30]) eqBytes(d.readPage(pfn), patternPage(pfn));
    assert.equal(d.vmcoreinfo, VMCOREINFO);
  });

  test('flattened ELF and a truncated stream', () => {
    const elf = buildElfCore([{ paddr: 0x1000, data: Buffer.concat([patternPage(1), patternPage(2)]) }], VMCOREINFO);
    const flat = flatten(elf, 777);
    const d = openDump(tempFile('flat-elf', flat));
    assert.equal(d.info.format, 'flattened-elf');
    eqBytes(d.readPage(2), patternPage(2));
    const cut = flat.subarray(0, flat.length - 2000);
    const t = openDump(tempFile('flat-cut', cut));
    assert.ok(typeof t.info.flattenedTruncatedAt === 'number');
    eqBytes(t.readPage(1), patternPage(1));
  });

  test('hostile record sizes are refused', () => {
    const flat = Buffer.from(flatten(Buffer.alloc(100), 100));
    flat.writeBigInt64BE(-5n, 4096 + 8);
    assert.throws(() => openDump(tempFile('flat-bad', flat)), /flattened record/);
  });
});

describe('ELF, synthetic', () => {
  test('p_filesz < p_memsz reads zeros; holes and truncation are named', () => {
    const core = buildElfCore(
      [
        { paddr: 0x0, data: patternPage(0), memsz: 0x3000 },
        { paddr: 0x10000, data: Buffer.concat([patternPage(16), patternPage(17)]) },
      ],
      VMCOREINFO,
    );
    const d = openDump(tempFile('elf', core));
    assert.equal(d.vmcoreinfo, VMCOREINFO);
    eqBytes(d.readPage(0), patternPage(0));
    assert.equal(d.pageState(1), 'zero');
    eqBytes(d.readPage(2), new Uint8Array(4096));
    assert.throws(
      () => d.readPage(5),
      (e: unknown) => e instanceof FaultError && e.reason === 'not-in-dump',
    );
    const cut = openDump(tempFile('elf-cut', core.subarray(0, core.length - 4096)));
    eqBytes(cut.readPage(16), patternPage(16));
    assert.equal(cut.pageState(17), 'truncated');
    assert.throws(
      () => cut.readPage(17),
      (e: unknown) => e instanceof FaultError && e.reason === 'truncated' && /truncated/.test(e.message),
    );
  });

  test('garbage is not a vmcore', () => {
    assert.throws(() => openDump(tempFile('garbage', Buffer.from('hello world, not a dump'))), /not a vmcore/);
    assert.throws(() => openDump(tempFile('empty', Buffer.alloc(0))), /not a vmcore/);
  });
});

describe('LZO1X decompressor', () => {
  test('hostile input only ever raises LzoError and never writes past the page', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const out = new Uint8Array(4096);
        try {
          const n = lzo1xDecompress(bytes, out);
          return n <= 4096;
        } catch (e) {
          return e instanceof LzoError;
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('round trip with our LZO1X-1 compressor', () => {
    for (let pfn = 0; pfn < 50; pfn++) {
      const d = openDump(tempFile('lzo', buildKdump({ maxPfn: 64, pages: pages([pfn]), compression: 'lzo' })));
      eqBytes(d.readPage(pfn), patternPage(pfn));
    }
  });
});
