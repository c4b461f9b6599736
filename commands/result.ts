/**
 * Results as data. A command's result is a tree of records; its JSON view writes addresses and 64-bit values
 * (bigint) as hex strings ("0xffff8f1c011fe000"), never as floats that lose bits. One JSON document per command
 * run, as a line: {"command": LINE, "ok": true, "result": ...} or {"command": LINE, "ok": false, "error": {...}}.
 */
import { TscrashError } from '../program/index.js';
import type { Program } from '../program/program.js';
import type { OutputFormat } from './registry.js';

/** A 64-bit value or address: a bigint in results, "0x..." (lower-case hex) in JSON. */
export type Hex = bigint;

/** The JSON form of a result: bigints as hex strings, byte arrays as latin1 strings, undefined members left out. */
export function toJsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJsonValue(x);
    return out;
  }
  return v;
}

/** The result of a command that has no result model: the text it printed. */
export interface TextResult {
  text: string;
}

/**
 * One command line's JSON document: `{"command", "ok", "result"}` or `{"command", "ok": false, "error": {kind,
 * message}}`.
 */
export interface JsonLine {
  command: string;
  ok: boolean;
  result?: unknown;
  error?: { kind: string; message: string };
}

/** The kind of an error, for JSON: the error class (FaultError, LookupError, CommandError, ...). */
export function errorKind(e: unknown): string {
  if (e instanceof TscrashError || e instanceof Error) return e.constructor.name;
  return 'Error';
}

/**
 * One JSON document on a line, in ASCII: text in results is a byte string (one character a byte, as the dump
 * holds it), so every character past U+007F is escaped (\u00XX): the line is valid UTF-8 and loses no byte.
 */
export function jsonLine(line: JsonLine): string {
  return `${JSON.stringify(line).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

const formats = new WeakMap<Program, OutputFormat>();

/** The session's output form (`set output json|text`, `tscrash --json`). */
export function outputFormat(prog: Program): OutputFormat {
  return formats.get(prog) ?? 'text';
}

export function setOutputFormat(prog: Program, format: OutputFormat): void {
  formats.set(prog, format);
}
