/**
 * The host character set that decides how crash (through gdb) prints the bytes of a string: gdb converts a char
 * array from the target charset (by default the host's) to wide characters and prints each printable one as it is,
 * escaping the rest in octal. The host charset is the one of the LC_CTYPE locale that setlocale(LC_CTYPE, "")
 * selects: LC_ALL, else LC_CTYPE, else LANG; a locale that is not installed leaves the C locale (ASCII) in force.
 */
import { existsSync, readFileSync } from 'node:fs';

export type HostCharset = 'utf-8' | 'iso-8859-1' | 'ascii';

const LOCALE_DIR = '/usr/lib/locale';
let cached: { key: string; charset: HostCharset } | undefined;
let archive: Buffer | null | undefined;

/** glibc's codeset normalisation: lower case, letters and digits only ("UTF-8" -> "utf8"). */
function normalizeCodeset(codeset: string): string {
  return codeset.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether glibc can load the locale: C and POSIX always, C.UTF-8 built in, others from the locale archive or dir. */
function installed(name: string, language: string, codeset: string | undefined): boolean {
  if (language === 'C' || language === 'POSIX') return codeset === undefined || normalizeCodeset(codeset) === 'utf8';
  const [base, modifier] = name.split('@');
  const lang = base!.split('.')[0]!;
  const candidates = [name];
  if (codeset) candidates.push(`${lang}.${normalizeCodeset(codeset)}${modifier ? `@${modifier}` : ''}`);
  if (candidates.some((c) => existsSync(`${LOCALE_DIR}/${c}/LC_CTYPE`))) return true;
  if (archive === undefined) {
    try {
      archive = readFileSync(`${LOCALE_DIR}/locale-archive`);
    } catch {
      archive = null;
    }
  }
  return archive !== null && candidates.some((c) => archive!.includes(Buffer.from(`${c}\0`, 'latin1')));
}

/** The charset gdb would print strings in, for the given environment (process.env by default). */
export function hostCharset(env: NodeJS.ProcessEnv = process.env): HostCharset {
  const name = env.LC_ALL || env.LC_CTYPE || env.LANG || 'C';
  if (cached?.key === name) return cached.charset;
  const m = /^([^.@]+)(?:\.([^@]+))?(?:@.*)?$/.exec(name);
  let charset: HostCharset = 'ascii';
  if (m && installed(name, m[1]!, m[2])) {
    const codeset = m[2] ? normalizeCodeset(m[2]) : undefined;
    if (codeset === 'utf8') charset = 'utf-8';
    else if (m[1] !== 'C' && m[1] !== 'POSIX' && (codeset === undefined || codeset === 'iso88591'))
      charset = 'iso-8859-1';
  }
  cached = { key: name, charset };
  return charset;
}

/** One character of a string as gdb's wchar iterator yields it: its bytes, and its code point when they convert. */
export interface StringElement {
  start: number;
  length: number;
  codePoint: number | undefined;
  /** The bytes end inside a sequence that was valid so far (gdb's incomplete sequence: always the last element). */
  incomplete?: boolean;
}

/** The elements of `bytes[0..end)` in a charset: UTF-8 sequences (strict, as iconv), else one byte each. */
export function stringElements(bytes: Uint8Array, end: number, charset: HostCharset): StringElement[] {
  const out: StringElement[] = [];
  let i = 0;
  while (i < end) {
    const b = bytes[i]!;
    if (charset !== 'utf-8' || b < 0x80) {
      const ok = b < 0x80 || charset === 'iso-8859-1';
      out.push({ start: i, length: 1, codePoint: ok ? b : undefined });
      i++;
      continue;
    }
    const seq = utf8Sequence(bytes, i, end);
    if (seq === 'incomplete') {
      // gdb's wchar iterator converts a character at a time; iconv's EINVAL for the trailing incomplete sequence
      // discards the character converted in the same call ("ab\344" prints as "a", <incomplete sequence \344>).
      // crash shows what its gdb prints, so that character is dropped here too (an invalid byte is not lost).
      if (out.length && out[out.length - 1]!.codePoint !== undefined) out.pop();
      out.push({ start: i, length: end - i, codePoint: undefined, incomplete: true });
      break;
    }
    if (seq) {
      out.push({ start: i, length: seq.length, codePoint: seq.codePoint });
      i += seq.length;
    } else {
      out.push({ start: i, length: 1, codePoint: undefined });
      i++;
    }
  }
  return out;
}

/** A well-formed UTF-8 sequence at `i` (no overlong forms, no surrogates, at most U+10FFFF). */
function utf8Sequence(
  bytes: Uint8Array,
  i: number,
  end: number,
): { length: number; codePoint: number } | 'incomplete' | undefined {
  const b = bytes[i]!;
  let length: number;
  let cp: number;
  let min: number;
  if (b >= 0xc2 && b <= 0xdf) {
    length = 2;
    cp = b & 0x1f;
    min = 0x80;
  } else if (b >= 0xe0 && b <= 0xef) {
    length = 3;
    cp = b & 0x0f;
    min = 0x800;
  } else if (b >= 0xf0 && b <= 0xf4) {
    length = 4;
    cp = b & 0x07;
    min = 0x10000;
  } else return undefined;
  for (let k = 1; k < length; k++) {
    if (i + k >= end) return 'incomplete';
    const c = bytes[i + k]!;
    if ((c & 0xc0) !== 0x80) return undefined;
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF early, as iconv does.
    if (
      k === 1 &&
      ((b === 0xe0 && c < 0xa0) || (b === 0xed && c > 0x9f) || (b === 0xf0 && c < 0x90) || (b === 0xf4 && c > 0x8f))
    )
      return undefined;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return { length, codePoint: cp };
}

const NOT_PRINTABLE = /[\p{Cc}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;

/** iswprint in the charset's locale: glibc's print class is every assigned character but controls, U+2028, U+2029. */
export function printable(codePoint: number, charset: HostCharset): boolean {
  if (codePoint < 0x80) return codePoint >= 0x20 && codePoint < 0x7f;
  if (charset === 'ascii') return false;
  if (charset === 'iso-8859-1') return codePoint >= 0xa0 && codePoint <= 0xff;
  return !NOT_PRINTABLE.test(String.fromCodePoint(codePoint));
}
