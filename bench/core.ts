/**
 * core/ against makedumpfile 1.7.2, in one run, on the real samples:
 *  - --dump-dmesg (tscrash, no vmlinux) vs makedumpfile --dump-dmesg, on the ELF and -c -d 31 cores;
 *  - reading every dumped page of the -c -d 31 and -l -d 31 cores: tscrash (a reader script) vs makedumpfile
 *    reading the same core while writing it out uncompressed (-d 0) to tmpfs.
 *   node dist/bench/core.js [--case sysrq] [--runs 5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest, measure, row } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const caseName = opt('--case', 'sysrq');
const runs = Number(opt('--runs', '5'));
const m = loadSampleManifest(caseName);
const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-bench-'));
const readAll = join(scratch, 'read-all.mjs');
const openJs = fileURLToPath(new URL('../core/open.js', import.meta.url));
writeFileSync(
  readAll,
  `import { openDump } from ${JSON.stringify(openJs)};
const d = openDump(process.argv[2]);
let n = 0;
for (const pfn of d.presentPfns()) { if (d.pageState(pfn) === 'dumped') { d.readPage(pfn); n++; } }
if (n === 0) process.exit(3);
`,
);

const lines: string[] = [`bench core on sample ${caseName} (${runs} runs each, median wall, peak RSS)`];
for (const key of ['elf', 'kdump-c-d31']) {
  const f = m.files[key]!.path;
  const o = join(scratch, 'ours.txt');
  const t = join(scratch, 'theirs.txt');
  // Both behind the same sh (makedumpfile refuses to overwrite its output).
  const ours = measure('sh', ['-c', `rm -f ${o}; ${bin} --dump-dmesg ${f} ${o}`], runs);
  const theirs = measure('sh', ['-c', `rm -f ${t}; makedumpfile --dump-dmesg ${f} ${t} > /dev/null`], runs);
  rmSync(join(scratch, 'ours.txt'), { force: true });
  rmSync(join(scratch, 'theirs.txt'), { force: true });
  lines.push(row(`--dump-dmesg ${key}`, ours, theirs, 'makedumpfile'));
}
for (const key of ['kdump-c-d31', 'kdump-l-d31']) {
  const f = m.files[key]!.path;
  const ours = measure(process.execPath, [readAll, f], runs);
  const out = join(scratch, 'out');
  const theirs = measure('sh', ['-c', `rm -f ${out}; makedumpfile -f --message-level 0 -d 0 ${f} ${out}`], runs);
  rmSync(out, { force: true });
  const mib = (m.files[key]!.size / 1048576).toFixed(0);
  lines.push(row(`read every page ${key} (${mib} MiB)`, ours, theirs, 'makedumpfile -d 0'));
}
rmSync(scratch, { recursive: true, force: true });
process.stdout.write(`${lines.join('\n')}\n`);
