/**
 * A plugin's command in the TUI on a real terminal (tmux), on the sysrq sample: `--plugin irq`, then `irq -s` in
 * the input line fills the output pane with the line mode's lines, and the help pane lists it as the plugin's;
 * a plugin that fails to load is one line in the output pane and the TUI goes on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSample } from '../lib/samples.js';
import { Tmux } from '../lib/tmux.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tscrash-tui-plugin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("the TUI runs a plugin's command as the line mode does", async (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const vmcore = m.files['kdump-c-d31']!.path;
  const want = spawnSync(BIN, [m.vmlinux, vmcore, '--plugin', 'irq', '-c', 'irq -s'], { encoding: 'utf8' })
    .stdout.replace(/\n$/, '')
    .split('\n')
    .map((l) => l.trimEnd());
  assert.ok(want.length >= 5);
  const bad = join(tmp, 'bad.mjs');
  writeFileSync(bad, 'export default () => { throw new Error("no"); };\n');
  const term = new Tmux(
    `'${BIN}' --plugin irq --plugin '${bad}' '${m.vmlinux}' '${vmcore}'; echo SESSION-ENDED $?; sleep 60`,
  );
  try {
    await term.waitFor((x) => /PANIC: /.test(x) && /tscrash>/.test(x));
    // The failed plugin's line is in the output pane, in the session's warnings.
    await term.waitFor((x) => x.includes(`plugin ${bad}: no (skipped)`));
    term.type('irq -s');
    term.keys('Enter');
    const s = await term.waitFor((x) => x.split('\n').some((l) => l.includes(want.at(-1)!)));
    const lines = s.split('\n').map((l) => l.replace(/^│/, '').replace(/│\s*$/, '').trimEnd());
    const at = lines.findIndex((l) => l.includes(want[1]!));
    assert.ok(at > 0, s);
    for (const [i, w] of want.slice(1).entries()) assert.ok(lines[at + i]!.includes(w), `${w}\n${s}`);
    term.type('help');
    term.keys('Enter');
    await term.waitFor(/irq +interrupts: descriptors, per-CPU counts \(-s\), handlers \(-H\) +\[plugin irq\]/);
    term.type('q');
    term.keys('Enter');
    await term.waitFor(/SESSION-ENDED 0/);
  } finally {
    term.kill();
  }
});
