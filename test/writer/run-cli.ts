/** Run tsmakedumpfile from source (tsx) as a child process. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../cli/tsmakedumpfile.ts', import.meta.url));

export interface CliResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

export function runCli(args: string[], opts: { input?: Buffer | number; stdoutFile?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    input: typeof opts.input === 'number' ? undefined : opts.input,
    stdio: [typeof opts.input === 'number' ? opts.input : 'pipe', opts.stdoutFile ?? 'pipe', 'pipe'],
    maxBuffer: 1 << 30,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr?.toString() ?? '' };
}
