/**
 * Start-up, in one run, on the real sysrq sample (issue 16's targets):
 *  - `tscrash --dump-dmesg VMCORE FILE` against makedumpfile's (target: at most 0.06 s);
 *  - tsmakedumpfile's fixed cost: its start-up alone (`--version`) and a whole `-d 31 -c` of the sample against
 *    makedumpfile's (target: the fixed part at most 0.1 s);
 *  - `tscrash VMLINUX VMCORE -c sys` with a warm index cache (target: at most 0.15 s);
 *  - bare `node -e 0`, the floor under every figure of ours.
 * Each of ours from the start-up snapshot (bin/launch.sh; made first, into a cache of the bench's own) and, for
 * comparison, from the bundle (TSCRASH_SNAPSHOT=0).
 *   node dist/bench/startup.js [--runs 5]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
const env = { ...process.env, XDG_CACHE_HOME: join(scratch, 'cache') };
const bundleEnv = { ...env, TSCRASH_SNAPSHOT: '0' };
try {
  // The snapshot: the first run makes it in the background.
  spawnSync(tscrash, ['--version'], { env });
  const blob = join(scratch, 'cache', 'tscrash', 'snapshot', 'key');
  for (let i = 0; i < 600 && !existsSync(blob); i++) spawnSync('sleep', ['0.1']);
  if (!existsSync(blob)) throw new Error('the start-up snapshot was not made in 60 s');
  const out = join(scratch, 'out');
  const node = measure(process.execPath, ['-e', '0'], runs);
  process.stdout.write(`${row('node -e 0', node, undefined, '')}\n`);
  const both = (label: string, cmd: string, args: string[], peer?: [string, string[]]): void => {
    const theirs = peer ? measure(peer[0], peer[1], runs) : undefined;
    const ours = measure(cmd, args, runs, env);
    const bundled = measure(cmd, args, runs, bundleEnv);
    process.stdout.write(`${row(label, ours, theirs, peer ? peer[0] : '')}\n`);
    process.stdout.write(`${row('  (the same from the bundle)', bundled, theirs, peer ? peer[0] : '')}\n`);
  };
  both(
    '--dump-dmesg (target 0.06 s)',
    tscrash,
    ['--dump-dmesg', '-f', core, out],
    ['makedumpfile', ['--dump-dmesg', '-f', core, out]],
  );
  both('tsmakedumpfile --version', tsmdf, ['--version'], ['makedumpfile', ['-v']]);
  both(
    'tsmakedumpfile -d 31 -c (sysrq ELF)',
    tsmdf,
    ['-f', '-d', '31', '-c', elf, out],
    ['makedumpfile', ['-f', '-d', '31', '-c', elf, out]],
  );
  measure(tscrash, [m.vmlinux, core, '-c', 'sys'], 1, env); // warm the index cache
  both('-c sys, warm (target 0.15 s)', tscrash, [m.vmlinux, core, '-c', 'sys']);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
