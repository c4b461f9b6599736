/**
 * A least-recently-used cache of decoded pages, so that walking lists and page
 * tables never reads or decompresses a page twice. Bounded by bytes.
 */
export class PageCache {
  private readonly map = new Map<number, Uint8Array>();
  private readonly maxPages: number;
  hits = 0;
  misses = 0;

  constructor(pageSize: number, maxBytes = 64 << 20) {
    this.maxPages = Math.max(16, Math.floor(maxBytes / pageSize));
  }

  get(pfn: number): Uint8Array | undefined {
    const v = this.map.get(pfn);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Move to the most-recent end.
    this.map.delete(pfn);
    this.map.set(pfn, v);
    return v;
  }

  /** Whether a page is cached, without counting a hit or a miss or changing its age. */
  peek(pfn: number): boolean {
    return this.map.has(pfn);
  }

  /** How many pages the cache holds at most. */
  get capacity(): number {
    return this.maxPages;
  }

  set(pfn: number, page: Uint8Array): void {
    if (this.map.size >= this.maxPages) {
      const oldest = this.map.keys().next().value as number;
      this.map.delete(oldest);
    }
    this.map.set(pfn, page);
  }

  clear(): void {
    this.map.clear();
  }
}
