/**
 * The command lines' errors: one line, the path once, the cause in words (`/x: no such file`, not Node's
 * `ENOENT: no such file or directory, open '/x'`), and the exit codes both programs document (README):
 *   tscrash:        0 ok, 1 a failure (reading a dump, a command that failed), 2 a usage error
 *   tsmakedumpfile: makedumpfile's: 0 COMPLETED, 1 FAILED (usage errors too), 2 WRONG_RELEASE (-i)
 */
import { accessSync, constants, statSync } from 'node:fs';
import { BadDataError } from '../core/errors.js';

/** tscrash's exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command line that cannot be run as given: one line to stderr, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** errno codes in words, as the C tools (and crash) say them. */
const ERRNO_WORDS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EEXIST: 'file exists',
};

function errnoOf(e: unknown): (Error & { code: string; path?: string }) | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? (e as Error & { code: string }) : undefined;
}

/**
 * An error as one line, without the program's name: `PATH: cause`. `file` is the file being worked on when the
 * error does not say (a dump's open failing deep inside a reader).
 */
export function errorLine(e: unknown, file?: string): string {
  const errno = errnoOf(e);
  if (errno) {
    // Node's message is `CODE: description, syscall 'path'`: the description alone when the code is not listed.
    const words =
      ERRNO_WORDS[errno.code] ??
      errno.message
        .replace(/^E[A-Z]+: /, '')
        .replace(/, \w+(?: '[^']*')*$/, '')
        .toLowerCase();
    const path = errno.path ?? file;
    return path ? `${path}: ${words}` : words;
  }
  let msg = e instanceof Error ? e.message : String(e);
  msg = msg.split('\n')[0]!;
  if (e instanceof BadDataError) {
    // What a whole file is not (not a vmcore) is not at an offset.
    const at0 = `${e.file}: offset 0x0: `;
    if (msg.startsWith(at0) && msg.slice(at0.length).startsWith('not a vmcore'))
      msg = `${e.file}: ${msg.slice(at0.length)}`;
    return msg;
  }
  // Readers wrap an errno error's message in their own words (`cannot read ELF headers: EISDIR: ...`).
  const wrapped = /^(.*?)E([A-Z]+): [^,]*(?:, \w+(?: '[^']*')*)?$/.exec(msg);
  if (wrapped && ERRNO_WORDS[`E${wrapped[2]}`]) msg = `${wrapped[1]}${ERRNO_WORDS[`E${wrapped[2]}`]}`;
  if (file && !msg.startsWith(`${file}: `) && !msg.startsWith(`${file} `)) return `${file}: ${msg}`;
  return msg;
}

/**
 * Check that a file given on the command line can be read, before any reader opens it: its path and what is
 * wrong with it in words (no such file, is a directory, permission denied). Throws an Error whose message is
 * that line.
 */
export function checkInput(path: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(errorLine(e, path));
  }
  if (st.isDirectory()) throw new Error(`${path}: is a directory`);
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw new Error(errorLine(e, path));
  }
}
