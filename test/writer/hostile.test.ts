/**
 * tsmakedumpfile against hostile conditions (issue 18): a run killed with SIGKILL leaves its hidden temporary
 * file, which the next run of the same output removes; a symlink at the output name (even a dangling one) is an
 * existing file; a truncated input is named as such, with the offset it ends at.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { damagedCopy } from '../lib/damage.js';
import { loadSample } from '../lib/samples.js';
import { runCli } from './run-cli.js';

const CLI = fileURLToPath(new URL('../../cli/tsmakedumpfile.ts', import.meta.url));

describe('tsmakedumpfile on hostile ground', () => {
  test('a run killed by SIGKILL leaves .NAME.tmp-PID; the next run of that output removes it and completes', async (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-mdf-'));
    try {
      const out = join(dir, 'dump');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', CLI, '-c', '-d', '31', m.files['kdump-c-d31']!.path, out],
        {
          stdio: 'ignore',
        },
      );
      const tmp = `.dump.tmp-${child.pid}`;
      // Killed once it has started writing.
      for (let i = 0; i < 600 && !existsSync(join(dir, tmp)); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(join(dir, tmp)), 'the run made its temporary file');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.deepEqual(readdirSync(dir), [tmp], 'SIGKILL leaves the temporary file');
      const r = runCli(['-c', '-d', '31', m.files['kdump-c-d31']!.path, out]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(dir), ['dump'], 'the stale temporary file is gone');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a dangling symlink at the output name is an existing file: refused without -f, left as it was', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-mdf-'));
    try {
      const out = join(dir, 'dump');
      symlinkSync(join(dir, 'nowhere'), out);
      const r = runCli(['-c', '-d', '31', m.files['kdump-c-d31']!.path, out]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`Can't open the dump file \\(${out}\\)\\. File exists`));
      assert.ok(lstatSync(out).isSymbolicLink());
      assert.equal(readlinkSync(out), join(dir, 'nowhere'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a truncated input: "the input is truncated at offset N", for an ELF and a kdump input', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-mdf-'));
    try {
      for (const [key, cut] of [
        ['elf', 40_000_000],
        ['kdump-c-d31', 8_000_000],
      ] as const) {
        const input = damagedCopy(m.files[key]!.path, `mdf-cut-${key}`, cut);
        const r = runCli(['-c', '-d', '31', input, join(dir, key)]);
        assert.equal(r.status, 1, key);
        assert.match(
          r.stderr,
          new RegExp(`the input is truncated at offset ${cut} \\(0x${cut.toString(16)}\\)`),
          r.stderr,
        );
        assert.deepEqual(readdirSync(dir), [], 'no output and no temporary file');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
