/**
 * --dump-dmesg: the kernel log of any dump the format readers open
 * (core/open.ts), read through core/kernel-memory.ts and rendered by
 * core/dmesg.ts exactly as makedumpfile does; saved 0600 under a temporary
 * name and renamed.
 */
import { dumpDmesg, type ReadOptions } from '../dmesg.js';
import type { Dump } from '../dump.js';
import { KernelMemory } from '../kernel-memory.js';
import { openDump } from '../open.js';
import { FileSink } from './output.js';

export async function writeDmesg(
  vmcore: string,
  out: string,
  force: boolean,
  vmcoreinfoText?: string,
  read: ReadOptions = {},
): Promise<void> {
  const dump = openDump(vmcore);
  try {
    // -i VMCOREINFO replaces the dump's own
    const d: Dump =
      vmcoreinfoText === undefined
        ? dump
        : new Proxy(dump, { get: (t, k, r) => (k === 'vmcoreinfo' ? vmcoreinfoText : Reflect.get(t, k, r)) });
    const bytes = dumpDmesg(new KernelMemory(d), read);
    const sink = new FileSink(out, force);
    try {
      sink.write(0, bytes);
      sink.finish();
    } catch (e) {
      sink.abort();
      throw e;
    }
  } finally {
    dump.close();
  }
}
