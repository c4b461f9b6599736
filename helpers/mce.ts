/**
 * Machine-check decoding (arch/x86/include/asm/mce.h, arch/x86/kernel/cpu/mce/
 * severity.c; Intel SDM vol. 3B ch. 16 "Interpreting the MCA Error Codes";
 * AMD's MCA register definitions). Pure functions over raw register values.
 */

const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;
const field = (v: bigint, lo: number, width: number): number =>
  Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));

/** The CPU vendors whose machine checks are decoded. */
export type Vendor = 'intel' | 'amd';

/** MCi_STATUS flag bits, high to low. */
export const STATUS_FLAGS: [number, string, string][] = [
  [63, 'VAL', 'the register holds a valid error'],
  [62, 'OVER', 'an earlier error was lost (overflow)'],
  [61, 'UC', 'uncorrected error'],
  [60, 'EN', 'error reporting was enabled for this error'],
  [59, 'MISCV', 'MCi_MISC holds more information'],
  [58, 'ADDRV', 'MCi_ADDR holds the address'],
  [57, 'PCC', 'processor context corrupt'],
  [56, 'S', 'signaled through a machine-check exception (software recoverable architecture)'],
  [55, 'AR', 'action required'],
];

/** The MCG_STATUS bits: bit, name, meaning. */
export const MCG_FLAGS: [number, string, string][] = [
  [0, 'RIPV', 'restart IP valid: the program can restart at the saved IP'],
  [1, 'EIPV', 'error IP valid: the saved IP points at the instruction that caused the error'],
  [2, 'MCIP', 'machine check in progress'],
  [3, 'LMCES', 'local machine check: delivered to this logical processor only'],
];

/**
 * An MCA error code decoded: its class, cache level, transaction and request types, memory channel, and a
 * description.
 */
export interface McaCode {
  code: number;
  /** Class per the SDM: simple or compound. */
  class:
    | 'no error'
    | 'unclassified'
    | 'microcode ROM parity'
    | 'external error'
    | 'FRC error'
    | 'internal parity'
    | 'SMM handler code access violation'
    | 'internal timer'
    | 'I/O error'
    | 'internal unclassified'
    | 'generic cache hierarchy'
    | 'TLB'
    | 'memory controller'
    | 'cache hierarchy'
    | 'bus and interconnect'
    | 'unknown';
  /** Bit 12 of a compound code: corrected-error filtering. */
  filtered?: boolean;
  level?: string;
  transaction?: string;
  request?: string;
  memoryTransaction?: string;
  channel?: number | 'unspecified';
  participation?: string;
  timeout?: boolean;
  memoryOrIo?: string;
  description: string;
}

const LEVEL = ['L0', 'L1', 'L2', 'generic level (LG)'];
const TRANSACTION = ['instruction (I)', 'data (D)', 'generic (G)', 'reserved'];
const REQUEST = [
  'generic error (ERR)',
  'data read (RD)',
  'data write (WR)',
  'data read (DRD)',
  'data write (DWR)',
  'instruction fetch (IRD)',
  'prefetch (PREFETCH)',
  'eviction (EVICT)',
  'snoop (SNOOP)',
];
const MEMTX = [
  'generic (GEN)',
  'memory read (RD)',
  'memory write (WR)',
  'address/command (AC)',
  'memory scrubbing (MS)',
  'reserved',
  'reserved',
  'reserved',
];
const PARTICIPATION = [
  'local processor originated the request (SRC)',
  'local processor responded to the request (RES)',
  'local processor observed the error as a third party (OBS)',
  'generic',
];
const MEMIO = ['memory access (M)', 'reserved', 'I/O (IO)', 'other transaction'];

