/** Shared by the kmem tests: open a sample with its vmlinux once, run command lines, run crash live. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { Program } from '../../program/program.js';
import type { Manifest } from '../lib/samples.js';

const opened = new Map<string, Promise<Program>>();

/** The sample's dump with its vmlinux, opened once per test process (debug info loading is the slow part). */
export function openSample(m: Manifest, key = 'elf'): Promise<Program> {
  registerBuiltins();
  const f = m.files[key];
  if (!f) throw new Error(`sample ${m.case}: no file ${key}`);
  let p = opened.get(f.path);
  if (!p) {
    p = Program.load({ vmcore: f.path, vmlinux: m.vmlinux });
    opened.set(f.path, p);
  }
  return p;
}

/** Close every program openSample opened (call from an after() hook). */
export async function closeSamples(): Promise<void> {
  for (const p of opened.values()) (await p).close();
  opened.clear();
}

export async function run(prog: Program, line: string): Promise<string> {
  let text = '';
  await runLine(prog, line, (s) => (text += s));
  return text;
}

/** Run crash once on the sample's ELF core: each command's output, in order. */
export function crashOutputs(m: Manifest, commands: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-kmem-'));
  try {
    const script = commands.map((c, i) => `${c} > ${join(dir, `${i}.txt`)}`).join('\n');
    writeFileSync(join(dir, 'cmds'), `${script}\nquit\n`, { mode: 0o600 });
    const r = spawnSync('crash', ['-s', m.vmlinux, m.files.elf!.path, '-i', join(dir, 'cmds')], {
      encoding: 'latin1',
      timeout: 300_000,
      input: '',
    });
    if (r.error) throw r.error;
    return commands.map((_, i) => {
      try {
        return readFileSync(join(dir, `${i}.txt`), 'latin1');
      } catch {
        throw new Error(`crash wrote no output for "${commands[i]}": ${r.stdout}${r.stderr}`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function haveCrash(): boolean {
  return spawnSync('crash', ['--version'], { encoding: 'utf8' }).status === 0;
}
