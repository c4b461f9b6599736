/**
 * VMCOREINFO for dumps that do not carry it (QEMU's dump-guest-memory without
 * a vmcoreinfo device, or a damaged note area): the kernel keeps it in a
 * page-aligned ELF note (vmcoreinfo_note: namesz 11, type 0, "VMCOREINFO",
 * then "OSRELEASE=..."), so the dumped pages are scanned for that header.
 */
import type { Dump } from './dump.js';
import { FaultError } from './errors.js';

const NAME = 'VMCOREINFO\0';
const HEAD = 12 + 12; // Elf64_Nhdr + name padded to 4
const START = 'OSRELEASE=';

function matchesNote(page: Uint8Array): boolean {
  if (page[0] !== 11 || page[1] !== 0 || page[2] !== 0 || page[3] !== 0) return false;
  for (let i = 8; i < 12; i++) if (page[i] !== 0) return false;
  for (let i = 0; i < NAME.length; i++) if (page[12 + i] !== NAME.charCodeAt(i)) return false;
  for (let i = 0; i < START.length; i++) if (page[HEAD + i] !== START.charCodeAt(i)) return false;
  return true;
}

/** The VMCOREINFO text found in the dump's memory, or undefined. */
export function scanVmcoreinfo(dump: Dump): string | undefined {
  for (const pfn of dump.presentPfns()) {
    if (dump.pageState(pfn) !== 'dumped') continue;
    let page: Uint8Array;
    try {
      page = dump.readPage(pfn);
    } catch (e) {
      if (e instanceof FaultError) continue;
      throw e;
    }
    if (!matchesNote(page)) continue;
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const descsz = Math.min(dv.getUint32(4, true), page.length - HEAD);
    let end = HEAD + descsz;
    while (end > HEAD && page[end - 1] === 0) end--;
    return new TextDecoder('latin1').decode(page.subarray(HEAD, end));
  }
  return undefined;
}