/** Decode the MCA error code (MCi_STATUS[15:0]) per the SDM's simple and compound encodings. */
export function decodeMcaCode(code: number): McaCode {
  const c = code & 0xffff;
  const simple: Record<number, McaCode['class']> = {
    0: 'no error',
    1: 'unclassified',
    2: 'microcode ROM parity',
    3: 'external error',
    4: 'FRC error',
    5: 'internal parity',
    6: 'SMM handler code access violation',
    1024: 'internal timer',
    3595: 'I/O error',
  };
  if (simple[c] !== undefined) {
    const cls = simple[c]!;
    return { code: c, class: cls, description: cls };
  }
  if ((c & 0xfc00) === 0x0400)
    return { code: c, class: 'internal unclassified', description: 'internal unclassified error' };
  const f = (c & 0x1000) !== 0;
  const x = c & 0xefff; // without the filtering bit
  if ((x & 0xfffc) === 0x000c) {
    const level = LEVEL[x & 3]!;
    return {
      code: c,
      class: 'generic cache hierarchy',
      filtered: f,
      level,
      description: `generic cache hierarchy error, ${level}`,
    };
  }
  if ((x & 0xfff0) === 0x0010) {
    const transaction = TRANSACTION[(x >> 2) & 3]!;
    const level = LEVEL[x & 3]!;
    return {
      code: c,
      class: 'TLB',
      filtered: f,
      transaction,
      level,
      description: `TLB error: ${transaction} ${level}`,
    };
  }
  if ((x & 0xff80) === 0x0080) {
    const memoryTransaction = MEMTX[(x >> 4) & 7]!;
    const ch = x & 0xf;
    const channel = ch === 0xf ? 'unspecified' : ch;
    return {
      code: c,
      class: 'memory controller',
      filtered: f,
      memoryTransaction,
      channel,
      description: `memory controller error: ${memoryTransaction}, channel ${channel}`,
    };
  }
  if ((x & 0xff00) === 0x0100) {
    const request = REQUEST[(x >> 4) & 0xf] ?? `reserved request type ${(x >> 4) & 0xf}`;
    const transaction = TRANSACTION[(x >> 2) & 3]!;
    const level = LEVEL[x & 3]!;
    return {
      code: c,
      class: 'cache hierarchy',
      filtered: f,
      request,
      transaction,
      level,
      description: `cache hierarchy error: ${request}, ${transaction}, ${level}`,
    };
  }
  if ((x & 0xf800) === 0x0800) {
    const participation = PARTICIPATION[(x >> 9) & 3]!;
    const timeout = (x & 0x100) !== 0;
    const request = REQUEST[(x >> 4) & 0xf] ?? `reserved request type ${(x >> 4) & 0xf}`;
    const memoryOrIo = MEMIO[(x >> 2) & 3]!;
    const level = LEVEL[x & 3]!;
    return {
      code: c,
      class: 'bus and interconnect',
      filtered: f,
      participation,
      timeout,
      request,
      memoryOrIo,
      level,
      description: `bus/interconnect error: ${request}, ${memoryOrIo}, ${participation}${timeout ? ', timed out' : ''}, ${level}`,
    };
  }
  return { code: c, class: 'unknown', description: `unknown MCA error code 0x${c.toString(16).padStart(4, '0')}` };
}

/** The machine-check severity levels: none, corrected, deferred, UCNA, action optional, action required, panic. */
export type SeverityLevel =
  | 'none'
  | 'corrected'
  | 'deferred'
  | 'ucna'
  | 'action-optional'
  | 'action-required'
  | 'panic';

/** A machine check's severity as the kernel grades it: the level, the kernel's message and why. */
export interface Severity {
  level: SeverityLevel;
  /** The kernel's message for this case (severity.c), as printed after "Machine check: ". */
  message: string;
  /** Why, in plain words. */
  why: string;
}

/**
 * The kernel's severity grading of one record (mce_severity_intel /
 * mce_severity_amd), as far as raw values decide it. `inKernel` says whether
 * the error hit kernel code (unknown from registers alone: undefined).
 */
