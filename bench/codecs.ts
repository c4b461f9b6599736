/**
 * The page codecs, one page a call as dumps are read and written, on a sample's real pages: zstd (zstd-napi, the
 * WebAssembly fallback of core/compress/zstd.ts, and, when installed, zstd-codec and fzstd, the candidates not
 * taken) on the zstd pages of a `tsmakedumpfile -z -d 31` dump of the ELF core; LZO (the lzo addon and our own) on
 * the LZO pages of makedumpfile's `-l -d 31` dump. CPU time of the best run (the machine is shared).
 *   node dist/bench/codecs.js [--case sysrq] [--runs 7]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLzoCodec } from '../core/compress/lzo.js';
import { lzo1xBound } from '../core/compress/lzo-compress.js';
import { loadZstdCodec } from '../core/compress/zstd.js';
import type { KdumpDump } from '../core/formats/kdump.js';
import { openDump } from '../core/open.js';
import { loadSampleManifest } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const caseName = opt('--case', 'sysrq');
const runs = Number(opt('--runs', '7'));
const m = loadSampleManifest(caseName);
const require = createRequire(import.meta.url);

/** The compressed page data of a kdump file whose descriptor has `flag`. */
function frames(path: string, flag: number): { frames: Buffer[]; pageSize: number } {
  const d = openDump(path) as KdumpDump;
  const fd = openSync(path, 'r');
  const out: Buffer[] = [];
  for (let pfn = 0; pfn < d.maxPfn; pfn++) {
    if (d.pageState(pfn) !== 'dumped') continue;
    const desc = d.descriptor(pfn)!;
    if (!(desc.flags & flag)) continue;
    const b = Buffer.alloc(desc.size);
    readSync(fd, b, 0, desc.size, desc.offset);
    out.push(b);
  }
  closeSync(fd);
  const pageSize = d.pageSize;
  d.close();
  return { frames: out, pageSize };
}

/** The best CPU time of `runs` runs of fn (after one to warm up), as MB/s of pages. */
function rate(pages: number, pageSize: number, fn: () => void): string {
  fn();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c);
    best = Math.min(best, (u.user + u.system) / 1000);
  }
  return `${((pages * pageSize) / 1048576 / (best / 1000)).toFixed(0).padStart(5)} MB/s (${best.toFixed(0)} ms)`;
}

const lines: string[] = [`bench codecs on sample ${caseName} (one page a call, best CPU time of ${runs} runs)`];
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-bench-'));
try {
  const z = join(scratch, 'z-d31');
  const mk = fileURLToPath(new URL('../../bin/tsmakedumpfile', import.meta.url));
  const w = spawnSync(process.execPath, [mk, '-z', '-d', '31', m.files.elf!.path, z], { encoding: 'utf8' });
  if (w.status !== 0) throw new Error(`tsmakedumpfile -z: ${w.stderr}`);
  const Z = frames(z, 0x20);
  const PS = Z.pageSize;
  lines.push(`zstd: ${Z.frames.length} pages`);
  const native = loadZstdCodec('zstd-napi');
  const wasm = loadZstdCodec('wasm');
  const plain = Z.frames.map((f) => native.decompress(f, PS));
  const out = new Uint8Array(2 * PS);
  for (const c of [native, wasm]) {
    const cc = c.newCompressor();
    const d = rate(plain.length, PS, () => {
      for (const f of Z.frames) c.decompress(f, PS);
    });
    const e = rate(plain.length, PS, () => {
      for (const p of plain) cc.compress(out, p, 1);
    });
    lines.push(`  ${c.name.padEnd(12)} decompress ${d}   compress level 1 ${e}`);
  }
  try {
    const fz = require('fzstd') as { decompress(b: Uint8Array, out: Uint8Array): Uint8Array };
    const d = rate(plain.length, PS, () => {
      for (const f of Z.frames) fz.decompress(f, new Uint8Array(PS));
    });
    lines.push(`  ${'fzstd'.padEnd(12)} decompress ${d}   (no compressor)`);
  } catch {
    lines.push('  fzstd: not installed');
  }
  try {
    type Simple = { decompress(b: Uint8Array): Uint8Array; compress(b: Uint8Array, level: number): Uint8Array };
    const zc = require('zstd-codec') as { ZstdCodec: { run(f: (z: { Simple: new () => Simple }) => void): void } };
    const s = await new Promise<Simple>((res) => zc.ZstdCodec.run((x) => res(new x.Simple())));
    const d = rate(plain.length, PS, () => {
      for (const f of Z.frames) s.decompress(f);
    });
    const e = rate(plain.length, PS, () => {
      for (const p of plain) s.compress(p, 1);
    });
    lines.push(`  ${'zstd-codec'.padEnd(12)} decompress ${d}   compress level 1 ${e}`);
  } catch {
    lines.push('  zstd-codec: not installed');
  }
  const L = frames(m.files['kdump-l-d31']!.path, 0x2);
  lines.push(`lzo: ${L.frames.length} pages`);
  const lplain = L.frames.map((f) => {
    const p = new Uint8Array(L.pageSize);
    loadLzoCodec('js').decompress(f, p);
    return p;
  });
  const lout = new Uint8Array(lzo1xBound(L.pageSize));
  for (const name of ['lzo', 'js'] as const) {
    let c: ReturnType<typeof loadLzoCodec>;
    try {
      c = loadLzoCodec(name);
    } catch {
      lines.push(`  ${name}: did not load`);
      continue;
    }
    const cc = c.newCompressor();
    const dst = new Uint8Array(L.pageSize);
    const d = rate(lplain.length, L.pageSize, () => {
      for (const f of L.frames) c.decompress(f, dst);
    });
    const e = rate(lplain.length, L.pageSize, () => {
      for (const p of lplain) cc.compressInto(p, 0, p.length, lout, 0);
    });
    lines.push(`  ${(name === 'js' ? 'ours' : 'lzo addon').padEnd(12)} decompress ${d}   compress ${e}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log(lines.join('\n'));
