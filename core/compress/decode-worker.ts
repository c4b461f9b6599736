/**
 * Page decoding off the main thread (Dump.prefetch): one message of compressed pages, back to back, with their
 * sizes and codecs; one message back with the decoded pages in one transferred buffer and a flag for each page
 * decoded (a damaged page is left to readPage, which names the damage).
 */
import { parentPort } from 'node:worker_threads';
import { type Compression, decompressPage } from './index.js';

export interface DecodeJob {
  data: Uint8Array;
  sizes: Int32Array;
  kinds: Compression[];
  pageSize: number;
}
export interface DecodeDone {
  pages: Uint8Array;
  ok: Uint8Array;
}

parentPort?.once('message', (job: DecodeJob) => {
  const n = job.sizes.length;
  const pages = new Uint8Array(n * job.pageSize);
  const ok = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const size = job.sizes[i]!;
    try {
      pages.set(decompressPage(job.kinds[i]!, job.data.subarray(at, at + size), job.pageSize), i * job.pageSize);
      ok[i] = 1;
    } catch {
      // left for readPage
    }
    at += size;
  }
  parentPort!.postMessage({ pages, ok } satisfies DecodeDone, [pages.buffer, ok.buffer]);
});
