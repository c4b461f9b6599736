/**
 * The kernel log (kernel/printk/printk.c, printk_ringbuffer.h): records with
 * their timestamps, read through the layout VMCOREINFO gives.
 */
import { type DmesgResult, printkLayoutFromVmcoreinfo, readDmesg } from '../core/dmesg.js';
import type { Program } from '../program/program.js';

export type { DmesgResult };

/** The log: records oldest first, or for pre-3.5 kernels the raw character buffer. */
export function kernelLog(prog: Program): DmesgResult {
  return readDmesg(prog.memory, printkLayoutFromVmcoreinfo(prog.vmcoreinfo));
}

export { type FormatOptions, formatDmesg as formatLog } from '../core/dmesg.js';
