/**
 * Sample access for the writer tests: test/lib/samples.ts's loadSample() when
 * it exists, else the same manifest read directly (skip when missing, fail
 * with CI=true).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface Manifest {
  case: string;
  release: string;
  vmlinux: string;
  files: Record<string, { path: string; size: number; sha256?: string }>;
  oracle: Record<string, string>;
  facts?: Record<string, unknown>;
}

export async function sample(name: string, t: TestContext): Promise<Manifest | undefined> {
  try {
    const lib = (await import('../lib/samples.js' as string)) as {
      loadSample?: (n: string, t: TestContext) => Manifest | undefined | Promise<Manifest | undefined>;
    };
    if (lib.loadSample) return await lib.loadSample(name, t);
  } catch {
    // fall through to the manifest
  }
  const root = process.env.TSCRASH_SAMPLES ?? join(homedir(), '.cache/tscrash/samples');
  const p = join(root, name, 'manifest.json');
  if (!existsSync(p)) {
    if (process.env.CI === 'true') throw new Error(`sample ${name} missing: ${p}`);
    t.skip(`sample ${name} missing (${p})`);
    return undefined;
  }
  return JSON.parse(readFileSync(p, 'utf8')) as Manifest;
}

/** A file of the sample, or skip the test when this key is absent. */
export function sampleFile(m: Manifest, key: string, t: TestContext): string | undefined {
  const f = m.files[key];
  if (!f || !existsSync(f.path)) {
    if (process.env.CI === 'true') throw new Error(`sample ${m.case}: file ${key} missing`);
    t.skip(`sample ${m.case} has no ${key}`);
    return undefined;
  }
  return f.path;
}
