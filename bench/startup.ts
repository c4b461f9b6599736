/**
 * Start-up, in one run, on the real sysrq sample (issue 16's targets):
 *  - `tscrash --dump-dmesg VMCORE FILE` against makedumpfile's (target: at most 0.06 s);
 *  - tsmakedumpfile's fixed cost: its start-up alone (`--version`) and a whole `-d 31 -c` of the sample against
 *    makedumpfile's (target: the fixed part at most 0.1 s);
 *  - `tscrash VMLINUX VMCORE -c sys` with a warm index cache (target: at most 0.15 s);
 *  - bare `node -e 0`, the floor under every figure of ours.
 *   node dist/bench/startup.js [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest, measure, row } from './measure.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 5) || 5;
const tscrash = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const tsmdf = fileURLToPath(new URL('../../bin/tsmakedumpfile', import.meta.url));
const m = loadSampleManifest('sysrq');
const core = m.files['kdump-c-d31']!.path;
const elf = m.files.elf!.path;
const scratch = mkdtempSync(join('/dev/shm', 'tscrash-startup-'));
try {
  const out = join(scratch, 'out');
  const node = measure(process.execPath, ['-e', '0'], runs);
  process.stdout.write(`${row('node -e 0', node, undefined, '')}\n`);
  const dmesg = measure(tscrash, ['--dump-dmesg', '-f', core, out], runs);
  const mdfDmesg = measure('makedumpfile', ['--dump-dmesg', '-f', core, out], runs);
  process.stdout.write(`${row('--dump-dmesg (target 0.06 s)', dmesg, mdfDmesg, 'makedumpfile')}\n`);
  const v = measure(tsmdf, ['--version'], runs);
  const mdfV = measure('makedumpfile', ['-v'], runs);
  process.stdout.write(`${row('tsmakedumpfile --version', v, mdfV, 'makedumpfile')}\n`);
  const w = measure(tsmdf, ['-f', '-d', '31', '-c', elf, out], runs);
  const mdfW = measure('makedumpfile', ['-f', '-d', '31', '-c', elf, out], runs);
  process.stdout.write(`${row('tsmakedumpfile -d 31 -c (sysrq ELF)', w, mdfW, 'makedumpfile')}\n`);
  measure(tscrash, [m.vmlinux, core, '-c', 'sys'], 1); // warm the index cache
  const sys = measure(tscrash, [m.vmlinux, core, '-c', 'sys'], runs);
  process.stdout.write(`${row('-c sys, warm (target 0.15 s)', sys, undefined, '')}\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
