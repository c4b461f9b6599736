/**
 * The terminal UI (blessed): an output pane with a 200,000-line scrollback, the input line (always there), a
 * status bar (dump, release, panic, context, busy time), a task pane (F2), a log pane (F3) and help (F1).
 * It is a view: every command runs through the session (repl/session.ts), the same registry and runner as the
 * line mode; the panes are filled from commands' results (ps, set, sys) and text (log, help).
 *
 * Keys: Enter runs the line; Ctrl-C interrupts a running command (its output so far stays, then
 * "(interrupted)") or clears the line; Ctrl-D (on an empty line), `q` and `exit` quit; Tab completes; Ctrl-P /
 * Ctrl-N (and Up/Down unless the task pane has the focus) walk the history; PageUp/PageDown, Shift+Up/Down,
 * Home/End and the mouse wheel scroll; Ctrl-F searches the scrollback (Enter or Ctrl-F: the previous match,
 * Ctrl-N: the next one, Esc: done); F1 help, F2 tasks, F3 log; Esc gives the focus back to the input line.
 */
import blessed from 'blessed';
import { loadHistory, saveHistory } from '../line.js';
import type { Session } from '../session.js';
import { displayText, type LineKind, type Row, Scrollback, textWidth, wrap } from './scrollback.js';

export interface TuiOptions {
  /** Colours (off with --no-color or NO_COLOR). */
  color: boolean;
  /** Lines to run first (-i FILE). */
  first?: string[];
  /** The scrollback's size in lines. */
  scrollback?: number;
}

interface TaskRow {
  pid: number;
  task: string;
  cpu: number;
  comm: string;
  state: string;
  active: boolean;
  panic: boolean;
}

const KEYS_HELP = `Keys
  Enter            run the command line (typed while a command runs: queued, run when it ends)
  Ctrl-C           interrupt the running command; on the input line, clear it
  Ctrl-D, q, exit  quit (Ctrl-D on an empty line)
  Tab              complete: commands, symbols, struct/union names, members after . or ->, files after >
  Ctrl-P, Ctrl-N   previous / next line of the history (Up/Down too, unless the task pane has the focus)
  Ctrl-A, Ctrl-E   start / end of the input line; Ctrl-U, Ctrl-K, Ctrl-W delete before / after / a word
  PageUp/PageDown  scroll the output (Shift+Up/Down a line; Home/End the top / the end; the mouse wheel)
  Ctrl-F           search the output: type, then Enter or Ctrl-F for the previous match, Ctrl-N the next; Esc ends
  F1               this help          F2  the task pane (Up/Down, Enter: set PID and bt)
  F3               the log pane       Esc the focus back to the input line
`;

function esc(s: string): string {
  return blessed.escape(s);
}

/** What marks a shortened text: an ellipsis on a UTF-8 terminal. */
let ellipsis = '…';

/** Shorten to `width` columns with an ellipsis. */
function fit(s: string, width: number): string {
  if (width <= 0) return '';
  if (textWidth(s) <= width) return s;
  const rows = wrap(s, Math.max(1, width - 1));
  return `${rows[0]}${ellipsis}`;
}

function spinner(n: number): string {
  return '|/-\\'[n % 4]!;
}

