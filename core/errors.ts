/**
 * Error classes shared by every layer. Each carries the data a caller needs to
 * explain the failure (which address, which file and offset, what was read).
 */

export class TscrashError extends Error {
  override name = 'TscrashError';
}

/** Why a read of memory failed. */
export type FaultReason =
  | 'excluded' // page filtered out by makedumpfile -d
  | 'not-in-dump' // no such page in the dump (hole, beyond max pfn)
  | 'truncated' // page lies past the end of a truncated file
  | 'incomplete' // dump flagged INCOMPLETE and the page was never written
  | 'not-mapped' // virtual address has no translation
  | 'corrupt'; // page data present but could not be decoded

/** A read of memory that could not be satisfied. */
export class FaultError extends TscrashError {
  override name = 'FaultError';
  constructor(
    message: string,
    readonly address: bigint,
    readonly space: 'physical' | 'virtual',
    readonly reason: FaultReason,
    readonly what?: string,
    readonly pfn?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A file whose content is not what its format says it must be. */
export class BadDataError extends TscrashError {
  override name = 'BadDataError';
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
    options?: ErrorOptions,
  ) {
    super(`${file}: offset 0x${offset.toString(16)}: ${message}`, options);
  }
}

/** A command or lookup needs debug info (vmlinux) that was not given. */
export class MissingDebugInfoError extends TscrashError {
  override name = 'MissingDebugInfoError';
}

/** A name (symbol, type, member, task) that does not exist. */
export class LookupError extends TscrashError {
  override name = 'LookupError';
}

/** The user interrupted the running command (Ctrl-C); the session goes on. */
export class InterruptedError extends TscrashError {
  override name = 'InterruptedError';
  constructor() {
    super('interrupted');
  }
}

/** A command was used wrongly (bad arguments); its message is shown to the user as is. */
export class CommandError extends TscrashError {
  override name = 'CommandError';
}

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** glibc's strerror() words for the errno codes file operations give, as the C tools (makedumpfile) print them. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EROFS: 'Read-only file system',
  ETXTBSY: 'Text file busy',
  ELOOP: 'Too many levels of symbolic links',
  EIO: 'Input/output error',
  ENOSPC: 'No space left on device',
  EMFILE: 'Too many open files',
  ENAMETOOLONG: 'File name too long',
};

/** An errno code in glibc's words; `fallback` (else the code itself) when it is not listed. */
export function strerror(code: string | undefined, fallback?: string): string {
  return (code && STRERROR[code]) ?? fallback ?? code ?? 'unknown error';
}
