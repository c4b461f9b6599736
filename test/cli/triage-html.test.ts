/**
 * tscrash triage --html: the page opened in a real headless browser (Debian's chromium), its DOM compared with the
 * JSON and text forms of the same triage and with crash's own kmem -i; its screenshot decoded and looked at; the
 * file private, self-contained, and proof against hostile strings from a dump.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { summarise } from '../../cli/triage.js';
import { triageHtml } from '../../cli/triage-html.js';
import type { TriageDone } from '../../cli/triage-worker.js';
import { toJsonValue } from '../../commands/result.js';
import type { TriageResult } from '../../commands/triage.js';
import { dumpDom, findChromium, screenshot } from '../lib/chromium.js';
import { countColour, decodePng } from '../lib/png.js';
import { loadSample, type Manifest, oracleText } from '../lib/samples.js';

const root = join(import.meta.dirname, '..', '..');
const tscrash = join(root, 'bin', 'tscrash');

function run(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(tscrash, args, { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
}

/** The JSON form of a result as --json prints it (64-bit values as hex strings). */
type Json = {
  dump: string;
  ok: boolean;
  result?: Omit<TriageResult, 'backtrace' | 'culprit' | 'panic'> & {
    panic: Omit<TriageResult['panic'], 'task'> & { task?: { pid: number; comm: string } };
    culprit?: { frame: number; symbol: string };
    backtrace?: { frames: { symbol?: string; file?: string; line?: number; exception?: { rip: string } }[] };
  };
};

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
/** An element's text as the browser serialised it: tags dropped, character references decoded. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, n: string) =>
      n[0] === '#'
        ? String.fromCodePoint(n[1] === 'x' || n[1] === 'X' ? Number.parseInt(n.slice(2), 16) : Number(n.slice(1)))
        : (ENTITIES[n] ?? m),
    );
}
function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? text(m[1]!) : undefined;
}
function one(dom: string, re: RegExp): string {
  const all = [...dom.matchAll(new RegExp(re.source, `${re.flags.replace('g', '')}g`))];
  assert.equal(all.length, 1, `one match of ${re}`);
  return all[0]![1]!;
}

/** The start tags of a serialised DOM, their names and attribute names (values are quoted, < and > escaped). */
function tags(dom: string): { name: string; attrs: string[] }[] {
  return [...dom.matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:="[^"]*")?)*)\s*\/?>/g)].map((m) => ({
    name: m[1]!,
    attrs: [...m[2]!.matchAll(/\s+([^\s"'>/=]+)(?:="[^"]*")?/g)].map((a) => a[1]!),
  }));
}

