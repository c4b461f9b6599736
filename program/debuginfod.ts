/**
 * Debug files by build-id from the servers in DEBUGINFOD_URLS (symbols/debuginfod.ts), for what helpers and
 * commands look up while a session runs (a module's object file for `mod -s`): quietly, one result. The running
 * command's interrupt (Ctrl-C: the check the runner sets on KernelMemory.interruptCheck) aborts the download:
 * what came stays in the cache as the resumable partial file, and the command ends with an InterruptedError.
 */
import { InterruptedError } from '../core/errors.js';
import { debuginfodConfig, fetchByBuildId } from '../symbols/debuginfod.js';

/** How often the command's interrupt is looked at while a download runs (ms). */
const POLL_MS = 50;

/**
 * The debug file of this build-id from the debuginfod cache or servers, checked by `check` (a reason it is not
 * the file, or undefined); why not, in one line; undefined when DEBUGINFOD_URLS names no server. `interrupt`:
 * the holder of the running command's interrupt check (throws InterruptedError once the user interrupted).
 */
export async function debugFileFromDebuginfod(
  buildId: string,
  check: (path: string) => string | undefined,
  interrupt?: { readonly interruptCheck: (() => void) | undefined },
): Promise<{ path: string } | { message: string } | undefined> {
  const cfg = debuginfodConfig();
  if (!cfg) return undefined;
  const controller = new AbortController();
  let stopped = false;
  const poll = (): void => {
    try {
      interrupt?.interruptCheck?.();
    } catch (e) {
      if (!(e instanceof InterruptedError)) throw e;
      stopped = true;
      controller.abort();
    }
  };
  poll();
  const timer = interrupt ? setInterval(poll, POLL_MS) : undefined;
  try {
    const r = await fetchByBuildId(cfg, buildId, 'debuginfo', { check, signal: controller.signal });
    if (stopped || (!r.ok && r.reason === 'interrupted')) throw new InterruptedError();
    return r.ok ? { path: r.path } : { message: `debuginfod: ${r.message}` };
  } finally {
    clearInterval(timer);
  }
}
