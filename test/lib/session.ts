/**
 * In-process tscrash sessions on the real samples: open a dump with its vmlinux's debug info once per test
 * file, run command lines and get their output (as `tscrash -c` would print it).
 */
import type { TestContext } from 'node:test';
import { registerBuiltins } from '../../commands/index.js';
import { runLine } from '../../commands/runner.js';
import { Program } from '../../program/index.js';
import { loadSample, type Manifest, type SampleName } from './samples.js';

const open = new Map<string, Promise<Program>>();

/** The sample's dump (default: the capture kernel's makedumpfile -c -d 31 file) with debug info, cached per process. */
export async function sampleProgram(
  name: SampleName,
  t: TestContext,
  key = 'kdump-c-d31',
): Promise<{ m: Manifest; prog: Program } | undefined> {
  const m = loadSample(name, t);
  if (!m) return undefined;
  const id = `${name}:${key}`;
  let p = open.get(id);
  if (!p) {
    const file = m.files[key];
    if (!file) throw new Error(`sample ${name} has no file ${key}`);
    p = Program.load({ vmcore: file.path, vmlinux: m.vmlinux });
    open.set(id, p);
  }
  return { m, prog: await p };
}

/** Run one command line; the output as the session prints it (errors included, as `cmd: message`). */
export async function run(prog: Program, line: string): Promise<string> {
  registerBuiltins();
  let out = '';
  await runLine(prog, line, (s) => (out += s));
  return out;
}

/** Run a command that must succeed. */
export async function runOk(prog: Program, line: string): Promise<string> {
  registerBuiltins();
  let out = '';
  const r = await runLine(prog, line, (s) => (out += s));
  if (!r.ok) throw new Error(`${line} failed:\n${out}`);
  return out;
}
