/**
 * makedumpfile's filter configuration (--config FILE, makedumpfile.conf(5)), read as makedumpfile's
 * get_config_token() reads it: '#' starts a comment, tabs are spaces, a line starting with '[' names the module
 * section of the commands after it (until ']'; none means vmlinux), tokens are separated by spaces and a command
 * may go on over several lines.
 *
 *   erase <Symbol>[.member[...]] [size <SizeValue>[K|M] | size <SizeSymbol>[.member[...]] | nullify]
 *   for <id> in <ArrayVar> | <StructVar> via <NextMember> | <ListHeadVar> within <StructName>:<ListHeadMember>
 *     erase <id>[.member[...]] [size ... | nullify] ...
 *   endfor
 *
 * Only the parsing is here (no debug info): program/erase-resolve.ts turns the commands into addresses.
 */

/** A size argument: a number of bytes (K and M suffixes applied), or an expression whose value is the size. */
export type EraseSize = { bytes: number } | { expr: string[] };

export interface EraseCommand {
  /** The module section ('vmlinux' when none was named). */
  module: string;
  /** Line of the `erase` keyword. */
  line: number;
  /** The expression as written (makedumpfile records it in the dump's eraseinfo). */
  text: string;
  /** The expression's parts: symbol (or loop variable) and members. */
  path: string[];
  nullify: boolean;
  size?: EraseSize;
}

export interface EraseLoop {
  module: string;
  line: number;
  id: string;
  list: string[];
  via?: string;
  within?: { struct: string; member?: string };
  body: EraseCommand[];
}

export type ConfigEntry = { kind: 'erase'; cmd: EraseCommand } | { kind: 'for'; loop: EraseLoop };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const KEYWORDS = new Set(['erase', 'size', 'nullify', 'for', 'in', 'via', 'within', 'endfor']);

interface Token {
  text: string;
  line: number;
  module: string;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let module = 'vmlinux';
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    let s = raw;
    const hash = s.indexOf('#');
    if (hash >= 0) s = s.slice(0, hash);
    s = s.replace(/\t/g, ' ');
    if (s.startsWith('[')) {
      const end = s.indexOf(']');
      if (end < 0) throw new ConfigError(`Config error at ${line}: Invalid module section entry.`);
      module = s.slice(1, end);
      return;
    }
    for (const t of s.split(' ')) if (t) out.push({ text: t, line, module });
  });
  return out;
}

/** Split `a.b.c` as makedumpfile's create_config_entry() does (empty parts dropped). */
function splitPath(s: string): string[] {
  return s.split('.').filter((p) => p.length > 0);
}

/** makedumpfile's sscanf("%ld%c") of a size: a number with an optional K/M suffix; otherwise an expression. */
function parseSize(tok: string, line: number): EraseSize {
  const m = /^([+-]?\d+)(.?)/.exec(tok);
  if (!m) return { expr: splitPath(tok) };
  let n = Number(m[1]);
  if (n < 0) throw new ConfigError(`Config error at ${line}: size value must be positive.`);
  const suffix = m[2]!.toLowerCase();
  if (suffix === 'm') n *= 1024 * 1024;
  else if (suffix === 'k') n *= 1024;
  return { bytes: n };
}

/** Parse a filter configuration. Throws ConfigError (with makedumpfile's "Config error at LINE: ..." text). */
export function parseEraseConfig(text: string): ConfigEntry[] {
  const toks = tokenize(text);
  let i = 0;
  const peek = (): Token | undefined => toks[i];
  const lastLine = (): number => toks[Math.min(i, toks.length - 1)]?.line ?? 0;
  const readErase = (module: string, line: number, loopId?: string): EraseCommand => {
    const t = toks[i];
    if (!t || KEYWORDS.has(t.text))
      throw new ConfigError(`Config error at ${t?.line ?? line}: expected kernel symbol after 'erase' command.`);
    i++;
    const path = splitPath(t.text);
    if (!path.length) throw new ConfigError(`Error at line ${t.line}: Failed to read filter symbol`);
    if (loopId !== undefined && path[0] !== loopId)
      throw new ConfigError(`Config error at ${t.line}: unused iteration variable '${loopId}'.`);
    const cmd: EraseCommand = { module, line, text: t.text, path, nullify: false };
    if (peek()?.text === 'nullify') {
      i++;
      cmd.nullify = true;
    } else if (peek()?.text === 'size') {
      i++;
      const s = toks[i];
      if (!s || KEYWORDS.has(s.text))
        throw new ConfigError(`Config error at ${s?.line ?? line}: expected size symbol after 'size' keyword.`);
      i++;
      cmd.size = parseSize(s.text, s.line);
    }
    return cmd;
  };
  const entries: ConfigEntry[] = [];
  while (i < toks.length) {
    const t = toks[i]!;
    i++;
    if (t.text === 'erase') {
      entries.push({ kind: 'erase', cmd: readErase(t.module, t.line) });
      continue;
    }
    if (t.text !== 'for') throw new ConfigError(`Config error at ${t.line}: Invalid token '${t.text}'.`);
    const idTok = toks[i];
    if (!idTok || KEYWORDS.has(idTok.text))
      throw new ConfigError(`Config error at ${t.line}: expected iteration VAR entry after 'for' keyword.`);
    i++;
    if (idTok.text.includes('.'))
      throw new ConfigError(`Config error at ${idTok.line}: Invalid iteration variable entry.`);
    if (peek()?.text !== 'in') throw new ConfigError(`Config error at ${idTok.line}: expected token 'in'.`);
    i++;
    const listTok = toks[i];
    if (!listTok || KEYWORDS.has(listTok.text))
      throw new ConfigError(`Config error at ${idTok.line}: expected list symbol after 'in' keyword.`);
    i++;
    const loop: EraseLoop = { module: t.module, line: t.line, id: idTok.text, list: splitPath(listTok.text), body: [] };
    if (peek()?.text === 'via') {
      i++;
      const m = toks[i];
      if (!m) throw new ConfigError(`Config error at ${listTok.line}: expected member name after 'via' keyword.`);
      i++;
      loop.via = m.text;
    } else if (peek()?.text === 'within') {
      i++;
      const s = toks[i];
      if (!s || KEYWORDS.has(s.text))
        throw new ConfigError(`Config error at ${listTok.line}: expected struct name after 'within' keyword.`);
      i++;
      const colon = s.text.indexOf(':');
      const struct = colon >= 0 ? s.text.slice(0, colon) : s.text;
      const member = colon >= 0 ? s.text.slice(colon + 1) : undefined;
      if (member === '') throw new ConfigError(`Config error at ${s.line}: expected list_head member after ':'.`);
      if (!struct) throw new ConfigError(`Config error at ${s.line}: Invalid token found after 'within' keyword.`);
      loop.within = { struct, member };
    }
    for (;;) {
      const b = toks[i];
      if (!b) throw new ConfigError(`Config error at ${lastLine()}: No matching 'endfor' found.`);
      i++;
      if (b.text === 'endfor') break;
      if (b.text !== 'erase') throw new ConfigError(`Config error at ${b.line}: Invalid token '${b.text}'.`);
      loop.body.push(readErase(b.module, b.line, loop.id));
    }
    entries.push({ kind: 'for', loop });
  }
  return entries;
}

/** One erased region: `size` bytes at `vaddr`, overwritten with 'X' (0x58) or, for nullify, zeros. */
export interface EraseTarget {
  vaddr: bigint;
  size: number;
  nullify: boolean;
  /** Index of the command (its order in the file) and its text, for the eraseinfo record. */
  command: number;
  text: string;
}
