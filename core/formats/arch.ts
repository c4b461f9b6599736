/**
 * The dumped machine's architecture, as each format names it: ELF e_machine (and class and byte order), the kdump
 * header's utsname machine. Only x86-64 is read today; every other architecture is refused by name, in every
 * format, before any of its fields are read as if they were x86-64's.
 */
import { BadDataError } from '../errors.js';

export const EM_X86_64 = 62;

/** ELF e_machine values of the architectures Linux dumps come from. */
const MACHINES: Record<number, string> = {
  2: 'sparc',
  3: 'i386',
  4: 'm68k',
  8: 'mips',
  15: 'parisc',
  18: 'sparc32plus',
  20: 'ppc',
  21: 'ppc64',
  22: 's390',
  40: 'arm',
  42: 'sh',
  43: 'sparc64',
  50: 'ia64',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};

/** The name of an ELF machine, with the word size and byte order where they decide it (ppc64le, riscv64). */
export function elfMachineName(machine: number, elfClass: number, littleEndian: boolean): string {
  const base = MACHINES[machine];
  if (base === undefined) return `unknown machine`;
  if (machine === 21 && littleEndian) return 'ppc64le';
  if (machine === 243) return elfClass === 2 ? 'riscv64' : 'riscv32';
  if (machine === 22 && elfClass === 2) return 's390x';
  if (machine === 8 && elfClass === 2) return 'mips64';
  return base;
}

/**
 * Refuse an ELF file of another architecture, word size or byte order, naming the architecture:
 * `unsupported architecture: aarch64 (e_machine 183)`. `head` holds at least the first 20 bytes.
 */
export function checkElfArchitecture(head: Uint8Array, file: string): void {
  const elfClass = head[4]!;
  const littleEndian = head[5] === 1;
  const machine = littleEndian ? head[18]! | (head[19]! << 8) : (head[18]! << 8) | head[19]!;
  const name = elfMachineName(machine, elfClass, littleEndian);
  const word = elfClass === 1 ? '32-bit' : elfClass === 2 ? '64-bit' : `class ${elfClass}`;
  const order = littleEndian ? 'little-endian' : head[5] === 2 ? 'big-endian' : `data encoding ${head[5]}`;
  if (machine !== EM_X86_64 || elfClass !== 2 || !littleEndian) {
    const shape = elfClass === 2 && littleEndian ? '' : `, a ${word} ${order} ELF`;
    throw new BadDataError(
      `unsupported architecture: ${name} (e_machine ${machine}${shape}); tscrash reads x86_64 dumps only`,
      file,
      18,
    );
  }
}

/**
 * Refuse a kdump-compressed file of another architecture by the machine its header's utsname names (the field
 * is text, so this holds whatever the byte order of the numbers after it). An empty machine is let through.
 */
export function checkUtsMachine(machine: string, file: string, offset: number): void {
  if (machine === '' || machine === 'x86_64') return;
  throw new BadDataError(
    `unsupported architecture: ${machine} (the disk_dump_header's utsname machine); tscrash reads x86_64 dumps only`,
    file,
    offset,
  );
}
