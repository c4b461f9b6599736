/**
 * Run drgn (Debian's python3-drgn, installed by the samples builder) live on a sample core with a script of
 * test/plugins/drgn/, which prints one JSON document: the oracle for what the stored oracle files do not cover.
 */
import { spawnSync } from 'node:child_process';

export function drgnLive(vmlinux: string, vmcore: string, script: string, args: string[] = []): unknown {
  const r = spawnSync('/usr/bin/python3', [script, vmlinux, vmcore, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 1 << 28,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`drgn ${script} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout) as unknown;
}