export function severity(status: bigint, mcgStatus: bigint | undefined, vendor: Vendor, inKernel?: boolean): Severity {
  const uc = bit(status, 61);
  const pcc = bit(status, 57);
  const s = bit(status, 56);
  const ar = bit(status, 55);
  const over = bit(status, 62);
  if (!bit(status, 63)) return { level: 'none', message: 'Invalid', why: 'VAL is clear: the bank holds no error' };
  if (vendor === 'amd') {
    if (pcc)
      return {
        level: 'panic',
        message: 'Processor Context Corrupt',
        why: 'PCC is set: the processor state is corrupt, execution cannot continue',
      };
    if (bit(status, 44))
      return {
        level: 'deferred',
        message: 'Deferred error',
        why: 'the error was deferred (AMD Deferred bit 44): poison is carried, no action now',
      };
    if (!uc)
      return { level: 'corrected', message: 'Corrected error', why: 'UC is clear: the hardware corrected the error' };
    if (over)
      return {
        level: 'panic',
        message: 'Overflowed uncorrected error without MCA Overflow Recovery',
        why: 'an uncorrected error overflowed; without overflow recovery the kernel panics',
      };
    if (inKernel)
      return {
        level: 'panic',
        message: 'Uncorrected unrecoverable error in kernel context',
        why: 'uncorrected error while the kernel was running',
      };
    return {
      level: 'action-required',
      message: 'Action required: uncorrected error in user context',
      why: 'uncorrected error in user context: recoverable with MCA recovery (SUCCOR) by killing the process',
    };
  }
  if (!bit(status, 60))
    return { level: 'none', message: 'Not enabled', why: 'EN is clear: reporting was not enabled for this error' };
  if (pcc)
    return {
      level: 'panic',
      message: 'Processor context corrupt',
      why: 'PCC is set: the processor state is corrupt, execution cannot continue',
    };
  if (mcgStatus !== undefined && !bit(mcgStatus, 2) && uc) {
    return {
      level: 'panic',
      message: 'MCIP not set in MCA handler',
      why: 'an uncorrected error was reported without MCIP: the machine-check exception state is inconsistent',
    };
  }
  if (mcgStatus !== undefined && !bit(mcgStatus, 0) && !bit(mcgStatus, 1) && uc) {
    return {
      level: 'panic',
      message: 'Neither restart nor error IP',
      why: 'RIPV and EIPV are both clear: there is no IP to restart from or to attribute the error to',
    };
  }
  if (uc && !s && ar)
    return {
      level: 'panic',
      message: 'Illegal combination (UCNA with AR=1)',
      why: 'AR is set on an error not signaled by a machine-check exception (S=0)',
    };
  if (uc && over && ar)
    return {
      level: 'panic',
      message: 'Action required with lost events',
      why: 'an action-required error overflowed: earlier errors were lost',
    };
  if (uc && !s)
    return {
      level: 'ucna',
      message: 'Uncorrected no action required',
      why: 'uncorrected, but not signaled by an exception (UCNA): logged, the poisoned data is not in use yet',
    };
  if (uc && s && !ar) {
    const mca = field(status, 0, 16) & 0xefff;
    if ((mca & 0xfff0) === 0x00c0) {
      return {
        level: 'action-optional',
        message: 'Action optional: memory scrubbing error',
        why: 'found by the memory patrol scrubber: the page can be taken offline, nothing consumed it',
      };
    }
    if (mca === 0x017a) {
      return {
        level: 'action-optional',
        message: 'Action optional: last level cache writeback error',
        why: 'found while writing back a cache line: the page can be taken offline, nothing consumed it',
      };
    }
    return {
      level: 'action-optional',
      message: 'Action optional: unknown MCACOD',
      why: 'uncorrected, signaled, no action required now',
    };
  }
  if (uc && s && ar) {
    const mca = field(status, 0, 16) & 0xefff;
    if (mca === 0x0134) {
      return inKernel
        ? {
            level: 'panic',
            message: 'Data load in unrecoverable area of kernel',
            why: 'poisoned data was consumed by the kernel',
          }
        : {
            level: 'action-required',
            message: 'Action required: data load error in a user process',
            why: 'poisoned data was consumed by a user process: it is killed and the page taken offline',
          };
    }
    if (mca === 0x0150) {
      return inKernel
        ? {
            level: 'panic',
            message: 'Instruction fetch error in kernel',
            why: 'the kernel fetched poisoned instructions',
          }
        : {
            level: 'action-required',
            message: 'Action required: instruction fetch error in a user process',
            why: 'a user process fetched poisoned instructions',
          };
    }
    return {
      level: 'panic',
      message: 'Action required: unknown MCACOD',
      why: 'action required, but the error code is not one the kernel can recover from',
    };
  }
  if (uc) return { level: 'panic', message: 'Uncorrected', why: 'uncorrected error without a recoverable signature' };
  return { level: 'corrected', message: 'Corrected error', why: 'UC is clear: the hardware corrected the error' };
}

/** Legacy AMD bank names (families 10h-16h); SMCA CPUs (17h+) name banks through MCA_IPID instead. */
const AMD_BANKS = [
  'DC (data cache)',
  'IC (instruction cache)',
  'BU (bus unit)',
  'LS (load/store unit)',
  'NB (northbridge)',
  'EX (execution unit)',
  'FP (floating point unit)',
];

