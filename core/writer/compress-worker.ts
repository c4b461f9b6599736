/**
 * Compression worker: receives batches of raw pages, returns BatchResults
 * (see batch.ts). Buffers are transferred both ways.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchCompressor } from './batch.js';
import type { Compression } from './page-compress.js';

interface Init {
  compression: Compression;
  pageSize: number;
}
interface Job {
  id: number;
  pages: Uint8Array;
  count: number;
  excludeZero: boolean;
}

const init = workerData as Init;
const bc = new BatchCompressor(init.compression, init.pageSize);
parentPort!.on('message', (job: Job) => {
  try {
    const r = bc.run(job.pages, job.count, job.excludeZero);
    parentPort!.postMessage({ id: job.id, result: r, pages: job.pages }, [
      r.sizes.buffer,
      r.flags.buffer,
      r.data.buffer,
      job.pages.buffer,
    ] as ArrayBuffer[]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
  }
});
