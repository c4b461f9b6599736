/**
 * The triage report as one self-contained HTML page (tscrash triage --html FILE): the same content as the text
 * form, with each backtrace frame collapsible, the memory figures and (for several dumps) the crashes of each
 * signature over time as SVG charts drawn here. Nothing is fetched: the style is inline, there is no script (the
 * page's Content-Security-Policy forbids scripts and every network load), and every string is escaped.
 */
import { type BtFrame, type BtTask, frameLine, regsBlock } from '../commands/bt.js';
import { taskHeader } from '../commands/lib/context.js';
import type { TaskStack, TriageResult } from '../commands/triage.js';
import { pagesToSize } from '../helpers/meminfo.js';
import type { SummaryRow } from './triage.js';

/** One dump for the page: its path, and its result or why it could not be read. */
export interface HtmlDump {
  vmcore: string;
  result?: TriageResult;
  error?: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is replaced
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Control characters as their Unicode pictures (U+2400...), so that they are seen, not obeyed. */
function pictures(s: string): string {
  return s.replace(CONTROLS, (c) => String.fromCharCode(0x2400 + (c === '\u007f' ? 0x21 : c.charCodeAt(0))));
}

/**
 * A byte string from the dump (one character a byte) as the text view's UTF-8 terminal shows it: UTF-8 decoded,
 * an invalid sequence as U+FFFD, control characters as their pictures.
 */
export function decodeBytes(s: string): string {
  if (/[\u0100-\uffff]/.test(s)) return pictures(s); // not a byte string
  const u = /[\u0080-\u00ff]/.test(s)
    ? new TextDecoder('utf-8', { ignoreBOM: true }).decode(Buffer.from(s, 'latin1'))
    : s;
  return pictures(u);
}

/** A dump's byte string (a task name, a log line, a symbol), escaped. */
const b = (s: string | undefined): string => escapeHtml(decodeBytes(s ?? ''));
/** A string of ours or of the command line (a path), escaped. */
const e = (s: string | number | undefined): string => escapeHtml(pictures(String(s ?? '')));

/** A path that may break after each slash in a narrow column. */
const pathHtml = (p: string): string => e(p).replace(/\//g, '/<wbr>');

const iso = (t?: number): string => (t === undefined ? '-' : new Date(t * 1000).toISOString().replace('.000Z', 'Z'));

/** A time for a narrow column: it may break after the date. */
const isoCell = (t?: number): string =>
  iso(t).replace(/^(.*T)(.*)$/, '<span class="nowrap">$1</span><wbr><span class="nowrap">$2</span>');

/** Series colours (distinct on white, in order), then hues spread around the wheel. */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const colour = (i: number): string => PALETTE[i] ?? `hsl(${(i * 137.508) % 360} 65% 42%)`;

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em; color: #1b1b1b; }
h1 { font-size: 1.5em; margin: 0 0 .6em; }
h2 { font-size: 1.25em; margin: 1.2em 0 .4em; }
h3 { font-size: 1.05em; margin: 1.1em 0 .3em; border-bottom: 1px solid #ddd; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
pre { margin: .2em 0; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: .15em .7em .15em 0; }
table.grid th, table.grid td { border-bottom: 1px solid #e4e4e4; padding: .25em .7em; }
table.grid th { background: #f3f3f3; }
td.num { text-align: right; }
.nowrap { white-space: nowrap; }
table.summary { width: 100%; }
table.summary td { overflow-wrap: break-word; }
.headline th { color: #555; font-weight: 600; white-space: nowrap; }
.class { display: inline-block; padding: 0 .45em; border-radius: .3em; background: #b00020; color: #fff; font-weight: 600; }
.class.machine-check { background: #8a4b00; }
.class.sysrq { background: #555; }
.class.warning { background: #9a7d00; }
.sig { font-family: ui-monospace, monospace; background: #eef2ff; padding: 0 .3em; border-radius: .2em; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: .15em; margin-right: .35em; vertical-align: -.05em; }
.backtrace { overflow-x: auto; }
details.frame { margin: 0; border-left: 3px solid transparent; padding-left: .3em; }
details.frame > summary { cursor: pointer; white-space: pre; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
details.frame > div { margin: .15em 0 .4em 1.6em; padding: .3em .6em; background: #f7f7f7; border-radius: .3em; }
details.frame.culprit { border-left-color: #b00020; background: #fff0f0; }
.badge.exception-badge { background: #8a4b00; }
.badge { display: inline-block; margin-left: .6em; padding: 0 .4em; border-radius: .3em; background: #b00020; color: #fff; font: 600 11px system-ui, sans-serif; white-space: normal; }
.stack-switch { color: #666; font-family: ui-monospace, monospace; font-size: 12.5px; margin: .1em 0 .1em 2.2em; }
details.report { border: 1px solid #ddd; border-radius: .4em; margin: .6em 0; padding: .2em .8em; }
details.report > summary { cursor: pointer; padding: .3em 0; }
.error { color: #b00020; font-weight: 600; }
.muted { color: #666; }
svg text { font: 12px system-ui, sans-serif; fill: #1b1b1b; }
svg .mono { font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
svg .axis line, svg .axis path { stroke: #888; }
svg .grid line { stroke: #e6e6e6; }
`;

/** The page around the body: inline style, no script, nothing loaded from anywhere. */
function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tscrash triage">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
${body}</body>
</html>
`;
}

/* ------------------------------------------------------------------ one dump */

const MEM_COLOURS: Record<string, string> = {
  'TOTAL MEM': '#9aa5b1',
  FREE: '#2ca02c',
  USED: '#1f77b4',
  CACHED: '#ff7f0e',
  SLAB: '#9467bd',
};

function memoryChart(m: NonNullable<TriageResult['memory']>): string {
  const rows: [string, number][] = [
    ['TOTAL MEM', m.total],
    ['FREE', m.free],
    ['USED', m.used],
    ['CACHED', m.cached],
    ['SLAB', m.slab],
  ];
  const label = 90;
  const bar = 360;
  const h = 26;
  const width = label + bar + 300;
  const height = rows.length * h + 10;
  let s = `<svg class="memory-chart" role="img" aria-label="memory, as kmem -i counts it" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n`;
  rows.forEach(([name, pages], i) => {
    const y = 5 + i * h;
    const frac = m.total ? Math.min(1, pages / m.total) : 0;
    // kmem -i's percentage: of TOTAL MEM, rounded down.
    const pct = name === 'TOTAL MEM' ? '' : `, ${m.total ? Math.floor((pages * 100) / m.total) : 0}% of TOTAL MEM`;
    const text = `${pages} pages, ${pagesToSize(BigInt(pages), m.pageSize)}${pct}`;
    const fill = MEM_COLOURS[name];
    s += `<g class="mem-bar" data-category="${name}" data-pages="${pages}">`;
    s += `<text x="${label - 8}" y="${y + 16}" text-anchor="end">${name}</text>`;
    s += `<rect x="${label}" y="${y + 3}" width="${bar}" height="${h - 8}" fill="#eef0f2"/>`;
    s += `<rect class="bar" x="${label}" y="${y + 3}" width="${(frac * bar).toFixed(1)}" height="${h - 8}" fill="${fill}"><title>${name}: ${text}</title></rect>`;
    s += `<text class="figure" x="${label + bar + 8}" y="${y + 16}">${text}</text></g>\n`;
  });
  return `${s}</svg>\n`;
}

function frameDetails(f: BtFrame, i: number, culprit: TriageResult['culprit']): string {
  const isCulprit = culprit?.frame === i;
  const c = culprit;
  const cname = c && `${c.symbol}${c.offset ? `+${c.offset}` : ''}${c.module ? ` [${c.module}]` : ''}`;
  let s = `<details class="frame${isCulprit ? ' culprit' : ''}" data-frame="${i}"${isCulprit ? ' open' : ''}>`;
  const badges =
    (isCulprit ? `<span class="badge culprit-badge">culprit: ${b(cname)}</span>` : '') +
    (f.exception ? `<span class="badge exception-badge">exception: ${b(f.exception.rip)}</span>` : '');
  s += `<summary>${b(frameLine(f, i))}${badges}</summary>\n<div>`;
  const facts: [string, string][] = [];
  facts.push(['function', f.symbol ? b(`${f.symbol}${f.offset ? `+${f.offset}` : ''}`) : '(no symbol)']);
  facts.push(['source', f.file !== undefined ? `<code>${b(`${f.file}: ${f.line}`)}</code>` : '(no line information)']);
  facts.push(['module', f.module ? b(f.module) : '(kernel)']);
  facts.push(['stack slot', `<code>${f.sp.toString(16).padStart(16, '0')}</code>`]);
  if (f.leftStack) facts.push(['entered from', b(f.leftStack)]);
  s += `<table class="frame-facts">${facts.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
  if (f.exception)
    s += `<div class="exception">exception registers:<pre>${b(regsBlock(f.exception.registers, f.exception.rip))}</pre></div>`;
  return `${s}</div></details>\n`;
}

function backtraceHtml(bt: BtTask, culprit: TriageResult['culprit']): string {
  const head = bt.task ? taskHeader(bt.task) : `PID: ${bt.cpuNote?.pid ?? '?'}  CPU: ${bt.cpuNote?.cpu ?? '?'}`;
  let s = `<div class="backtrace" data-frames="${bt.frames.length}"><pre class="bt-head">${b(head)}</pre>\n`;
  if (bt.noStack) s += '<pre>(no stack)</pre>\n';
  bt.frames.forEach((f, i) => {
    if (f.leftStack) s += `<div class="stack-switch">--- &lt;${b(f.leftStack)}&gt; ---</div>\n`;
    s += frameDetails(f, i, culprit);
  });
  if (bt.userRegisters)
    s += `<div class="user-registers">user-mode registers:<pre>${b(regsBlock(bt.userRegisters))}</pre></div>\n`;
  if (bt.error) s += `<p class="error">bt: ${b(bt.error)}</p>\n`;
  return `${s}</div>\n`;
}

function taskTable(cls: string, rows: (TaskStack & { cpu?: number })[], withCpu: boolean): string {
  let s = `<table class="grid ${cls}"><tr>${withCpu ? '<th>CPU</th>' : ''}<th>PID</th><th>COMMAND</th><th>TASK</th><th>stack (innermost first)</th></tr>\n`;
  for (const r of rows) {
    s += `<tr>${withCpu ? `<td class="num">${r.cpu}</td>` : ''}<td class="num">${r.task.pid}</td><td>${b(r.task.comm)}</td>`;
    s += `<td class="mono">${r.task.task.toString(16)}</td><td class="mono">${b(r.functions.join(' < ')) || '(no frames)'}</td></tr>\n`;
  }
  return `${s}</table>\n`;
}

/** The report of one dump: headline, taint, machine checks, backtrace, memory, other CPUs, blocked tasks, log. */
export function dumpReport(r: TriageResult): string {
  const p = r.panic;
  const c = r.culprit;
  const row = (k: string, v: string): string => `<tr><th>${k}</th><td>${v}</td></tr>\n`;
  let s = `<h2><span class="class ${e(p.class)}">${e(p.class)}</span> ${b(p.message) || '(no panic message in the log)'}</h2>\n`;
  s += '<table class="headline">\n';
  s += row('dump', `<code>${e(r.dump)}</code>`);
  s += row('kernel', b(r.release));
  if (r.time !== undefined) s += row('date', `${b(r.date)} <span class="muted">(${iso(r.time)})</span>`);
  s += row('class', `<span class="panic-class">${e(p.class)}</span>`);
  s += row('message', `<span class="panic-message">${b(p.message)}</span>`);
  if (p.sysPanic && p.sysPanic !== p.message) s += row('panic', b(p.sysPanic));
  s += row('CPU', p.cpu === undefined ? '?' : String(p.cpu));
  if (p.task)
    s += row(
      'task',
      `PID ${p.task.pid} <code>"${b(p.task.comm)}"</code> <span class="muted mono">task ${p.task.task.toString(16)}</span>`,
    );
  s += row(
    'culprit',
    c
      ? `<code class="culprit">${b(`${c.symbol}${c.offset ? `+${c.offset}` : ''}${c.module ? ` [${c.module}]` : ''}`)}</code>${c.file ? ` <code>${b(`${c.file}: ${c.line}`)}</code>` : ''} <span class="muted">(frame #${c.frame}${c.task ? ` of the blocked task, PID ${c.task.pid} "${b(c.task.comm)}"` : ''})</span>`
      : '<span class="muted">(no culprit frame)</span>',
  );
  s += row('signature', `<span class="sig signature">${e(r.signature)}</span>`);
  s += '</table>\n';

  if (r.taint) {
    s += `<h3>Taint</h3>\n<p>flags <code class="taint-flags">${b(r.taint.flags)}</code>${r.taint.set.length ? '' : ' (not tainted)'}</p>\n`;
    if (r.taint.set.length) {
      s += '<table class="grid taint"><tr><th>flag</th><th>meaning</th><th>modules</th></tr>\n';
      for (const t of r.taint.set)
        s += `<tr><td><code>${b(t.letter)}</code></td><td>${b(t.meaning)}</td><td>${b(t.modules.join(', ')) || '-'}</td></tr>\n`;
      s += '</table>\n';
    }
  }
  if (r.machineChecks) {
    const m = r.machineChecks;
    s += `<h3>Machine checks</h3>\n<p>${m.logged} in the log, ${m.inMemory} in memory</p>\n<ul class="machine-checks">\n`;
    for (const x of m.summaries) s += `<li><code>${b(x)}</code></li>\n`;
    s += '</ul>\n';
  }
  s += '<h3>Backtrace of the panic task</h3>\n';
  // A hung task's culprit is in the blocked task's stack, not in this one (khungtaskd's).
  s += r.backtrace ? backtraceHtml(r.backtrace, c?.task ? undefined : c) : '<p class="muted">(no backtrace)</p>\n';
  if (r.memory) s += `<h3>Memory</h3>\n${memoryChart(r.memory)}`;
  if (r.otherCpus.length) s += `<h3>Other CPUs</h3>\n${taskTable('other-cpus', r.otherCpus, true)}`;
  s += `<h3>Blocked tasks (D state): ${r.blocked.length}</h3>\n`;
  if (r.blocked.length) s += taskTable('blocked', r.blocked, false);
  s += `<h3>Log (the last ${r.logTail.length} lines up to the panic)</h3>\n<pre class="log">${r.logTail.map(b).join('\n')}</pre>\n`;
  if (r.notes.length)
    s += `<h3>Not read</h3>\n<ul class="notes">${r.notes.map((n) => `<li>${b(n)}</li>`).join('')}</ul>\n`;
  return s;
}

/* ------------------------------------------------------------------ several dumps */

/** Tick spacings for the time axis, in seconds. */
const STEPS = [1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400];

/** Crashes of each signature over time: a step line of its running count, a point per dump. */
function timeChart(dumps: HtmlDump[], rows: SummaryRow[]): string {
  const timed = dumps.filter((d) => d.result?.time !== undefined);
  if (timed.length === 0) return '<p class="muted">(no dump has a crash time)</p>\n';
  const times = timed.map((d) => d.result!.time!);
  let t0 = Math.min(...times);
  let t1 = Math.max(...times);
  const pad = Math.max(60, (t1 - t0) * 0.05);
  t0 -= pad;
  t1 += pad;
  const W = 900;
  const H = 300;
  const L = 48;
  const R = 16;
  const T = 14;
  const B = 46;
  const x = (t: number): number => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const maxCount = Math.max(...rows.map((r) => r.count), 1);
  const y = (n: number): number => H - B - (n / maxCount) * (H - T - B);
  let s = `<svg class="time-chart" role="img" aria-label="crashes per signature over time" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n`;
  // The y axis: running count of crashes of a signature.
  const yStep = Math.max(1, Math.ceil(maxCount / 6));
  s += '<g class="grid">';
  for (let n = 0; n <= maxCount; n += yStep)
    s += `<line x1="${L}" x2="${W - R}" y1="${y(n).toFixed(1)}" y2="${y(n).toFixed(1)}"/>`;
  s += '</g>\n<g class="axis">';
  s += `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`;
  for (let n = 0; n <= maxCount; n += yStep)
    s += `<text x="${L - 6}" y="${(y(n) + 4).toFixed(1)}" text-anchor="end">${n}</text>`;
  // The x axis: UTC times, ticks at a round spacing.
  const span = t1 - t0;
  const step = STEPS.find((st) => span / st <= 7) ?? Math.ceil(span / 7 / 86400) * 86400;
  const day = step >= 86400;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const d = new Date(t * 1000).toISOString();
    const text = day ? d.slice(0, 10) : step < 60 ? d.slice(11, 19) : d.slice(0, 16).replace('T', ' ');
    s += `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${H - B}" y2="${H - B + 5}"/>`;
    s += `<text x="${x(t).toFixed(1)}" y="${H - B + 18}" text-anchor="middle">${text}</text>`;
  }
  s += `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">crash time (UTC)</text>`;
  s += `<text transform="translate(12 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">crashes</text></g>\n`;
  rows.forEach((row, i) => {
    const mine = timed
      .filter((d) => d.result!.signature === row.signature)
      .sort((a, c) => a.result!.time! - c.result!.time!);
    if (!mine.length) return;
    const col = colour(i);
    let path = `M${x(mine[0]!.result!.time!).toFixed(1)},${y(0).toFixed(1)}`;
    mine.forEach((d, k) => {
      const px = x(d.result!.time!).toFixed(1);
      path += ` L${px},${y(k).toFixed(1)} L${px},${y(k + 1).toFixed(1)}`;
    });
    path += ` L${x(t1).toFixed(1)},${y(mine.length).toFixed(1)}`;
    s += `<g class="series" data-signature="${e(row.signature)}"><path d="${path}" fill="none" stroke="${col}" stroke-width="2"/>`;
    mine.forEach((d, k) => {
      const r = d.result!;
      s += `<circle class="crash" cx="${x(r.time!).toFixed(1)}" cy="${y(k + 1).toFixed(1)}" r="4.5" fill="${col}" data-dump="${e(d.vmcore)}" data-time="${r.time}" data-signature="${e(r.signature)}"><title>${e(d.vmcore)}: ${iso(r.time)}, ${e(r.signature)} (${b(r.panic.class)})</title></circle>`;
    });
    s += '</g>\n';
  });
  s += '</svg>\n';
  const untimed = dumps.filter((d) => d.result && d.result.time === undefined).length;
  const legend = rows
    .map(
      (r, i) =>
        `<span class="legend-item"><span class="swatch" style="background:${colour(i)}"></span><span class="sig">${e(r.signature)}</span> ${b(r.class)}</span>`,
    )
    .join(' &nbsp; ');
  return `${s}<p class="legend">${legend}</p>\n${untimed ? `<p class="muted">${untimed} dumps have no crash time and are not drawn.</p>\n` : ''}`;
}

function summaryTable(rows: SummaryRow[], failed: HtmlDump[], anchor: Map<string, string>): string {
  let s = '<table class="grid summary"><tr><th>signature</th><th>count</th><th>first</th><th>last</th>';
  s += '<th>class: message</th><th>culprit</th><th>releases</th><th>example</th></tr>\n';
  rows.forEach((r, i) => {
    s += `<tr class="signature-row" data-signature="${e(r.signature)}" data-count="${r.count}">`;
    s += `<td class="nowrap"><span class="swatch" style="background:${colour(i)}"></span><span class="sig">${e(r.signature)}</span></td>`;
    s += `<td class="num count">${r.count}</td><td>${isoCell(r.first)}</td><td>${isoCell(r.last)}</td>`;
    s += `<td>${b(r.class)}: ${b(r.message)}</td><td><code>${b(r.culprit ?? '(no culprit frame)')}</code></td>`;
    s += `<td>${b(r.releases.join(', '))}</td><td><a href="#${anchor.get(r.example) ?? ''}"><code>${pathHtml(r.example)}</code></a></td></tr>\n`;
  });
  for (const f of failed)
    s += `<tr class="unreadable"><td>(unreadable)</td><td class="num">1</td><td colspan="6"><code>${pathHtml(f.vmcore)}</code>: <span class="error">${b(f.error)}</span></td></tr>\n`;
  return `${s}</table>\n`;
}

/** The whole page: one dump's report, or the summary, the time chart and every dump's report collapsed. */
export function triageHtml(dumps: HtmlDump[], rows: SummaryRow[]): string {
  const failed = dumps.filter((d) => !d.result);
  if (dumps.length === 1) {
    const d = dumps[0]!;
    const r = d.result;
    const title = r ? `triage: ${r.panic.class}: ${decodeBytes(r.panic.message)}` : `triage: ${d.vmcore}`;
    const body = r
      ? `<h1>tscrash triage</h1>\n<section class="dump" id="dump-0" data-dump="${e(d.vmcore)}">\n${dumpReport(r)}</section>\n`
      : `<h1>tscrash triage</h1>\n<p><code>${e(d.vmcore)}</code>: <span class="error">${b(d.error)}</span></p>\n`;
    return page(escapeHtml(pictures(title)), body);
  }
  const anchor = new Map(dumps.map((d, i) => [d.vmcore, `dump-${i}`]));
  const total = rows.reduce((a, r) => a + r.count, 0);
  let body = `<h1>tscrash triage: ${dumps.length} dumps</h1>\n`;
  body += `<p class="counts">${total} dumps in ${rows.length} signatures, ${failed.length} unreadable</p>\n`;
  body += `<h2>Summary by signature</h2>\n${summaryTable(rows, failed, anchor)}`;
  body += `<h2>Crashes per signature over time</h2>\n${timeChart(dumps, rows)}`;
  body += '<h2>Dumps</h2>\n';
  dumps.forEach((d, i) => {
    const r = d.result;
    const sig = rows.findIndex((x) => x.signature === r?.signature);
    body += `<details class="report" id="dump-${i}" data-dump="${e(d.vmcore)}"${r ? ` data-signature="${e(r.signature)}"` : ''}>\n<summary>`;
    body += r
      ? `<span class="swatch" style="background:${colour(sig)}"></span><code>${e(d.vmcore)}</code> &mdash; ${b(r.panic.class)}: ${b(r.panic.message)} &mdash; <span class="sig">${e(r.signature)}</span>`
      : `<code>${e(d.vmcore)}</code> &mdash; <span class="error">unreadable</span>`;
    body += '</summary>\n<section class="dump">\n';
    body += r ? dumpReport(r) : `<p class="error">${b(d.error)}</p>\n`;
    body += '</section>\n</details>\n';
  });
  return page(`triage: ${dumps.length} dumps`, body);
}
