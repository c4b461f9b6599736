/** ORC unwind tables (symbols/orc.ts): .orc_unwind_ip and .orc_unwind, lookups. Parts: ip table, unwind table. */
import { OrcTable } from '../../symbols/orc.js';
import { refused, splitParts } from '../lib/harness.js';

const IP_ADDRESS = 0xffffffff82c5d5c0n;

export function fuzz(data: Buffer): void {
  const [ip, unwind, opt] = splitParts(data, 3);
  const version = opt && opt.length > 0 ? ((opt[0]! % 4) as 0 | 1 | 2 | 3) : 0;
  const r = refused(() =>
    OrcTable.fromBytes(ip!, unwind!, IP_ADDRESS, { version: version === 0 ? undefined : version, source: 'orc' }),
  );
  if (!r.ok) return;
  const t = r.value;
  const n = Math.min(t.count, 4096);
  for (let i = 0; i < n; i++) {
    refused(() => t.entry(i));
    const at = refused(() => t.ip(i));
    if (at.ok) {
      refused(() => t.find(at.value));
      refused(() => t.find(at.value + 1n));
    }
  }
  refused(() => t.find(IP_ADDRESS - 1n));
  refused(() => t.find(0xffffffffffffffffn));
}
