/**
 * The session's worker thread: it holds the Program and runs command lines one at a time, streaming their output
 * to the terminal's thread in batches. The terminal's thread interrupts a command through a shared flag that the
 * runner polls at each piece of output and each page read (cli/sessions.ts, WorkerSession).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { completeLine } from '../commands/complete.js';
import { registerBuiltins } from '../commands/index.js';
import { type OutputKind, runLine } from '../commands/runner.js';
import { loadPlugins } from '../plugins/loader.js';
import { registerScriptCommands } from '../plugins/script.js';
import type { Program } from '../program/index.js';
import { errorLine } from './errors.js';
import { openProgram, type SessionOpenOptions, sessionInfo, type ToSession, type ToTerminal } from './sessions.js';

const port = parentPort!;
const opts = workerData as SessionOpenOptions & { flag: SharedArrayBuffer };
const flag = new Int32Array(opts.flag);
const post = (m: ToTerminal): void => port.postMessage(m);

registerBuiltins();
registerScriptCommands();
// Plugins load here, in the thread that runs the commands: a plugin's failure is a warning of the session.
const failed: string[] = [];
await loadPlugins(opts.plugins ?? [], (l) => failed.push(l));
let program: Program;
try {
  program = openProgram(opts);
} catch (e) {
  post({ t: 'fail', message: errorLine(e) });
  process.exit(0);
}
const info = sessionInfo(program, opts);
info.warnings.push(...failed);
post({ t: 'ready', info });
// With no cached name index, build it while the session goes on (lookups meanwhile search).
if (opts.backgroundIndex && program.vmlinux) {
  void program
    .loadDebugInfo()
    .then((d) => d.buildIndex({ background: true }))
    .catch(() => undefined);
}

const interrupted = (): boolean => Atomics.load(flag, 0) !== 0;

/** Output in batches: at most 64 KiB or 40 ms old, so that a long command's output appears as it comes. */
function batcher(id: number): { write: (s: string, kind?: OutputKind) => void; flush: () => void } {
  let buf = '';
  let kind: OutputKind = 'out';
  let last = performance.now();
  const flush = (): void => {
    if (buf) post({ t: 'out', id, s: buf, kind });
    buf = '';
    last = performance.now();
  };
  return {
    write(s, k = 'out') {
      if (k !== kind) flush();
      kind = k;
      buf += s;
      if (buf.length >= 65536 || performance.now() - last >= 40) flush();
    },
    flush,
  };
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (m: ToSession) => {
  queue = queue.then(async () => {
    try {
      if (m.t === 'run') {
        const b = batcher(m.id);
        const res = await runLine(program, m.line, b.write, { interrupted, record: true });
        b.flush();
        post({ t: 'done', id: m.id, res });
      } else if (m.t === 'query') {
        let text = '';
        await runLine(program, m.line, (s) => (text += s), { format: 'json' });
        post({ t: 'json', id: m.id, text });
      } else if (m.t === 'complete') {
        post({ t: 'completion', id: m.id, completion: completeLine(program, m.line) });
      } else if (m.t === 'vmlinux') {
        // Between two commands (this queue runs one message at a time): the vmlinux's symbols and DWARF from now on.
        try {
          const d = await program.useVmlinux(m.path);
          post({
            t: 'switched',
            id: m.id,
            ok: true,
            message: `debuginfod: vmlinux ready, types now from DWARF (${m.path})`,
          });
          if (opts.backgroundIndex) void d.buildIndex({ background: true }).catch(() => undefined);
        } catch (e) {
          const still = program.btf ? "the dump's BTF" : "the dump's kallsyms";
          post({
            t: 'switched',
            id: m.id,
            ok: false,
            message: `debuginfod: ${m.path} not used: ${errorLine(e)}; the session stays on ${still}`,
          });
        }
      } else if (m.t === 'close') {
        program.close();
        process.exit(0);
      }
    } catch (e) {
      post({ t: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