export async function runTui(session: Session, opts: TuiOptions): Promise<void> {
  // blessed's terminfo reader does not know ncurses 6.4's 32-bit entries: it says so when warnings are on and
  // then uses its own xterm entry, which is right for the terminals people use. Box characters are Unicode.
  const unicode = /utf-?8/i.test(`${process.env.LC_ALL}:${process.env.LC_CTYPE}:${process.env.LANG}`);
  if (unicode) process.env.NCURSES_NO_UTF8_ACS = '1';
  ellipsis = unicode ? '…' : '~';
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: unicode,
    warnings: false,
    title: 'tscrash',
    autoPadding: false,
    sendFocus: false,
  });
  const color = opts.color;
  const c = (tag: string, s: string): string => (color ? `{${tag}}${s}{/${tag}}` : s);
  const sb = new Scrollback(opts.scrollback ?? 200_000);

  const output = blessed.box({ parent: screen, top: 0, left: 0, tags: true, wrap: false });
  const taskBox = blessed.box({ parent: screen, top: 0, tags: true, wrap: false, hidden: true });
  const logBox = blessed.box({ parent: screen, left: 0, tags: true, wrap: false, hidden: true });
  const inputBox = blessed.box({ parent: screen, left: 0, height: 1, tags: true, wrap: false });
  const statusBox = blessed.box({
    parent: screen,
    left: 0,
    height: 1,
    tags: true,
    wrap: false,
    style: color ? { fg: 'black', bg: 'cyan' } : { inverse: true },
  });
  const helpBox = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    tags: true,
    wrap: false,
    hidden: true,
    style: color ? { fg: 'white', bg: 'blue' } : { inverse: true },
  });

  // State.
  let input = '';
  let cursor = 0;
  const history = loadHistory(); // newest first
  let histPos = -1;
  let histSaved = '';
  let busy: { line: string; start: number } | undefined;
  const typedAhead: string[] = [];
  let tick = 0;
  let focus: 'input' | 'tasks' | 'log' = 'input';
  let search: { query: string; at?: number; message?: string } | undefined;
  let panic = '';
  let panicTask = '';
  let context = '';
  let contextShort = '';
  let tasks: TaskRow[] = [];
  let tasksNote = 'F2: loading the task list';
  let taskSel = 0;
  let taskTop = 0;
  let logLines: string[] = [];
  // The log's wrapped rows, made again only when the log or the width changes (not at every render).
  let logRows: { lines: string[]; width: number; rows: string[] } | undefined;
  const logRowsAt = (width: number): string[] => {
    if (logRows?.lines !== logLines || logRows.width !== width) {
      const rows: string[] = [];
      for (const l of logLines) for (const r of wrap(displayText(l), width)) rows.push(r);
      logRows = { lines: logLines, width, rows };
    }
    return logRows.rows;
  };
  let logTop = -1; // -1: the end
  let note = ''; // a one-line message in the status bar (completion, errors of the panes)
  let background = ''; // the progress of the session's background work (debuginfod's vmlinux)
  let quitting = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  // Layout.
  const geometry = (): { w: number; h: number; outW: number; outH: number; taskW: number; logH: number } => {
    const w = Math.max(20, screen.width as number);
    const h = Math.max(6, screen.height as number);
    const taskW = taskBox.hidden ? 0 : Math.min(48, Math.max(28, Math.floor(w * 0.38)));
    const main = h - 2;
    const logH = logBox.hidden ? 0 : Math.max(4, Math.floor(main * 0.45));
    return { w, h, outW: w - taskW, outH: main - logH, taskW, logH };
  };

  const rowText = (r: Row): string => {
    const t = esc(r.text);
    const kind: LineKind = r.kind;
    let s = t;
    if (search?.query && search.at === r.line) {
      const i = r.text.toLowerCase().indexOf(search.query.toLowerCase());
      if (i >= 0) {
        const a = r.text.slice(0, i);
        const m = r.text.slice(i, i + search.query.length);
        const b = r.text.slice(i + search.query.length);
        s = `${esc(a)}{inverse}${esc(m)}{/inverse}${esc(b)}`;
      }
    }
    if (kind === 'error') return c('red-fg', s);
    if (kind === 'command') return `{bold}${c('cyan-fg', s)}{/bold}`;
    if (kind === 'note') return c('gray-fg', s);
    const full = sb.text(r.line);
    if ((panic && full.includes(panic)) || (panicTask && full.includes(panicTask)))
      return `{bold}${c('yellow-fg', s)}{/bold}`;
    return s;
  };

  const renderOutput = (g: ReturnType<typeof geometry>): void => {
    output.width = g.outW;
    output.height = g.outH;
    const rows = sb.view(g.outW, g.outH);
    const lines = rows.map(rowText);
    while (lines.length < g.outH) lines.push('');
    output.setContent(lines.join('\n'));
  };

  const renderTasks = (g: ReturnType<typeof geometry>): void => {
    if (taskBox.hidden) return;
    taskBox.left = g.outW;
    taskBox.width = g.taskW;
    taskBox.height = g.h - 2;
    const inner = g.taskW - 1;
    const head = fit(` Tasks (${tasks.length})${focus === 'tasks' ? ' [Up/Down, Enter]' : ' [F2]'}`, inner);
    const lines = [`{inverse}${esc(head)}${' '.repeat(Math.max(0, inner - textWidth(head)))}{/inverse}`];
    const room = g.h - 3;
    if (tasks.length === 0) lines.push(esc(fit(` ${tasksNote}`, inner)));
    if (taskSel < taskTop) taskTop = taskSel;
    if (taskSel >= taskTop + room) taskTop = taskSel - room + 1;
    for (let i = taskTop; i < tasks.length && lines.length <= room; i++) {
      const t = tasks[i]!;
      const mark = t.panic ? '*' : t.active ? '>' : ' ';
      let s = fit(
        `${mark}${String(t.pid).padStart(7)} ${t.state.padEnd(2)} ${String(t.cpu).padStart(3)} ${t.comm}`,
        inner,
      );
      s = esc(s) + ' '.repeat(Math.max(0, inner - textWidth(s)));
      if (i === taskSel) s = `{inverse}${s}{/inverse}`;
      else if (t.panic) s = `{bold}${c('yellow-fg', s)}{/bold}`;
      lines.push(s);
    }
    taskBox.setContent(lines.map((l) => `{gray-fg}${unicode ? '│' : '|'}{/gray-fg}${l}`).join('\n'));
  };

  const renderLog = (g: ReturnType<typeof geometry>): void => {
    if (logBox.hidden) return;
    logBox.top = g.outH;
    logBox.width = g.outW;
    logBox.height = g.logH;
    const room = g.logH - 1;
    const rows = logRowsAt(g.outW);
    const maxTop = Math.max(0, rows.length - room);
    const top = logTop < 0 ? maxTop : Math.min(logTop, maxTop);
    const head = fit(` Log (${logLines.length} lines)${focus === 'log' ? ' [PageUp/PageDown]' : ' [F3]'}`, g.outW);
    const lines = [`{inverse}${esc(head)}${' '.repeat(Math.max(0, g.outW - textWidth(head)))}{/inverse}`];
    for (const r of rows.slice(top, top + room))
      lines.push(panic && r.includes(panic.slice(0, 20)) ? `{bold}${c('yellow-fg', esc(r))}{/bold}` : esc(r));
    logBox.setContent(lines.join('\n'));
  };

  const renderInput = (g: ReturnType<typeof geometry>): void => {
    inputBox.top = g.h - 2;
    inputBox.width = g.w;
    const prompt = search ? 'search: ' : 'tscrash> ';
    const text = search ? search.query : input;
    const pos = search ? text.length : cursor;
    const room = g.w - prompt.length - 1;
    let start = 0;
    if (pos > room) start = pos - room;
    const shown = text.slice(start, start + room);
    const at = pos - start;
    const before = esc(shown.slice(0, at));
    const under = shown[at] ?? ' ';
    const after = esc(shown.slice(at + 1));
    inputBox.setContent(`{bold}${prompt}{/bold}${before}{inverse}${esc(under)}{/inverse}${after}`);
  };

  const renderStatus = (g: ReturnType<typeof geometry>): void => {
    statusBox.top = g.h - 1;
    statusBox.width = g.w;
    let file = session.info.vmcore?.split('/').pop() ?? session.info.vmlinux?.split('/').pop() ?? '';
    let release = session.info.release ?? '-';
    let right = busy
      ? `${spinner(tick)} ${busy.line.split(/\s/)[0]} ${((Date.now() - busy.start) / 1000).toFixed(1)}s`
      : (search?.message ?? (note || background || 'F1 help'));
    let ctx = context;
    const pan = panic ? `PANIC: ${panic}` : 'no panic message';
    const minPanic = Math.min(textWidth(pan), 30);
    const width = (panicW: number): number =>
      textWidth(` ${file} | ${release} | `) +
      panicW +
      (ctx ? textWidth(` | ${ctx}`) : 0) +
      (right ? textWidth(` | ${right} `) : 1);
    // What gives way first on a narrow terminal: the help hint, COMMAND, then the file and release names.
    if (width(minPanic) > g.w && !busy && !search?.message && !note) right = '';
    if (width(minPanic) > g.w && contextShort) ctx = contextShort;
    if (width(minPanic) > g.w) file = fit(file, 14);
    if (width(minPanic) > g.w) release = fit(release, 12);
    const room = Math.max(0, g.w - width(0));
    let line = ` ${file} | ${release} | ${fit(pan, room)}${ctx ? ` | ${ctx}` : ''}`;
    const tail = right ? ` | ${right} ` : ' ';
    line = fit(line, Math.max(0, g.w - textWidth(tail)));
    line += ' '.repeat(Math.max(0, g.w - textWidth(line) - textWidth(tail)));
    statusBox.setContent(esc(line + tail));
  };

  const renderHelp = (g: ReturnType<typeof geometry>): void => {
    if (helpBox.hidden) return;
    helpBox.width = Math.min(g.w, 110);
    helpBox.height = g.h - 2;
  };

  let renderTimer: NodeJS.Timeout | undefined;
  const render = (): void => {
    if (renderTimer) {
      clearTimeout(renderTimer);
      renderTimer = undefined;
    }
    if (quitting) return;
    const g = geometry();
    renderOutput(g);
    renderTasks(g);
    renderLog(g);
    renderInput(g);
    renderStatus(g);
    renderHelp(g);
    screen.render();
    lastRender = Date.now();
  };
  // At most one render per 30 ms while output streams; the first piece of output is drawn at once.
  let lastRender = 0;
  const soon = (): void => {
    if (renderTimer) return;
    const wait = 30 - (Date.now() - lastRender);
    if (wait <= 0) render();
    else renderTimer = setTimeout(render, wait);
  };

  // Data for the panes and the status bar, from the commands' results.
  const setContext = (ctx: { pid: number; cpu: number; comm: string } | undefined): void => {
    context = ctx ? `PID: ${ctx.pid}  CPU: ${ctx.cpu}  COMMAND: "${ctx.comm}"` : '';
    contextShort = ctx ? `PID: ${ctx.pid}  CPU: ${ctx.cpu}` : '';
  };
  const refreshContext = async (): Promise<void> => {
    const r = await session.query('set');
    const ctx = r.ok ? (r.result as { context?: { pid: number; cpu: number; comm: string } }).context : undefined;
    setContext(ctx);
  };
  const loadTasks = async (): Promise<void> => {
    const [ps, set] = await Promise.all([session.query('ps'), session.query('set')]);
    if (!ps.ok) {
      tasks = [];
      tasksNote = ps.error?.message ?? 'ps failed';
      return;
    }
    const ctx = set.ok ? (set.result as { context?: { task: string; mark?: string } }).context : undefined;
    const panicAddr = ctx?.mark === 'PANIC' ? ctx.task : undefined;
    const list = ((ps.result as { tasks?: Omit<TaskRow, 'panic'>[] }).tasks ?? []).map((t) => ({
      ...t,
      panic: t.task === panicAddr,
    }));
    list.sort((a, b) => Number(b.panic) - Number(a.panic));
    tasks = list;
    taskSel = 0;
    taskTop = 0;
  };
  const loadLog = async (): Promise<void> => {
    let text = '';
    await session.run('log', (s) => (text += s));
    logLines = Buffer.from(text, 'latin1').toString('utf8').replace(/\n$/, '').split('\n');
  };

  // Running commands.
  const runCommand = async (line: string, echo = true): Promise<void> => {
    if (busy) return;
    const trimmed = line.trim();
    if (echo) sb.append(`tscrash> ${line}\n`, 'command');
    if (trimmed && history[0] !== line.trimEnd()) history.unshift(line.trimEnd());
    histPos = -1;
    sb.toEnd();
    busy = { line: trimmed, start: Date.now() };
    note = '';
    const timer = setInterval(() => {
      tick++;
      soon();
    }, 100);
    render();
    try {
      const r = await session.run(line, (s, kind) => {
        sb.appendBytes(s, kind === 'error' ? 'error' : 'out');
        soon();
      });
      sb.endLine();
      if (r.quit) {
        quit();
        return;
      }
      await refreshContext().catch(() => undefined);
    } catch (e) {
      sb.append(`${(e as Error).message}\n`, 'error');
    } finally {
      clearInterval(timer);
      busy = undefined;
      render();
    }
    const next = typedAhead.shift();
    if (next !== undefined && !quitting) {
      note = typedAhead.length ? `${typedAhead.length} queued` : '';
      await runCommand(next);
    }
  };

  const quit = (): void => {
    if (quitting) return;
    quitting = true;
    saveHistory(history);
    screen.destroy();
    resolveDone();
  };

  const complete = async (): Promise<void> => {
    const before = input.slice(0, cursor);
    const { candidates, word } = await session.complete(before);
    if (candidates.length === 0) {
      note = 'no completion';
    } else if (candidates.length === 1) {
      const add = `${candidates[0]!.slice(word.length)}${candidates[0]!.endsWith('/') ? '' : ' '}`;
      input = before + add + input.slice(cursor);
      cursor += add.length;
      note = '';
    } else {
      let common = candidates[0]!;
      for (const x of candidates) while (!x.startsWith(common)) common = common.slice(0, -1);
      const add = common.slice(word.length);
      input = before + add + input.slice(cursor);
      cursor += add.length;
      const shown = candidates.slice(0, 200);
      const width = Math.max(...shown.map((x) => x.length)) + 2;
      const perRow = Math.max(1, Math.floor(geometry().outW / width));
      let out = '';
      for (let i = 0; i < shown.length; i += perRow)
        out += `${shown
          .slice(i, i + perRow)
          .map((x) => x.padEnd(width))
          .join('')
          .trimEnd()}\n`;
      sb.append(out, 'note');
      note = `${candidates.length}${candidates.length >= 200 ? '+' : ''} completions`;
    }
    render();
  };

  const doSearch = (older: boolean): void => {
    if (!search?.query) return;
    const g = geometry();
    const from = search.at !== undefined ? search.at + (older ? -1 : 1) : older ? sb.end - 1 : sb.first;
    const hit = sb.search(search.query, from, older);
    if (hit === undefined) {
      search.message = `"${search.query}": no ${search.at === undefined ? '' : older ? 'older ' : 'newer '}match`;
    } else {
      search.at = hit;
      search.message = `"${search.query}": line ${hit - sb.first + 1} of ${sb.length}`;
      sb.reveal(hit, g.outW, g.outH);
    }
    render();
  };

  const toggleTasks = (): void => {
    if (taskBox.hidden) {
      taskBox.show();
      focus = 'tasks';
      render();
      void loadTasks()
        .catch((e: Error) => {
          tasksNote = e.message;
        })
        .then(render);
    } else {
      taskBox.hide();
      if (focus === 'tasks') focus = 'input';
      render();
    }
  };

  const toggleLog = (): void => {
    if (logBox.hidden) {
      logBox.show();
      focus = 'log';
      logTop = -1;
      logLines = ['loading the log...'];
      render();
      void loadLog()
        .catch((e: Error) => {
          logLines = [e.message];
        })
        .then(render);
    } else {
      logBox.hide();
      if (focus === 'log') focus = 'input';
      render();
    }
  };

  const showHelp = async (): Promise<void> => {
    let cmds = '';
    await session.run('help', (s) => (cmds += s));
    let list = Buffer.from(cmds, 'latin1').toString('utf8');
    // Every command stays in sight: when a line each does not fit the box, their names alone, as many a line as fit.
    const g = geometry();
    const rows = KEYS_HELP.split('\n').length + 3 + list.trimEnd().split('\n').length;
    if (rows > g.h - 4) {
      const width = Math.min(g.w, 110) - 4;
      const names = list
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]!)
        .filter(Boolean);
      const cell = Math.max(...names.map((n) => n.length)) + 2;
      const per = Math.max(1, Math.floor((width - 2) / cell));
      list = '';
      for (let i = 0; i < names.length; i += per)
        list += `  ${names
          .slice(i, i + per)
          .map((n) => n.padEnd(cell))
          .join('')
          .trimEnd()}\n`;
    }
    helpBox.setContent(esc(`${KEYS_HELP}\nCommands (help NAME for one)\n${list}\n  any key closes this help`));
    helpBox.show();
    render();
  };

  const historyStep = (older: boolean): void => {
    if (older) {
      if (histPos + 1 >= history.length) return;
      if (histPos === -1) histSaved = input;
      histPos++;
      input = history[histPos]!;
    } else {
      if (histPos < 0) return;
      histPos--;
      input = histPos < 0 ? histSaved : history[histPos]!;
    }
    cursor = input.length;
  };

  const scrollOutput = (n: number): void => {
    const g = geometry();
    if (focus === 'log' && !logBox.hidden) {
      const rows = logRowsAt(g.outW).length;
      const room = g.logH - 1;
      const maxTop = Math.max(0, rows - room);
      const cur = logTop < 0 ? maxTop : logTop;
      const next = Math.max(0, cur + n);
      logTop = next >= maxTop ? -1 : next;
    } else sb.scroll(n, g.outW, g.outH);
    render();
  };

  screen.on(
    'keypress',
    (ch: string | undefined, key: { full: string; name?: string; ctrl?: boolean; meta?: boolean; shift?: boolean }) => {
      try {
        onKey(ch, key);
      } catch (e) {
        sb.append(`tscrash: ${(e as Error).message}\n`, 'error');
        render();
      }
    },
  );

  const onKey = (
    ch: string | undefined,
    key: { full: string; name?: string; ctrl?: boolean; meta?: boolean },
  ): void => {
    const k = key.full;
    if (!helpBox.hidden) {
      helpBox.hide();
      render();
      return;
    }
    const g = geometry();
    const page = Math.max(1, g.outH - 2);
    // Keys that work everywhere.
    switch (k) {
      case 'C-c':
        if (busy) {
          typedAhead.length = 0;
          session.interrupt();
        } else if (search) search = undefined;
        else {
          input = '';
          cursor = 0;
          histPos = -1;
        }
        render();
        return;
      case 'f1':
        void showHelp();
        return;
      case 'f2':
        toggleTasks();
        return;
      case 'f3':
        toggleLog();
        return;
      case 'pageup':
        scrollOutput(-page);
        return;
      case 'pagedown':
        scrollOutput(page);
        return;
      case 'S-up':
        scrollOutput(-1);
        return;
      case 'S-down':
        scrollOutput(1);
        return;
      case 'home':
        if (focus === 'log') logTop = 0;
        else sb.home();
        render();
        return;
      case 'end':
        if (focus === 'log') logTop = -1;
        else sb.toEnd();
        render();
        return;
    }
    if (search) {
      if (k === 'escape') {
        search = undefined;
      } else if (k === 'enter' || k === 'C-f' || k === 'up' || k === 'C-p') {
        doSearch(true);
        return;
      } else if (k === 'C-n' || k === 'down') {
        doSearch(false);
        return;
      } else if (k === 'backspace') {
        search.query = search.query.slice(0, -1);
        search.at = undefined;
      } else if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') {
        search.query += ch;
        search.at = undefined;
        search.message = undefined;
      }
      render();
      return;
    }
    if (focus === 'tasks' && !taskBox.hidden) {
      if (k === 'up') {
        taskSel = Math.max(0, taskSel - 1);
        render();
        return;
      }
      if (k === 'down') {
        taskSel = Math.min(tasks.length - 1, taskSel + 1);
        render();
        return;
      }
      if (k === 'enter' && input.trim() === '') {
        const t = tasks[taskSel];
        if (t && !busy)
          void (async () => {
            await runCommand(`set ${t.pid === 0 ? t.task.replace(/^0x/, '') : t.pid}`);
            await runCommand('bt');
          })();
        return;
      }
    }
    switch (k) {
      case 'escape':
        focus = 'input';
        note = '';
        break;
      case 'enter': {
        const line = input;
        input = '';
        cursor = 0;
        // Typed ahead while a command runs: run when it ends (Ctrl-C drops what is queued).
        if (busy) {
          typedAhead.push(line);
          note = `${typedAhead.length} queued`;
          render();
        } else void runCommand(line);
        return;
      }
      case 'C-d':
        if (input === '' && !busy) {
          quit();
          return;
        }
        input = input.slice(0, cursor) + input.slice(cursor + 1);
        break;
      case 'C-f':
        search = { query: '' };
        break;
      case 'tab':
        if (!busy) void complete();
        return;
      case 'up':
      case 'C-p':
        historyStep(true);
        break;
      case 'down':
      case 'C-n':
        historyStep(false);
        break;
      case 'left':
      case 'C-b':
        cursor = Math.max(0, cursor - 1);
        break;
      case 'right':
        cursor = Math.min(input.length, cursor + 1);
        break;
      case 'C-a':
        cursor = 0;
        break;
      case 'C-e':
        cursor = input.length;
        break;
      case 'C-u':
        input = input.slice(cursor);
        cursor = 0;
        break;
      case 'C-k':
        input = input.slice(0, cursor);
        break;
      case 'C-w': {
        const before = input.slice(0, cursor).replace(/\S+\s*$/, '');
        input = before + input.slice(cursor);
        cursor = before.length;
        break;
      }
      case 'backspace':
        if (cursor > 0) {
          input = input.slice(0, cursor - 1) + input.slice(cursor);
          cursor--;
        }
        break;
      case 'delete':
        input = input.slice(0, cursor) + input.slice(cursor + 1);
        break;
      default:
        if (ch && !key.ctrl && !key.meta && ch >= ' ' && ch !== '\x7f') {
          input = input.slice(0, cursor) + ch + input.slice(cursor);
          cursor += ch.length;
          if (focus !== 'input') focus = 'input';
        } else return;
    }
    render();
  };

  screen.enableMouse();
  screen.on('mouse', (data: { action: string }) => {
    if (data.action === 'wheelup') scrollOutput(-3);
    else if (data.action === 'wheeldown') scrollOutput(3);
  });
  screen.on('resize', () => render());

  // The opening: what the dump is, the panic, the context; then -i's lines.
  sb.append(session.info.banner, 'note');
  for (const w of session.info.warnings) sb.append(`${w}\n`, 'error');
  sb.append('\n', 'note');
  // Background work: its progress in the status bar, its lines (start, end) in the output.
  session.onNotice?.((n) => {
    if (n.kind === 'progress') background = n.text.replace(/^debuginfod: /, '');
    else sb.append(`${n.text}\n`, 'note');
    render();
  });
  render();
  const sys = await session.query('sys');
  if (sys.ok) panic = String((sys.result as { panic?: string }).panic ?? '').replace(/^"|"$/g, '');
  const set = await session.query('set');
  if (set.ok) {
    const ctx = (set.result as { context?: { pid: number; cpu: number; comm: string; task: string; mark?: string } })
      .context;
    if (ctx) {
      setContext(ctx);
      if (ctx.mark === 'PANIC') panicTask = ctx.task.replace(/^0x/, '');
    }
  }
  render();
  for (const line of opts.first ?? []) {
    if (quitting) break;
    if (line.trim()) await runCommand(line);
  }
  await done;
}
