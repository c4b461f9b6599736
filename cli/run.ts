/**
 * `tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...]`: drgn's script mode. Opens the dump (with the vmlinux's debug
 * info), loads the plugins found the usual ways (TSCRASH_PLUGINS, the config directory, npm packages; --plugin
 * FILE before SCRIPT), and runs SCRIPT's default export `async (prog, args, tscrash) => ...`. Its stdout is the
 * script's; the exit code is 0, the number the script returns, or 1 with a one-line message when it throws.
 */
import { registerBuiltins } from '../commands/index.js';
import { discoverPlugins, loadPlugins } from '../plugins/loader.js';
import { registerScriptCommands, runScriptFile } from '../plugins/script.js';
import { Program } from '../program/program.js';
import { vmlinuxFromDebuginfod } from './debuginfod.js';
import { pickFiles } from './session.js';

export async function runScriptCommand(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const args = dash >= 0 ? argv.slice(dash + 1) : [];
  const flags: string[] = [];
  const rest: string[] = [];
  let force = false;
  for (let i = 0; i < own.length; i++) {
    const a = own[i]!;
    if (a === '--plugin') {
      const f = own[++i];
      if (f === undefined) throw new Error('--plugin needs a file');
      flags.push(f);
    } else if (a === '--force' || a === '-f') force = true;
    else if (a.startsWith('-') && rest.length > 0)
      throw new Error(`unknown option ${a} (tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...])`);
    else rest.push(a);
  }
  const [script, ...files] = rest;
  if (!script) throw new Error('run needs a SCRIPT (tscrash run SCRIPT [VMLINUX] VMCORE [-- ARGS...])');
  const { vmcore, ...picked } = pickFiles(files);
  const vmlinux = picked.vmlinux ?? (vmcore ? await vmlinuxFromDebuginfod(vmcore) : undefined);
  registerBuiltins();
  registerScriptCommands();
  await loadPlugins(discoverPlugins(flags), (l) => process.stderr.write(`tscrash: ${l}\n`));
  const prog = await Program.load({ vmcore, vmlinux, force });
  try {
    const r = await runScriptFile(script, prog, args);
    return typeof r === 'number' && Number.isInteger(r) && r >= 0 && r < 256 ? r : 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    process.stderr.write(`tscrash: ${msg.startsWith(`${script}: `) ? msg : `${script}: ${msg}`}\n`);
    if (process.env.TSCRASH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  } finally {
    prog.close();
  }
}
