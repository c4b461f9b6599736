/**
 * The line mode: crash-like prompt with history (persisted, mode 0600) and
 * completion of command names. Used on a TTY; scripts use runScript.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { commandNames, runLine } from '../commands/index.js';
import type { Program } from '../program/index.js';

const HISTORY = join(homedir(), '.tscrash_history');
const MAX_HISTORY = 1000;

function loadHistory(): string[] {
  try {
    return existsSync(HISTORY)
      ? readFileSync(HISTORY, 'utf8').split('\n').filter(Boolean).reverse().slice(0, MAX_HISTORY)
      : [];
  } catch {
    return [];
  }
}

function saveHistory(lines: readonly string[]): void {
  try {
    writeFileSync(HISTORY, `${[...lines].reverse().join('\n')}\n`, { mode: 0o600 });
    chmodSync(HISTORY, 0o600);
  } catch {
    // History is a convenience; never fail the session over it.
  }
}

/** Run lines non-interactively (from -c, -i or a pipe); returns the number of failed commands. */
/** Command output is a byte string (one character a byte, as the dump holds them): written as those bytes. */
function writeOut(s: string): void {
  process.stdout.write(Buffer.from(s, 'latin1'));
}

export async function runScript(
  program: Program,
  lines: Iterable<string> | AsyncIterable<string>,
  echo: boolean,
): Promise<number> {
  let failed = 0;
  for await (const line of lines) {
    if (echo && line.trim()) process.stdout.write(`tscrash> ${line}\n`);
    const r = await runLine(program, line, writeOut);
    if (!r.ok) failed++;
    if (r.quit) break;
  }
  return failed;
}

export async function interactive(program: Program): Promise<void> {
  const names = commandNames().concat(['q']);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'tscrash> ',
    history: loadHistory(),
    historySize: MAX_HISTORY,
    completer: (line: string): [string[], string] => {
      const words = line.split(/\s+/);
      const word = words.pop() ?? '';
      if (words.length === 0) return [names.filter((n) => n.startsWith(word)), word];
      // Arguments: struct/union names after the type commands (from the DWARF index, once loaded), else kernel
      // symbols, when the vmlinux is given.
      if (!program.vmlinux || word.length < 2) return [[], word];
      const cmd = words[0]!.replace(/^\*/, '');
      if (
        program.hasDebugInfo &&
        program.debug.indexed &&
        ['struct', 'union', 'whatis', 'ptype', '*', ''].includes(cmd)
      ) {
        const kinds =
          cmd === 'union' ? ['union '] : cmd === 'struct' || cmd === '' ? ['struct '] : ['struct ', 'union ', ''];
        const types = kinds.flatMap((k) => program.debug.typeNames(`${k}${word}`).map((n) => n.slice(k.length)));
        if (types.length) return [[...new Set(types)].slice(0, 200), word];
      }
      return [program.symbols.complete(word, 200), word];
    },
  });
  // With no cached name index, build it in a worker while the session goes on (lookups meanwhile search).
  if (program.vmlinux) {
    void program
      .loadDebugInfo()
      .then((d) => d.buildIndex({ background: true }))
      .catch(() => undefined);
  }
  // Ctrl-C at the prompt drops the line being typed and gives a new prompt, as crash does; q ends the session.
  rl.on('SIGINT', () => {
    process.stdout.write('^C\n');
    (rl as unknown as { line: string }).line = '';
    rl.prompt();
  });
  rl.prompt();
  for await (const line of rl) {
    const r = await runLine(program, line, writeOut);
    if (r.quit) break;
    rl.prompt();
  }
  saveHistory((rl as unknown as { history: string[] }).history ?? []);
  rl.close();
}
