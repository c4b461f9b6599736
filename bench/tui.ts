/**
 * The interactive start, on a real terminal (tmux), against crash 8.0.2 on the same dump, in one run:
 *  - tscrash's TUI: from launch to a usable screen (the status bar with the panic, the input line), with a
 *    warm index cache;
 *  - from Enter to the first line of `bt -a`'s output in the TUI;
 *  - crash: from launch to its `crash>` prompt, and from Enter to the first line of its `bt -a`.
 *   node dist/bench/tui.js [--case sysrq] [--runs 3]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadSampleManifest } from './measure.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : d;
};
const m = loadSampleManifest(opt('--case', 'sysrq'));
const runs = Number(opt('--runs', '3'));
const core = m.files['kdump-c-d31']!.path;
const bin = fileURLToPath(new URL('../../bin/tscrash', import.meta.url));
const socket = `tscrash-bench-${process.pid}`;

const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
const screen = (): string => tmux('capture-pane', '-t', 'b', '-p');
const sleepMs = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Seconds until the screen passes `test` (polled every 10 ms). */
function until(test: (s: string) => boolean, limit = 120): number {
  const t0 = performance.now();
  for (;;) {
    if (test(screen())) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > limit * 1000) throw new Error(`timed out:\n${screen()}`);
    sleepMs(10);
  }
}

interface Times {
  ready: number;
  firstBt: number;
}

function once(cmd: string, ready: (s: string) => boolean, prompt: string): Times {
  tmux('kill-server');
  const t0 = performance.now();
  tmux(
    'new-session',
    '-d',
    '-s',
    'b',
    '-x',
    '160',
    '-y',
    '50',
    `env TERM=xterm-256color LANG=C.UTF-8 TZ=UTC ${cmd}; sleep 600`,
  );
  until(ready);
  const readyAt = (performance.now() - t0) / 1000;
  tmux('send-keys', '-t', 'b', '-l', 'bt -a');
  until((s) => s.includes(`${prompt}bt -a`));
  tmux('send-keys', '-t', 'b', 'Enter');
  const firstBt = until((s) => /PID: \d+\s+TASK: [0-9a-f]+\s+CPU: \d+/.test(s));
  tmux('kill-server');
  return { ready: readyAt, firstBt };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function series(label: string, cmd: string, ready: (s: string) => boolean, prompt: string): Times {
  const all: Times[] = [];
  for (let i = 0; i < runs; i++) all.push(once(cmd, ready, prompt));
  const t = { ready: median(all.map((x) => x.ready)), firstBt: median(all.map((x) => x.firstBt)) };
  process.stdout.write(
    `${label.padEnd(10)} ready ${t.ready.toFixed(3)} s, Enter to bt -a's first line ${t.firstBt.toFixed(3)} s\n`,
  );
  return t;
}

// Warm the name index cache first (a session's first start builds it).
spawnSync(bin, [m.vmlinux, core, '-c', 'whatis struct task_struct'], { stdio: 'ignore' });
const ours = series(
  'tscrash',
  `'${bin}' '${m.vmlinux}' '${core}'`,
  (s) => {
    const l = s.replace(/\n+$/, '').split('\n');
    return (
      /PANIC: /.test(l[l.length - 1] ?? '') &&
      /PID: \d+/.test(l[l.length - 1] ?? '') &&
      /^tscrash>/.test(l[l.length - 2] ?? '')
    );
  },
  'tscrash> ',
);
const crash = series('crash', `crash '${m.vmlinux}' '${core}'`, (s) => /^crash> *$/m.test(s), 'crash> ');
process.stdout.write(
  `ratios: ready x${(ours.ready / crash.ready).toFixed(3)}, Enter to bt -a x${(ours.firstBt / crash.firstBt).toFixed(2)} (tscrash / crash, median of ${runs})\n`,
);
