/**
 * tsmakedumpfile: a makedumpfile-compatible dump writer.
 *   tsmakedumpfile [-c|-l|-p|-z] [-d LEVEL] [-E] [-F] [-f] [-b ORDER] [--message-level N]
 *                  [--num-threads N] [-x VMLINUX [--config FILE]] [-i VMCOREINFO] VMCORE [DUMPFILE]
 *   tsmakedumpfile -R DUMPFILE < FLAT
 *   tsmakedumpfile --dump-dmesg [--partial-dmesg] VMCORE LOGFILE
 *   tsmakedumpfile --mem-usage VMCORE
 *   tsmakedumpfile --check-params ...   (validate the command line only)
 *   tsmakedumpfile --split [...] VMCORE DUMPFILE1 DUMPFILE2 ...
 *   tsmakedumpfile --reassemble DUMPFILE1 DUMPFILE2 ... DUMPFILE
 * Exit codes follow makedumpfile: 0 completed, 1 failed (an incomplete dump
 * is a failure: the file is kept, flagged INCOMPLETE), 2 -i VMCOREINFO does
 * not match the dump's release.
 */
import { runMakedumpfile } from '../core/writer/main.js';

// A reader of the messages that stops early (tsmakedumpfile --mem-usage | head) closes the pipe: stop quietly. (A
// -F stream's reader that goes away is a write error of the dump itself, reported by its sink.)
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// -x and --config read DWARF: their modules load only when asked for (most runs never need them)
runMakedumpfile(process.argv.slice(2), {
  vmcoreinfoFromVmlinux: async (...a) =>
    (await import('../program/vmcoreinfo-from-vmlinux.js')).vmcoreinfoFromVmlinux(...a),
  eraseTargets: async (...a) => (await import('../program/erase-resolve.js')).eraseTargetsFromConfig(...a),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`tsmakedumpfile: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
