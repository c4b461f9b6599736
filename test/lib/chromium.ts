/**
 * A real headless browser for tests of the HTML tscrash writes: Debian's chromium (a host tool the sample
 * builder installs). Missing, it skips the test locally and fails it in CI, as a missing sample does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { inCI } from './samples.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium(t: TestContext): string | undefined {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  const why = 'chromium missing (Debian package chromium; npm run samples installs it)';
  if (inCI()) throw new Error(why);
  t.skip(why);
  return undefined;
}

/** Run headless Chromium on a file with its own throw-away profile; its stdout. */
function headless(chromium: string, file: string, args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'tscrash-chromium-'));
  try {
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...args,
        pathToFileURL(file).href,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 },
    );
    if (r.status !== 0) throw new Error(`chromium ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The document as the browser built it (after parsing and any script), serialised. */
export function dumpDom(chromium: string, file: string): string {
  return headless(chromium, file, ['--dump-dom']);
}

/** A screenshot of the page's first `width` x `height` pixels, as PNG, to `png`. */
export function screenshot(chromium: string, file: string, png: string, width: number, height: number): void {
  headless(chromium, file, ['--hide-scrollbars', `--window-size=${width},${height}`, `--screenshot=${png}`]);
}