/** No reference that a browser would load from the network. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /https?:/i, 'no URL at all');
  assert.doesNotMatch(html, /\b(src|href|xlink:href|action|srcset|poster|data)\s*=\s*["']?\s*(\w+:)?\/\//i);
  assert.doesNotMatch(html, /url\(\s*["']?\s*(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|<link\b|<script\b|<iframe\b|<img\b|<object\b|<embed\b/i);
}

function assertPrivate(path: string): void {
  assert.equal(statSync(path).mode & 0o777, 0o600, `${path} is mode 0600`);
}

/** The frame lines of the panic task's backtrace in the text report. */
function textFrames(report: string): string[] {
  const at = report.indexOf('BACKTRACE OF THE PANIC TASK\n');
  assert.ok(at >= 0);
  const block = report.slice(at).split('\n\n')[0]!;
  return block.split('\n').filter((l) => /^ *#\d+ \[/.test(l));
}

/** A screenshot of the page: its size as asked, and painted (not a blank page). */
function shoot(chromium: string, html: string, png: string, height: number): ReturnType<typeof decodePng> {
  screenshot(chromium, html, png, 1200, height);
  const img = decodePng(readFileSync(png));
  assert.equal(img.width, 1200);
  assert.equal(img.height, height);
  const white = countColour(img, '#ffffff', 2);
  const all = img.width * img.height;
  assert.ok(all - white > all * 0.02, `${all - white} of ${all} pixels are painted`);
  return img;
}

interface Dumped {
  html: string;
  dom: string;
  json: Json;
  report: string;
}

function triageBoth(chromium: string, dir: string, m: Manifest, key: string): Dumped {
  const html = join(dir, 'report.html');
  const vmcore = m.files[key]!.path;
  const r = run(['triage', '--html', html, m.vmlinux, vmcore]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '', 'with --html alone, nothing on stdout');
  assert.match(r.stderr, /report of 1 dump is in /);
  const j = run(['triage', '--json', m.vmlinux, vmcore]);
  assert.equal(j.status, 0, j.stderr);
  const report = run(['triage', m.vmlinux, vmcore]).stdout;
  return { html, dom: dumpDom(chromium, html), json: JSON.parse(j.stdout) as Json, report };
}

/** The memory chart: a bar per kmem -i category, labelled with crash's own figures, sized by them. */
function checkMemory(dom: string, json: Json, m: Manifest): void {
  one(dom, /(<svg class="memory-chart")/);
  const bars = [...dom.matchAll(/<g class="mem-bar" data-category="([^"]+)" data-pages="(\d+)">([\s\S]*?)<\/g>/g)];
  assert.deepEqual(
    bars.map((x) => x[1]),
    ['TOTAL MEM', 'FREE', 'USED', 'CACHED', 'SLAB'],
  );
  const mem = json.result!.memory!;
  const fromJson: Record<string, number> = {
    'TOTAL MEM': mem.total,
    FREE: mem.free,
    USED: mem.used,
    CACHED: mem.cached,
    SLAB: mem.slab,
  };
  const kmem = oracleText(m, 'crash-kmem-i');
  const width = (g: string): number => Number(/<rect class="bar"[^>]* width="([\d.]+)"/.exec(g)![1]);
  const full = width(bars[0]![3]!);
  for (const [, cat, pages, g] of bars) {
    // crash: "         FREE    58738     229.4 MB   82% of TOTAL MEM"
    const line = new RegExp(`^ *${cat} +(\\d+) +(\\S+(?: [KMG]B)?) +(?:(\\d+)% of TOTAL MEM|----)$`, 'm').exec(kmem);
    assert.ok(line, `crash's kmem -i has ${cat}`);
    assert.equal(Number(pages), fromJson[cat!], `${cat}: the JSON's figure`);
    assert.equal(pages, line[1], `${cat}: crash's page count`);
    const figure = text(/<text class="figure"[^>]*>([\s\S]*?)<\/text>/.exec(g!)![1]!);
    assert.equal(figure, `${line[1]} pages, ${line[2]}${line[3] === undefined ? '' : `, ${line[3]}% of TOTAL MEM`}`);
    assert.ok(Math.abs(width(g!) - (full * Number(pages)) / mem.total) < 0.1, `${cat}: the bar's length`);
  }
}

/** The backtrace: one <details> per frame, its summary the text report's frame line; lines and registers inside. */
function checkBacktrace(dom: string, json: Json, report: string): RegExpMatchArray[] {
  const frames = [...dom.matchAll(/<details class="frame( culprit)?" data-frame="(\d+)"[^>]*>([\s\S]*?)<\/details>/g)];
  const jf = json.result!.backtrace!.frames;
  assert.equal(frames.length, jf.length);
  assert.ok(jf.length >= 5);
  const summaries = frames.map((f) =>
    text(/<summary>([\s\S]*?)<\/summary>/.exec(f[3]!)![1]!.replace(/<span class="badge[\s\S]*?<\/span>/g, '')),
  );
  assert.deepEqual(summaries, textFrames(report));
  const reportLines = new Set(report.split('\n'));
  frames.forEach((f, i) => {
    assert.equal(Number(f[2]), i);
    const body = text(f[3]!);
    const x = jf[i]!;
    if (x.file !== undefined) {
      assert.ok(body.includes(`${x.file}: ${x.line}`), `frame ${i}: its source line`);
      assert.ok(reportLines.has(`    ${x.file}: ${x.line}`));
    }
    if (x.exception) {
      const regs = text(/<pre>([\s\S]*?)<\/pre>/.exec(f[3]!)![1]!);
      assert.ok(regs.startsWith(`    [exception RIP: ${x.exception.rip}]\n`));
      for (const l of regs.trimEnd().split('\n')) assert.ok(reportLines.has(l), `frame ${i}: ${l}`);
    }
  });
  return frames;
}

/** The headline and the lists, against the JSON. */
function checkHeadline(dom: string, json: Json): void {
  const r = json.result!;
  assert.equal(text(one(dom, /<span class="sig signature">([\s\S]*?)<\/span>/)), r.signature);
  assert.equal(text(one(dom, /<span class="panic-class">([\s\S]*?)<\/span>/)), r.panic.class);
  assert.equal(text(one(dom, /<span class="panic-message">([\s\S]*?)<\/span>/)), r.panic.message);
  assert.equal(text(one(dom, /<tr><th>CPU<\/th><td>([\s\S]*?)<\/td><\/tr>/)), String(r.panic.cpu));
  assert.match(
    text(one(dom, /<tr><th>task<\/th><td>([\s\S]*?)<\/td><\/tr>/)),
    new RegExp(`^PID ${r.panic.task!.pid} `),
  );
  assert.equal(text(one(dom, /<code class="taint-flags">([\s\S]*?)<\/code>/)), r.taint!.flags);
  assert.equal(
    Number(one(dom, /<h3>Blocked tasks \(D state\): (\d+)<\/h3>/)),
    r.blocked.length,
    'the number of D-state tasks',
  );
  const cpus = [
    ...one(dom, /<table class="grid other-cpus">([\s\S]*?)<\/table>/).matchAll(/<tr><td class="num">(\d+)/g),
  ];
  assert.deepEqual(
    cpus.map((c) => Number(c[1])),
    r.otherCpus.map((c) => c.cpu),
  );
  assert.deepEqual(text(one(dom, /<pre class="log">([\s\S]*?)<\/pre>/)).split('\n'), r.logTail);
}

describe('tscrash triage --html in a real browser', () => {
  test('sysrq: the page as Chromium builds it has the JSON and text reports, crash kmem -i, the culprit', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const chromium = findChromium(t);
    if (!chromium) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-html-'));
    try {
      // A page already there (and readable by all) is replaced whole, private.
      writeFileSync(join(dir, 'report.html'), 'old');
      chmodSync(join(dir, 'report.html'), 0o644);
      const d = triageBoth(chromium, dir, m, 'kdump-c-d31');
      assertPrivate(d.html);
      assert.deepEqual(readdirSync(dir), ['report.html'], 'no temporary file left');
      assertSelfContained(readFileSync(d.html, 'utf8'));
      checkHeadline(d.dom, d.json);
      checkMemory(d.dom, d.json, m);
      const frames = checkBacktrace(d.dom, d.json, d.report);
      const culprit = frames.filter((f) => f[1]);
      assert.equal(culprit.length, 1, 'one frame is marked the culprit');
      assert.equal(Number(culprit[0]![2]), d.json.result!.culprit!.frame);
      assert.match(text(culprit[0]![3]!), new RegExp(`culprit: ${d.json.result!.culprit!.symbol}\\b`));
      assert.match(culprit[0]![0]!, /^<details [^>]*\bopen\b/, 'the culprit frame is open');
      assert.equal(frames.filter((f) => /^<details [^>]*\bopen\b/.test(f[0]!)).length, 1, 'the others are closed');
      // The culprit's frame line is crash's own.
      const line = text(/<summary>([\s\S]*?)<span class="badge/.exec(culprit[0]![3]!)![1]!);
      assert.ok(oracleText(m, 'crash-bt').split('\n').includes(line), line);
      const img = shoot(chromium, d.html, join(dir, 'page.png'), 2400);
      // The chart is painted: the FREE bar (about 80% of 360 px by 18 px here), the culprit's badge.
      assert.ok(
        countColour(img, '#2ca02c') > (360 * 18 * d.json.result!.memory!.free) / d.json.result!.memory!.total / 2,
      );
      assert.ok(countColour(img, '#b00020') > 200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mce: the machine check banks, no culprit frame', (t) => {
    const m = loadSample('mce', t);
    if (!m) return;
    const chromium = findChromium(t);
    if (!chromium) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-html-'));
    try {
      const d = triageBoth(chromium, dir, m, 'kdump-c-d31');
      assertPrivate(d.html);
      assertSelfContained(readFileSync(d.html, 'utf8'));
      checkHeadline(d.dom, d.json);
      checkMemory(d.dom, d.json, m);
      const frames = checkBacktrace(d.dom, d.json, d.report);
      assert.equal(d.json.result!.culprit, undefined);
      assert.equal(frames.filter((f) => f[1]).length, 0, 'no frame is marked');
      assert.match(one(d.dom, /<tr><th>culprit<\/th><td>([\s\S]*?)<\/td>/), /no culprit frame/);
      const banks = [...one(d.dom, /<ul class="machine-checks">([\s\S]*?)<\/ul>/).matchAll(/<li>([\s\S]*?)<\/li>/g)];
      assert.deepEqual(
        banks.map((x) => text(x[1]!)),
        d.json.result!.machineChecks!.summaries,
      );
      assert.match(text(banks[0]![1]!), new RegExp(`bank ${m.facts.mce!.bank}: status ${m.facts.mce!.status}`));
      shoot(chromium, d.html, join(dir, 'page.png'), 2400);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('many dumps: the summary by signature and the crashes over time as the JSON has them', (t) => {
    const sysrq = loadSample('sysrq', t);
    const mce = loadSample('mce', t);
    if (!sysrq || !mce) return;
    const chromium = findChromium(t);
    if (!chromium) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-html-'));
    try {
      // A kdump-tools-like tree: dumps of two crashes in several formats, vmlinux by release, one truncated dump.
      const debug = join(dir, 'debug', 'boot');
      mkdirSync(debug, { recursive: true });
      for (const m of [sysrq, mce]) symlinkSync(m.vmlinux, join(debug, `vmlinux-${m.release}`));
      const crash = join(dir, 'crash');
      const dumps: [Manifest, string][] = [
        [sysrq, 'kdump-c-d31'],
        [mce, 'flat-c-d31'],
        [sysrq, 'elf-d31'],
        [mce, 'kdump-l-d31'],
        [sysrq, 'flat-c-d31'],
      ];
      dumps.forEach(([m, key], i) => {
        mkdirSync(join(crash, String(i)), { recursive: true });
        symlinkSync(m.files[key]!.path, join(crash, String(i), 'dump'));
      });
      mkdirSync(join(crash, '9'));
      writeFileSync(join(crash, '9', 'dump'), readFileSync(sysrq.files['kdump-c-d31']!.path).subarray(0, 200_000));
      const env = { TSCRASH_DEBUG_ROOT: join(dir, 'debug') };
      const html = join(dir, 'all.html');
      const r = run(['triage', '--html', html, crash], env);
      assert.equal(r.status, 1, 'an unreadable dump makes the exit status 1');
      assertPrivate(html);
      const page = readFileSync(html, 'utf8');
      assertSelfContained(page);
      const j = run(['triage', '--json', crash], env);
      const lines = j.stdout.trim().split('\n');
      const docs = lines.slice(0, -1).map((l) => JSON.parse(l) as Json);
      const summary = (JSON.parse(lines.at(-1)!) as { summary: { signature: string; count: number }[] }).summary;
      assert.equal(docs.length, 6);
      assert.equal(summary.length, 2);
      const dom = dumpDom(chromium, html);
      // The summary table: a row per signature with the JSON's count, the unreadable dump on its own row.
      const rows = [
        ...dom.matchAll(/<tr class="signature-row" data-signature="([^"]*)" data-count="(\d+)">([\s\S]*?)<\/tr>/g),
      ];
      assert.deepEqual(
        rows.map((x) => [x[1], Number(text(/<td class="num count">(\d+)<\/td>/.exec(x[3]!)![1]!))]),
        summary.map((s) => [s.signature, s.count]),
      );
      assert.equal([...dom.matchAll(/<tr class="unreadable">/g)].length, docs.filter((d) => !d.ok).length);
      assert.match(text(one(dom, /<p class="counts">([\s\S]*?)<\/p>/)), /^5 dumps in 2 signatures, 1 unreadable$/);
      // The chart over time: a series per signature, a point per dump at its crash time and running count.
      one(dom, /(<svg class="time-chart")/);
      const series = [...dom.matchAll(/<g class="series" data-signature="([^"]*)">/g)].map((x) => x[1]);
      assert.deepEqual(
        series,
        summary.map((s) => s.signature),
      );
      const points = [...dom.matchAll(/<circle class="crash"[^>]*>/g)].map((x) => ({
        dump: attr(x[0], 'data-dump')!,
        time: Number(attr(x[0], 'data-time')),
        signature: attr(x[0], 'data-signature')!,
        cx: Number(attr(x[0], 'cx')),
        cy: Number(attr(x[0], 'cy')),
      }));
      const ok = docs.filter((d) => d.ok);
      assert.deepEqual(
        points.map((p) => [p.dump, p.time, p.signature]).sort(),
        ok.map((d) => [d.dump, d.result!.time, d.result!.signature]).sort(),
      );
      for (const s of summary) {
        const mine = points.filter((p) => p.signature === s.signature).sort((a, b) => a.time - b.time);
        assert.equal(mine.length, s.count);
        // Later crashes further right; each point one crash higher than the one before.
        for (let k = 1; k < mine.length; k++) {
          assert.ok(mine[k]!.cx >= mine[k - 1]!.cx);
          assert.ok(mine[k]!.cy < mine[k - 1]!.cy);
        }
      }
      // Every dump's report, collapsed.
      const reports = [...dom.matchAll(/<details class="report"[^>]*>/g)].map((x) => x[0]);
      assert.deepEqual(
        reports.map((x) => attr(x, 'data-dump')),
        docs.map((d) => d.dump),
      );
      assert.ok(reports.every((x) => !/\bopen\b/.test(x)));
      assert.deepEqual(
        [...dom.matchAll(/<span class="sig signature">([\s\S]*?)<\/span>/g)].map((x) => text(x[1]!)),
        ok.map((d) => d.result!.signature),
      );
      const img = shoot(chromium, html, join(dir, 'page.png'), 1400);
      // Both series are painted (the palette's first two colours).
      assert.ok(countColour(img, '#1f77b4') > 100 && countColour(img, '#d62728') > 100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('hostile strings from a dump are text, never markup', (t) => {
    const chromium = findChromium(t);
    if (!chromium) return;
    const H = `<script>document.documentElement.dataset.pwned='1'</script><img src=x onerror="document.documentElement.dataset.pwned='2'">"'&amp;`;
    const closer = `</summary></details></pre></svg><script>document.documentElement.dataset.pwned='3'</script>`;
    const task = { pid: 42, task: 0xffff888001234000n, cpu: 1, comm: `a${H}` };
    const result = (n: number, sig: string): TriageResult => ({
      dump: `/tmp/x"><script>alert(${n})</script>.vmcore`,
      release: H,
      time: 1_700_000_000 + n * 3600,
      date: H,
      panic: { class: 'oops', message: H, sysPanic: `Kernel panic - not syncing: ${H}`, cpu: 1, task },
      backtrace: {
        task,
        frames: [
          { sp: 0xffffc90000003e00n, ip: 0xffffffff81000000n, symbol: closer, offset: 5, module: H, file: H, line: 7 },
          {
            sp: 0xffffc90000003e80n,
            ip: 0xffffffff81000100n,
            symbol: 'f',
            exception: { rip: closer, registers: { ip: 0xffffffff81000000n } },
            leftStack: H,
          },
        ],
        error: H,
      },
      culprit: { frame: 0, symbol: closer, module: H, file: H, line: 7, ip: 0xffffffff81000000n },
      signature: sig,
      taint: { flags: H, set: [{ letter: H, meaning: H, modules: [H] }] },
      machineChecks: { logged: 1, inMemory: 0, summaries: [H] },
      blocked: [{ task: { ...task, comm: '\xc3\xa9t\xe9\x1b' }, functions: [H, closer] }],
      otherCpus: [{ cpu: 0, task, functions: [closer] }],
      memory: { pageSize: 4096, total: 1000, free: 500, used: 500, cached: 100, slab: 50 },
      logTail: [H, closer, '\xc3\xa9t\xe9\x1b'],
      notes: [H],
    });
    const done: TriageDone[] = [
      result(1, `"><svg onload="document.documentElement.dataset.pwned='4'">`),
      result(2, 'abcdef0123456789'),
    ].map((r) => ({
      vmcore: r.dump,
      doc: { dump: r.dump, ok: true, result: toJsonValue(r) as Record<string, unknown> },
      result: r,
      text: '',
    }));
    done.push({
      vmcore: `/tmp/${H}`,
      doc: { dump: `/tmp/${H}`, ok: false, error: { kind: 'BadDataError', message: H } },
      text: '',
    });
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-html-'));
    try {
      for (const [name, page] of [
        ['one.html', triageHtml([{ vmcore: done[0]!.vmcore, result: done[0]!.result }], [])],
        [
          'many.html',
          triageHtml(
            done.map((d) => ({ vmcore: d.vmcore, result: d.result, error: d.doc.error?.message })),
            summarise(done),
          ),
        ],
      ] as const) {
        const file = join(dir, name);
        writeFileSync(file, page);
        assertSelfContained(page);
        const dom = dumpDom(chromium, file);
        const elements = tags(dom);
        assert.ok(elements.length > 100);
        assert.deepEqual(
          elements.filter((x) => /^(script|img|iframe|object|embed)$/i.test(x.name)),
          [],
          `${name}: no element from a dump's string`,
        );
        assert.deepEqual(
          elements.filter((x) => x.attrs.some((a) => /^on/i.test(a))),
          [],
          `${name}: no event handler attribute`,
        );
        assert.ok(!elements.find((x) => x.name === 'html')!.attrs.includes('data-pwned'), `${name}: nothing ran`);
        const body = text(dom);
        // The strings are there, as text.
        assert.ok(body.split(`<script>document.documentElement.dataset.pwned='1'</script>`).length > 10, name);
        assert.ok(body.includes(closer));
        // Bytes decoded as UTF-8 as a terminal shows them: an invalid byte as U+FFFD, ESC as its picture.
        assert.ok(body.includes('ét\ufffd\u241b'), name);
        // The structure survived: two frames in each report, and the frame with the exception has its registers.
        const reports = name === 'one.html' ? 1 : 2;
        assert.equal([...dom.matchAll(/<details class="frame/g)].length, 2 * reports);
        assert.equal([...dom.matchAll(/\[exception RIP: /g)].length, reports);
        if (name === 'many.html') {
          assert.equal([...dom.matchAll(/<details class="report"/g)].length, 3);
          const points = [...dom.matchAll(/<circle class="crash"[^>]*>/g)].map((x) => attr(x[0], 'data-dump'));
          assert.deepEqual(points.sort(), [done[0]!.vmcore, done[1]!.vmcore].sort());
          assert.deepEqual(
            [...dom.matchAll(/<tr class="signature-row" data-signature="([^"]*)"/g)].map((x) => text(x[1]!)).sort(),
            [done[0]!.result!.signature, done[1]!.result!.signature].sort(),
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad --html arguments: one line each, before any dump is read', () => {
    for (const [args, re] of [
      [['triage', '--html'], /^tscrash: triage: --html needs a FILE to write\n$/],
      [
        ['triage', '--html', '/nonexistent-dir/r.html', '/nonexistent/vmcore'],
        /^tscrash: triage: --html .*no directory/,
      ],
      [['triage', '--html', tmpdir(), '/nonexistent/vmcore'], /^tscrash: triage: --html .* is a directory\n$/],
    ] as const) {
      const r = run([...args]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