/** The registers of one machine check (status, address, misc, MCG status, bank, CPU, vendor). */
export interface McaRecord {
  cpu?: number;
  bank?: number;
  status: bigint;
  mcgStatus?: bigint;
  addr?: bigint;
  misc?: bigint;
  vendor?: Vendor;
}

/** A machine check decoded: status flags, error code, severity, address, misc. */
export interface DecodedMce {
  cpu?: number;
  bank?: number;
  bankName?: string;
  vendor: Vendor;
  status: string;
  flags: string[];
  flagMeanings: Record<string, string>;
  correctedCount?: number;
  modelSpecific: number;
  mca: McaCode;
  mcgStatus?: string;
  mcgFlags?: string[];
  addr?: string;
  misc?: string;
  severity: Severity;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** Decode a machine-check record: bank status flags, MCA error code, severity, address and misc. */
export function decodeMce(r: McaRecord, inKernel?: boolean): DecodedMce {
  const vendor = r.vendor ?? 'intel';
  const flags = STATUS_FLAGS.filter(([b]) => bit(r.status, b)).map(([, n]) => n);
  const flagMeanings = Object.fromEntries(STATUS_FLAGS.filter(([b]) => bit(r.status, b)).map(([, n, m]) => [n, m]));
  if (vendor === 'amd' && bit(r.status, 44)) {
    flags.push('Deferred');
    flagMeanings.Deferred = 'deferred error: poison was passed on rather than consumed';
  }
  const d: DecodedMce = {
    cpu: r.cpu,
    bank: r.bank,
    vendor,
    status: hex(r.status),
    flags,
    flagMeanings,
    modelSpecific: field(r.status, 16, 16),
    mca: decodeMcaCode(field(r.status, 0, 16)),
    severity: severity(r.status, r.mcgStatus, vendor, inKernel),
  };
  if (!bit(r.status, 61)) d.correctedCount = field(r.status, 38, 15);
  if (vendor === 'amd' && r.bank !== undefined) d.bankName = AMD_BANKS[r.bank];
  if (r.mcgStatus !== undefined) {
    d.mcgStatus = hex(r.mcgStatus);
    d.mcgFlags = MCG_FLAGS.filter(([b]) => bit(r.mcgStatus!, b)).map(([, n]) => n);
  }
  if (r.addr !== undefined && bit(r.status, 58)) d.addr = hex(r.addr);
  if (r.misc !== undefined && bit(r.status, 59)) d.misc = hex(r.misc);
  return d;
}

/** A plain multi-line summary. */
export function formatDecoded(d: DecodedMce, indent = '  '): string {
  const lines: string[] = [];
  const where = [
    d.cpu !== undefined ? `CPU ${d.cpu}` : '',
    d.bank !== undefined ? `BANK ${d.bank}${d.bankName ? ` (${d.bankName})` : ''}` : '',
  ]
    .filter(Boolean)
    .join('  ');
  if (where) lines.push(`${where}  vendor ${d.vendor === 'amd' ? 'AMD' : 'Intel'}`);
  if (d.mcgStatus) lines.push(`MCG_STATUS ${d.mcgStatus}: ${d.mcgFlags!.join(' ') || '(none)'}`);
  lines.push(`STATUS ${d.status}: ${d.flags.join(' ') || '(no flags)'}`);
  for (const f of d.flags) lines.push(`${indent}${f.padEnd(8)} ${d.flagMeanings[f]}`);
  lines.push(
    `${indent}MCA error code 0x${d.mca.code.toString(16).padStart(4, '0')}: ${d.mca.description}${d.mca.filtered ? ' (corrected-error filtering)' : ''}`,
  );
  lines.push(`${indent}model-specific error code 0x${d.modelSpecific.toString(16).padStart(4, '0')}`);
  if (d.correctedCount !== undefined) lines.push(`${indent}corrected error count ${d.correctedCount}`);
  if (d.addr) lines.push(`ADDR ${d.addr}`);
  if (d.misc) lines.push(`MISC ${d.misc}`);
  lines.push(`SEVERITY ${d.severity.level}: "${d.severity.message}" - ${d.severity.why}`);
  return lines.map((l) => `${indent}${l}`).join('\n') + '\n';
}
