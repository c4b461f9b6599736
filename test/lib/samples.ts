/**
 * The real sample cores built by samples/ (npm run samples). Tests load a case's
 * manifest here: missing samples skip the test locally, and fail it in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

import type { Manifest as BuiltManifest } from '../../samples/build.js';
import { ORACLE_ENV } from '../../samples/manifest.js';

export type { ManifestFile } from '../../samples/build.js';

/** The manifest samples/build.ts writes, with the facts tests read typed. */
export type Manifest = BuiltManifest & {
  facts: Record<string, unknown> & {
    panic?: string;
    kaslrOffset?: string;
    physBase?: string;
    pageOffsetBase?: string;
    mce?: { cpu: number; bank: number; status: string; mcgStatus: string; addr: string; misc: string };
  };
};

// The stored oracles were made in this time zone and locale (dates, strings): tscrash runs in the same ones, in this
// process and in the tscrash processes tests start. Tests of other zones and locales set theirs explicitly.
Object.assign(process.env, ORACLE_ENV);
// A session without a vmlinux asks the servers in DEBUGINFOD_URLS (Debian's profile.d sets it in login shells):
// tests never ask a public server; the debuginfod tests set their own.
process.env.DEBUGINFOD_URLS = '';

/** Keys of the dump files every case has (makedumpfile outputs, the raw core, the dmesg oracle). */
export { FILE_KEYS as SAMPLE_FILES } from '../../samples/manifest.js';
/** The dump formats of every case (every file key but the dmesg text). */
export const DUMP_KEYS = [
  'elf',
  'kdump-c-d31',
  'flat-c-d31',
  'kdump-l-d31',
  'kdump-d31',
  'kdump-c-d0',
  'elf-d31',
  'reassembled-c-d31',
];

/**
 * The triage cases: a real death of each class (samples/build.ts, most by our crash module samples/module). Their
 * own list: the oracle tests that iterate SAMPLE_NAMES do not run on them.
 */
export type TriageSampleName = 'oops' | 'bug' | 'gpf' | 'softlockup' | 'hung' | 'oom' | 'k612';
export const TRIAGE_SAMPLE_NAMES: TriageSampleName[] = ['oops', 'bug', 'gpf', 'softlockup', 'hung', 'oom', 'k612'];

export type SampleName = 'sysrq' | 'mce' | 'capture' | 'kdump-tools' | TriageSampleName;
export const SAMPLE_NAMES: SampleName[] = ['sysrq', 'mce'];

export function samplesDir(): string {
  return process.env.TSCRASH_SAMPLES || join(homedir(), '.cache', 'tscrash', 'samples');
}

export function inCI(): boolean {
  return process.env.CI === 'true';
}

/** The case's manifest; skips the test when the sample is missing (throws in CI). */
export function loadSample(name: SampleName, t: TestContext): Manifest | undefined {
  const path = join(samplesDir(), name, 'manifest.json');
  if (!existsSync(path)) {
    const why = `sample ${name} missing (${path}); run npm run samples`;
    if (inCI()) throw new Error(why);
    t.skip(why);
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Read an oracle output of the case as text. */
export function oracleText(m: Manifest, key: string): string {
  const p = m.oracle[key];
  if (!p) throw new Error(`sample ${m.case}: no oracle output ${key}`);
  return readFileSync(p, 'latin1');
}
