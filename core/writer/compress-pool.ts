/**
 * A pool of compression workers (worker_threads). Batches are submitted in
 * order and their results awaited in order by the writer; the raw page buffer
 * comes back with the result so it can be reused.
 */
import { Worker } from 'node:worker_threads';
import type { BatchResult } from './batch.js';
import type { Compression } from './page-compress.js';

interface Pending {
  resolve: (r: { result: BatchResult; pages: Uint8Array }) => void;
  reject: (e: Error) => void;
}

export class CompressPool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 1;
  private failed: Error | undefined;

  constructor(
    readonly size: number,
    compression: Compression,
    pageSize: number,
  ) {
    const self = import.meta.url;
    const isTs = self.endsWith('.ts');
    const url = new URL(isTs ? './compress-worker.ts' : './compress-worker.js', self);
    for (let i = 0; i < size; i++) {
      // from source (tests under tsx) the worker registers tsx itself before loading the .ts file
      const w = isTs
        ? new Worker(
            `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`,
            { eval: true, workerData: { compression, pageSize } },
          )
        : new Worker(url, { workerData: { compression, pageSize } });
      w.on('message', (m: { id: number; result?: BatchResult; pages?: Uint8Array; error?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        this.load[p.worker]!--;
        if (m.error !== undefined || !m.result || !m.pages) p.reject(new Error(`compression worker: ${m.error}`));
        else p.resolve({ result: m.result, pages: m.pages });
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`compression worker exited with code ${code}`));
      });
      this.workers.push(w);
      this.load.push(0);
    }
  }

  private fail(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  submit(pages: Uint8Array, count: number, excludeZero: boolean): Promise<{ result: BatchResult; pages: Uint8Array }> {
    if (this.failed) return Promise.reject(this.failed);
    let wi = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i]! < this.load[wi]!) wi = i;
    const id = this.nextId++;
    this.load[wi]!++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: wi });
      this.workers[wi]!.postMessage({ id, pages, count, excludeZero }, [pages.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
