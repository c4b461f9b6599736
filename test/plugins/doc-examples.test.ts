/**
 * The API's documented examples (the @example blocks of plugins/api.ts and plugins/helpers.ts, which TypeDoc
 * publishes) run on the real mce sample: each block compiled as TypeScript and run with `tscrash`, `helpers`, `prog`,
 * `vmcore` and `vmlinux` in scope (a block's own paths replaced by the sample's); a line ending `// 'VALUE'`
 * must give that value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { transformSync } from 'esbuild';
import * as tscrash from 'tscrash';
import { loadSample } from '../lib/samples.js';

const FILES = ['../../plugins/api.ts', '../../plugins/helpers.ts'];

function examples(): { file: string; code: string }[] {
  const out: { file: string; code: string }[] = [];
  for (const f of FILES) {
    const text = readFileSync(new URL(f, import.meta.url), 'utf8');
    for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
      const body = m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, ''));
      const at = body.findIndex((l) => l.startsWith('@example'));
      if (at < 0) continue;
      const end = body.findIndex((l, i) => i > at && l.startsWith('@'));
      out.push({
        file: f.replace('../../', ''),
        code: body
          .slice(at + 1, end < 0 ? undefined : end)
          .join('\n')
          .trim(),
      });
    }
  }
  return out;
}

test('every documented example of the API runs on the mce sample (it has modules)', async (t) => {
  const m = loadSample('mce', t);
  if (!m) return;
  const vmcore = m.files['kdump-c-d31']!.path;
  const vmlinux = m.vmlinux;
  const prog = await tscrash.open({ vmcore, vmlinux });
  try {
    const all = examples();
    assert.ok(all.length >= 5, `${all.length} examples`);
    for (const { file, code } of all) {
      let src = code
        .split('\n')
        .filter((l) => !/^import /.test(l))
        // The example's own dump and vmlinux are the sample's.
        .filter((l) => !/^const (vmcore|vmlinux) = /.test(l))
        .map((l) => {
          const c = /^(.*?);? \/\/ '(.*)'$/.exec(l);
          return c ? `__check(${c[1]}, ${JSON.stringify(c[2])});` : l;
        })
        .join('\n');
      src = transformSync(src, { loader: 'ts' }).code;
      const printed: unknown[][] = [];
      const scope: Record<string, unknown> = {
        tscrash,
        helpers: tscrash.helpers,
        vmcore,
        vmlinux,
        console: { log: (...a: unknown[]) => printed.push(a) },
        __check: (got: unknown, want: string) => assert.equal(String(got), want, code),
      };
      if (!/\b(const|let) prog\b/.test(src)) scope.prog = prog;
      const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
        ...a: string[]
      ) => (...v: unknown[]) => Promise<void>;
      const fn = new AsyncFunction(...Object.keys(scope), src);
      await assert.doesNotReject(fn(...Object.values(scope)), `${file}:\n${code}`);
      if (/console\.log/.test(code)) assert.ok(printed.length > 0, `${file}: the example printed nothing:\n${code}`);
    }
  } finally {
    prog.close();
  }
});
