/**
 * The native addons (zstd-napi, lzo) are optional dependencies: node-gyp builds them where the machine has a
 * compiler. Each codec that has one falls back to a WebAssembly or JavaScript implementation when the addon does
 * not load, and says so once per thread on stderr. TSCRASH_NATIVE=0 uses the fallbacks alone, with no note (as on
 * a machine with no compiler: the tests compare both).
 */

export function nativeAllowed(): boolean {
  return process.env.TSCRASH_NATIVE !== '0';
}

/** Why an addon did not load, in words. */
export function whyNotLoaded(e: unknown): string {
  return (e as { code?: string }).code === 'MODULE_NOT_FOUND' ? 'is not installed' : 'did not load';
}

/** The one-line note that a slower fallback is in use. */
export function noteFallback(text: string): void {
  process.stderr.write(`note: ${text}\n`);
}
