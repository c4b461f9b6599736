/**
 * The real sample cores built by samples/ (npm run samples). Tests load a case's
 * manifest here: missing samples skip the test locally, and fail it in CI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  version: number;
  case: string;
  release: string;
  buildId: string;
  vmlinux: string;
  systemMap: string;
  /** elf, kdump-c-d31, flat-c-d31, kdump-l-d31, kdump-d31, kdump-c-d0, elf-d31, reassembled-c-d31, dmesg */
  files: Record<string, ManifestFile>;
  /** crash-KEY (one per command), drgn-tasks/stacks/facts/modules/dmesg, pahole-STRUCT: absolute paths */
  oracle: Record<string, string>;
  facts: Record<string, unknown> & {
    panic?: string;
    kaslrOffset?: string;
    physBase?: string;
    pageOffsetBase?: string;
    mce?: { cpu: number; bank: number; status: string; mcgStatus: string; addr: string; misc: string };
  };
}

export type SampleName = 'sysrq' | 'mce';
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
