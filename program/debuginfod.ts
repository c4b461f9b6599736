/**
 * Debug files by build-id from the servers in DEBUGINFOD_URLS (symbols/debuginfod.ts), for what helpers and
 * commands look up while a session runs (a module's object file for `mod -s`): quietly, one result.
 */
import { debuginfodConfig, fetchByBuildId } from '../symbols/debuginfod.js';

/**
 * The debug file of this build-id from the debuginfod cache or servers, checked by `check` (a reason it is not
 * the file, or undefined); why not, in one line; undefined when DEBUGINFOD_URLS names no server.
 */
export async function debugFileFromDebuginfod(
  buildId: string,
  check: (path: string) => string | undefined,
): Promise<{ path: string } | { message: string } | undefined> {
  const cfg = debuginfodConfig();
  if (!cfg) return undefined;
  const r = await fetchByBuildId(cfg, buildId, 'debuginfo', { check });
  return r.ok ? { path: r.path } : { message: `debuginfod: ${r.message}` };
}
