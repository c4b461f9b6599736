/** BTF blobs (symbols/btf/): the header and the one pass over the types, then every type built and walked. */

import { BtfDebugInfo } from '../../symbols/btf/debug-info.js';
import { Btf } from '../../symbols/btf/format.js';
import { walkType } from '../lib/ctype.js';
import { refused } from '../lib/harness.js';

export function fuzz(data: Buffer): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
  const r = refused(() => new Btf(bytes, 'btf'));
  if (!r.ok) return;
  const btf = r.value;
  const d = refused(() => new BtfDebugInfo(btf));
  if (!d.ok) return;
  const end = Math.min(btf.endId, btf.firstId + 2000);
  for (let id = btf.firstId; id < end; id++) {
    refused(() => [btf.kind(id), btf.name(id)]);
    const t = refused(() => d.value.types.typeAt(id));
    if (t.ok) refused(() => walkType(t.value));
  }
  const names = refused(() => d.value.typeNames(''));
  if (names.ok) for (const n of names.value.slice(0, 200)) refused(() => d.value.findType(n));
  refused(() => d.value.findType('struct task_struct *'));
  refused(() => d.value.findVariable('init_task'));
  refused(() => d.value.findFunction('schedule'));
}
