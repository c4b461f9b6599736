/** VMCOREINFO text (core/vmcoreinfo.ts) and what is built from it at open: the printk layout (core/dmesg.ts). */
import { printkLayoutFromVmcoreinfo } from '../../core/dmesg.js';
import { VmcoreInfo } from '../../core/vmcoreinfo.js';
import { refused } from '../lib/harness.js';

export function fuzz(data: Buffer): void {
  const text = data.toString('latin1');
  const r = refused(() => new VmcoreInfo(text, 'VMCOREINFO', 0x2000));
  if (!r.ok) return;
  const vi = r.value;
  refused(() => [vi.osrelease, vi.buildId, vi.pageSize, vi.crashTime]);
  refused(() => vi.kernelOffset);
  for (const name of vi.symbols.keys()) refused(() => vi.symbol(name));
  for (const name of vi.sizes.keys()) refused(() => vi.size(name));
  for (const name of vi.offsets.keys()) refused(() => vi.offset(name));
  refused(() => vi.symbol('init_uts_ns'));
  refused(() => printkLayoutFromVmcoreinfo(vi));
}
