/**
 * The README's picture of the TUI, made from a real terminal: the TUI runs in tmux on the sysrq sample, runs
 * `bt` and opens the task pane; tmux's screen with its colours (capture-pane -e) becomes an HTML page, and
 * headless Chromium takes its picture: docs/tui.png.
 *   node --import tsx scripts/tui-screenshot.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const samples = process.env.TSCRASH_SAMPLES || join(process.env.HOME ?? '/root', '.cache', 'tscrash', 'samples');
const m = JSON.parse(readFileSync(join(samples, 'sysrq', 'manifest.json'), 'utf8')) as {
  vmlinux: string;
  files: Record<string, { path: string }>;
};
const COLS = 120;
const ROWS = 34;
const socket = `tscrash-shot-${process.pid}`;
const tmux = (...a: string[]): string => spawnSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' }).stdout;
const wait = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};
function until(re: RegExp): void {
  for (let i = 0; i < 600; i++) {
    if (re.test(tmux('capture-pane', '-t', 's', '-p'))) return;
    wait(100);
  }
  throw new Error(`the TUI never showed ${re}`);
}

tmux(
  'new-session',
  '-d',
  '-s',
  's',
  '-x',
  String(COLS),
  '-y',
  String(ROWS),
  `env TERM=xterm-256color LANG=C.UTF-8 TZ=UTC '${join(root, 'bin', 'tscrash')}' '${m.vmlinux}' '${m.files['kdump-c-d31']!.path}'; sleep 60`,
);
let screen: string;
try {
  until(/PANIC: .*PID: \d+/);
  tmux('send-keys', '-t', 's', '-l', 'bt');
  tmux('send-keys', '-t', 's', 'Enter');
  until(/#\d+ \[[0-9a-f]+\] \S+ at [0-9a-f]+/);
  tmux('send-keys', '-t', 's', 'F2');
  until(/│\*\s+\d+/);
  tmux('send-keys', '-t', 's', '-l', 'struct task_struct.');
  wait(300);
  screen = tmux('capture-pane', '-t', 's', '-p', '-e');
} finally {
  tmux('kill-server');
}

// The 16 colours as xterm draws them, and the 256-colour cube.
const BASE = [
  '#000000',
  '#cd0000',
  '#00cd00',
  '#cdcd00',
  '#0000ee',
  '#cd00cd',
  '#00cdcd',
  '#e5e5e5',
  '#7f7f7f',
  '#ff0000',
  '#00ff00',
  '#ffff00',
  '#5c5cff',
  '#ff00ff',
  '#00ffff',
  '#ffffff',
];
function xterm256(n: number): string {
  if (n < 16) return BASE[n]!;
  if (n >= 232) {
    const v = (8 + (n - 232) * 10).toString(16).padStart(2, '0');
    return `#${v}${v}${v}`;
  }
  const c = n - 16;
  const lv = (x: number): string => (x === 0 ? 0 : 55 + x * 40).toString(16).padStart(2, '0');
  return `#${lv(Math.floor(c / 36))}${lv(Math.floor(c / 6) % 6)}${lv(c % 6)}`;
}
const FG = '#d0d0d0';
const BG = '#1c1c1c';
const html = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
let out = '';
let st = { fg: FG, bg: BG, bold: false, inverse: false };
const ESC = String.fromCharCode(27);
for (const line of screen.replace(/\n$/, '').split('\n')) {
  const parts = line.split(`${ESC}[`);
  let text = parts[0]!;
  const flush = (t: string): void => {
    if (!t) return;
    const fg = st.inverse ? (st.bg === BG ? '#000000' : st.bg) : st.fg;
    const bg = st.inverse ? (st.fg === FG ? '#d0d0d0' : st.fg) : st.bg;
    out += `<span style="color:${fg};background:${bg}${st.bold ? ';font-weight:bold' : ''}">${html(t)}</span>`;
  };
  flush(text);
  for (const p of parts.slice(1)) {
    const mm = /^([0-9;]*)m/.exec(p);
    if (!mm) {
      flush(p);
      continue;
    }
    const codes = mm[1] === '' ? [0] : mm[1]!.split(';').map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c === 0) st = { fg: FG, bg: BG, bold: false, inverse: false };
      else if (c === 1) st.bold = true;
      else if (c === 7) st.inverse = true;
      else if (c === 22) st.bold = false;
      else if (c === 27) st.inverse = false;
      else if (c >= 30 && c <= 37) st.fg = BASE[c - 30]!;
      else if (c >= 90 && c <= 97) st.fg = BASE[c - 82]!;
      else if (c === 39) st.fg = FG;
      else if (c >= 40 && c <= 47) st.bg = BASE[c - 40]!;
      else if (c >= 100 && c <= 107) st.bg = BASE[c - 92]!;
      else if (c === 49) st.bg = BG;
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
        const col = xterm256(codes[i + 2] ?? 0);
        if (c === 38) st.fg = col;
        else st.bg = col;
        i += 2;
      }
    }
    text = p.slice(mm[0].length);
    flush(text);
  }
  out += '\n';
}
const dir = mkdtempSync(join(tmpdir(), 'tscrash-shot-'));
const page = join(dir, 'tui.html');
writeFileSync(
  page,
  `<!doctype html><meta charset="utf-8"><style>body{margin:0;background:${BG}}pre{margin:0;padding:8px;font:14px/17px "DejaVu Sans Mono",monospace;color:${FG}}</style><pre>${out}</pre>`,
);
const width = Math.ceil(COLS * 8.43) + 16;
const height = ROWS * 17 + 16;
const png = join(dir, 'tui.png');
const r = spawnSync(
  'chromium',
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--user-data-dir=${join(dir, 'profile')}`,
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    pathToFileURL(page).href,
  ],
  { encoding: 'utf8', timeout: 120_000 },
);
if (r.status !== 0) throw new Error(`chromium: ${r.stderr}`);
const target = join(root, 'docs', 'tui.png');
renameSync(png, target);
process.stdout.write(`${target}\n`);
