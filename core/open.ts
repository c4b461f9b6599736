/**
 * Open a dump by probing its content (never its name): ELF64 core,
 * kdump-compressed (KDUMP / DISKDUMP), or a flattened (-F) stream of either.
 */
import type { Dump } from './dump.js';
import { BadDataError } from './errors.js';
import { checkElfArchitecture } from './formats/arch.js';
import { ElfDump, isElf64 } from './formats/elf.js';
import { FlattenedSource, isFlattened } from './formats/flattened.js';
import { isKdump, KdumpDump } from './formats/kdump.js';
import { type ByteSource, FileSource, readAt } from './formats/source.js';
import { SplitDump } from './formats/split.js';

function openSource(src: ByteSource, flattened: boolean): Dump {
  const head = readAt(src, 0, 64);
  // An ELF file of another class, byte order or machine: refused by its architecture's name.
  if (head.length >= 20 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
    checkElfArchitecture(head, src.name);
  if (isKdump(head)) return new KdumpDump(src, flattened ? 'flattened-kdump' : 'kdump');
  if (isElf64(head)) return new ElfDump(src, flattened ? 'flattened-elf' : 'elf');
  if (!flattened && isFlattened(head)) {
    const flat = new FlattenedSource(src);
    const d = openSource(flat, true);
    if (flat.truncatedAt !== undefined) d.info.flattenedTruncatedAt = flat.truncatedAt;
    d.info.flattenedRecords = flat.records;
    return d;
  }
  const what = head.length < 8 ? `only ${head.length} bytes` : 'no ELF, KDUMP, DISKDUMP or flattened signature';
  throw new BadDataError(`not a vmcore: ${what}`, src.name, 0);
}

/** Open one dump file. */
export function openDump(path: string): Dump {
  const src = new FileSource(path);
  try {
    return openSource(src, false);
  } catch (e) {
    src.close();
    throw e;
  }
}

/** Open a dump split by `makedumpfile --split` (or one file: same as openDump). */
export function openDumpSet(paths: string[]): Dump {
  if (paths.length === 1) return openDump(paths[0]!);
  return new SplitDump(paths.map(openDump));
}
