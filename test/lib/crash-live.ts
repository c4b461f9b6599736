/**
 * Run the real crash (Debian's crash 8.0.2, installed by the samples builder) on a sample core, once for a list
 * of commands, and return each command's output: the oracle for commands the stored oracle files do not cover.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `env` adds to the environment crash runs in (TZ, LC_ALL: crash prints dates and strings in the local ones);
 * `options` go on crash's command line before the files (--minimal, --kaslr OFFSET, --no_modules).
 */
export function crashLive(
  vmlinux: string,
  vmcore: string,
  commands: string[],
  env: Record<string, string> = {},
  options: string[] = [],
): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-crash-'));
  try {
    const lines = commands.map((c, i) => `${c} > ${join(dir, `${i}.txt`)}`);
    lines.push('q');
    const script = join(dir, 'cmds');
    writeFileSync(script, `${lines.join('\n')}\n`);
    const r = spawnSync('crash', [...options, '-s', vmlinux, vmcore, '-i', script], {
      encoding: 'latin1',
      timeout: 300_000,
      env: { ...process.env, ...env },
    });
    if (r.error) throw r.error;
    return commands.map((c, i) => {
      try {
        return readFileSync(join(dir, `${i}.txt`), 'latin1');
      } catch {
        throw new Error(`crash wrote no output for "${c}": ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
