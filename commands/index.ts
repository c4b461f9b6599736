/**
 * The built-in commands, registered in one explicit list: names and aliases here, each module imported the
 * first time its command runs (a session that runs one command loads only that one).
 */
import { type Command, registerLazyCommand } from './registry.js';

const BUILTINS: [string, string[], () => Promise<Command>][] = [
  ['help', [], async () => (await import('./help.js')).help],
  ['h', ['history'], async () => (await import('./history.js')).history],
  ['alias', [], async () => (await import('./alias.js')).alias],
  ['log', [], async () => (await import('./log.js')).log],
  ['mce', [], async () => (await import('./mce.js')).mce],
  ['rd', [], async () => (await import('./rd.js')).rd],
  ['sym', [], async () => (await import('./sym.js')).sym],
  ['sys', [], async () => (await import('./sys.js')).sys],
  ['vtop', [], async () => (await import('./vtop.js')).vtop],
  ['kmem', [], async () => (await import('./kmem.js')).kmem],
  ['ps', [], async () => (await import('./ps.js')).ps],
  ['runq', [], async () => (await import('./runq.js')).runq],
  ['set', [], async () => (await import('./set.js')).set],
  ['foreach', [], async () => (await import('./foreach.js')).foreach],
  ['struct', [], async () => (await import('./struct.js')).struct],
  ['union', [], async () => (await import('./struct.js')).union],
  ['*', [], async () => (await import('./struct.js')).pointerTo],
  ['whatis', [], async () => (await import('./whatis.js')).whatis],
  ['ptype', [], async () => (await import('./ptype.js')).ptype],
  ['p', ['print'], async () => (await import('./p.js')).p],
  ['mod', [], async () => (await import('./mod.js')).mod],
  ['bt', [], async () => (await import('./bt.js')).bt],
  ['task', [], async () => (await import('./task.js')).task],
  ['dis', [], async () => (await import('./dis.js')).dis],
  ['eval', [], async () => (await import('./eval.js')).evalCommand],
  ['triage', [], async () => (await import('./triage.js')).triage],
  ['plugins', [], async () => (await import('./plugins.js')).plugins],
];

let done = false;
export function registerBuiltins(): void {
  if (done) return;
  done = true;
  for (const [name, aliases, load] of BUILTINS) registerLazyCommand(name, aliases, load);
}

export {
  commandNames,
  hasCommand,
  listCommands,
  registerCommand,
  registerLazyCommand,
  resolveCommand,
} from './registry.js';
export { runLine } from './runner.js';
