/** The files every sample case has (no side effects: tests import it). */

/** Files every case has; the key is the file name in the case directory. */
export const FILE_KEYS: Record<string, string> = {
  elf: 'vmcore.elf',
  'kdump-c-d31': 'kdump-c-d31',
  'flat-c-d31': 'flat-c-d31',
  'kdump-l-d31': 'kdump-l-d31',
  'kdump-d31': 'kdump-d31',
  'kdump-c-d0': 'kdump-c-d0',
  'elf-d31': 'elf-d31',
  'reassembled-c-d31': 'reassembled-c-d31',
  dmesg: 'dmesg',
};

/**
 * The time zone and locale the oracles run in: crash prints dates in the local zone and strings in the locale's
 * charset, so they are fixed here and the tests run tscrash in the same ones (test/lib/samples.ts).
 */
export const ORACLE_ENV = { TZ: 'UTC', LC_ALL: 'C.UTF-8' } as const;
