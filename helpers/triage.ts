/**
 * First-look knowledge of a crash: what kind of death the log describes, which frame is the culprit, how the
 * kernel was tainted, and a signature that names the same crash alike in any dump of it.
 */
import { createHash } from 'node:crypto';
import { TscrashError } from '../core/errors.js';
import { strip } from '../program/object.js';
import type { Program } from '../program/program.js';
import { listModules } from './modules.js';

/** The class of a crash (panic, oops, BUG, soft or hard lockup, hung task, MCE, OOM ...), from the kernel's log. */
export type PanicClass =
  | 'sysrq'
  | 'null-dereference'
  | 'oops'
  | 'bug'
  | 'general-protection-fault'
  | 'machine-check'
  | 'hung-task'
  | 'soft-lockup'
  | 'hard-lockup'
  | 'out-of-memory'
  | 'watchdog'
  | 'warning'
  | 'other';

/** Log patterns of each class, most specific first (the kernel's own wording, from its printk calls). */
const CLASSES: [PanicClass, RegExp][] = [
  [
    'machine-check',
    /Kernel panic - not syncing: (Fatal (local )?machine check|Machine check)|\[Hardware Error\]: .*Machine check/,
  ],
  ['hung-task', /Kernel panic - not syncing: hung_task: blocked tasks|INFO: task .* blocked for more than \d+ seconds/],
  ['soft-lockup', /watchdog: BUG: soft lockup|Kernel panic - not syncing: softlockup: hung tasks/],
  ['hard-lockup', /Watchdog detected hard LOCKUP|Kernel panic - not syncing: Hard LOCKUP/],
  ['out-of-memory', /Kernel panic - not syncing: (Out of memory|System is deadlocked on memory)/],
  ['warning', /Kernel panic - not syncing: panic_on_warn set|^WARNING: CPU: \d+ PID: \d+ at /],
  ['sysrq', /sysrq: Trigger a crash|SysRq : Trigger a crash|Kernel panic - not syncing: sysrq triggered crash/],
  ['null-dereference', /BUG: kernel NULL pointer dereference|Unable to handle kernel NULL pointer dereference/],
  ['bug', /kernel BUG at |Kernel BUG at /],
  ['general-protection-fault', /general protection fault/],
  ['oops', /BUG: unable to handle (page fault|kernel paging request)|^Oops: /],
  ['watchdog', /watchdog: |NMI watchdog: /],
];

/** The class of the crash the log lines describe. */
export function panicClass(lines: string[]): PanicClass {
  for (const [cls, re] of CLASSES) if (lines.some((l) => re.test(l))) return cls;
  return 'other';
}

/**
 * The message that says what happened: the first line of the fatal event (an oops's BUG line, a lockup's or a
 * machine check's report) when there is one, else the "Kernel panic - not syncing" line.
 */
export function panicHeadline(lines: string[]): string {
  const event = lines.find((l) =>
    /^(BUG: |kernel BUG at |general protection fault|watchdog: BUG: |INFO: task .* blocked for more than|Watchdog detected hard LOCKUP|WARNING: CPU: |mce: \[Hardware Error\]: CPU \d+: Machine Check)/.test(
      l,
    ),
  );
  const panic = lines.find((l) => l.startsWith('Kernel panic - not syncing'));
  return (event ?? panic ?? '').trim();
}

/**
 * Functions of the panic, oops, exception and dump machinery: the culprit is the first frame not one of these
 * (or, when the stack holds a kernel-mode exception, the function the exception interrupted).
 */
const MACHINERY = new Set([
  'machine_kexec',
  '__crash_kexec',
  'crash_kexec',
  'panic',
  'vpanic',
  'nmi_panic',
  'oops_end',
  'die',
  '__die',
  '__die_body',
  'die_addr',
  'do_trap',
  'do_error_trap',
  'handle_bug',
  'page_fault_oops',
  'kernelmode_fixup_or_oops',
  'no_context',
  '__bad_area_nosemaphore',
  'bad_area_nosemaphore',
  'do_user_addr_fault',
  'handle_page_fault',
  'exc_page_fault',
  'asm_exc_page_fault',
  'exc_general_protection',
  'asm_exc_general_protection',
  'exc_invalid_op',
  'asm_exc_invalid_op',
  'do_machine_check',
  'exc_machine_check',
  'asm_exc_machine_check',
  'mce_panic',
  'mce_timed_out',
  'check_panic_on_warn',
  '__warn',
  'report_bug',
  'watchdog_timer_fn',
  '__hrtimer_run_queues',
  'hrtimer_interrupt',
  '__sysvec_apic_timer_interrupt',
  'sysvec_apic_timer_interrupt',
  'asm_sysvec_apic_timer_interrupt',
  'out_of_memory',
  'check_hung_uninterruptible_tasks',
  'watchdog',
]);

/** Whether a function is part of the panic and oops machinery (panic, die, oops_end ...), never a crash's culprit. */
export function isMachinery(fn: string): boolean {
  return MACHINERY.has(fn) || /^(asm_|noist_|kernel_)?exc_/.test(fn);
}

/**
 * The scheduler and the kernel's sleeping primitives (completions, wait queues, mutexes, semaphores, rwsems, bit and
 * folio waits): where a blocked task sleeps, not why. A hung task's culprit is the first frame not one of these.
 */
const SLEEPING =
  /^(__schedule|schedule|schedule_timeout|schedule_hrtimeout(_range)?|schedule_preempt_disabled|context_switch|io_schedule(_timeout)?|(do_|__)?wait_for_common(_io)?|wait_for_completion\w*|__wait_on_bit\w*|out_of_line_wait_on_bit\w*|bit_wait\w*|__?wait_event\w*|prepare_to_wait\w*|rwsem_down_\w+|down_(read|write)\w*|__down\w*|down(_\w+)?|__mutex_lock\w*|mutex_lock\w*|folio_wait\w*|__folio_lock\w*|wait_on_page\w*)(\.\w+)*$/;

/** Whether a function is the scheduler's or a sleeping primitive's (schedule, wait_for_completion, mutex_lock ...). */
export function isSleeping(fn: string): boolean {
  return SLEEPING.test(fn);
}

/** The task khungtaskd reported blocked ("INFO: task COMM:PID blocked for more than N seconds."): its PID. */
export function hungTaskPid(lines: string[]): number | undefined {
  for (const l of lines) {
    const m = /^INFO: task .*:(\d+) blocked for more than \d+ seconds/.exec(l);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The kernel's taint letters (include/linux/panic.h, Documentation/admin-guide/tainted-kernels.rst). */
const TAINT_NAMES: Record<string, string> = {
  P: 'proprietary module loaded',
  F: 'module force loaded',
  S: 'kernel running on an out of specification system',
  R: 'module force unloaded',
  M: 'processor reported a machine check exception',
  B: 'bad page referenced or unexpected page flags',
  U: 'taint requested by userspace',
  D: 'kernel died recently (oops or BUG)',
  A: 'ACPI table overridden by user',
  W: 'kernel issued warning',
  C: 'staging driver loaded',
  I: 'workaround for bug in platform firmware applied',
  O: 'externally-built (out-of-tree) module loaded',
  E: 'unsigned module loaded',
  L: 'soft lockup occurred',
  K: 'kernel has been live patched',
  X: 'auxiliary taint',
  T: 'kernel built with the struct randomization plugin',
  N: 'an in-kernel test has been run',
};

/** The kernel's taint: its flags string and each taint set, with its letter, meaning and modules. */
export interface Taint {
  /** The kernel's own string ("G    B   D    " style, as its oops header prints it, without the padding). */
  flags: string;
  /** Each taint set: its letter, what it means, and the modules that carry it. */
  set: { letter: string; meaning: string; modules: string[] }[];
}

/** tainted_mask decoded with the kernel's own taint_flags table (letters by bit), and the modules' taints. */
export function kernelTaint(prog: Program): Taint | undefined {
  if (!prog.hasVariable('tainted_mask') || !prog.hasVariable('taint_flags')) return undefined;
  const mask = prog.variable('tainted_mask').value();
  const table = prog.variable('taint_flags');
  // const struct taint_flag taint_flags[TAINT_FLAGS_COUNT]: the array under its qualifier.
  const t = strip(table.type);
  const n = t.kind === 'array' ? (t.counts[0] ?? 0) : 0;
  const letters: string[] = [];
  for (let i = 0; i < n; i++) letters.push(String.fromCharCode(table.index(i).member('c_true').num()));
  const modules: { name: string; taints: bigint }[] = [];
  try {
    for (const m of listModules(prog)) {
      if (m.module.hasMember('taints')) modules.push({ name: m.name, taints: m.module.member('taints').value() });
    }
  } catch (e) {
    if (!(e instanceof TscrashError)) throw e;
  }
  const set: Taint['set'] = [];
  for (let bit = 0; bit < n; bit++) {
    if (!((mask >> BigInt(bit)) & 1n)) continue;
    const letter = letters[bit]!;
    set.push({
      letter,
      meaning: TAINT_NAMES[letter] ?? 'unknown taint',
      modules: modules.filter((m) => (m.taints >> BigInt(bit)) & 1n).map((m) => m.name),
    });
  }
  return { flags: set.length ? set.map((s) => s.letter).join('') : 'G', set };
}

/**
 * A stable name of the crash: the class, the panic message with its numbers, addresses and task names taken out,
 * and the culprit and the functions under it. The same crash gives the same signature in any dump format and on
 * any boot; a different culprit or message gives another.
 */
export function crashSignature(cls: PanicClass, headline: string, frames: string[]): string {
  const message = headline
    .replace(/\b0x[0-9a-f]+\b/gi, 'X')
    .replace(/\b[0-9a-f]{8,}\b/gi, 'X')
    .replace(/\d+/g, 'N')
    .replace(/Comm: \S+/g, 'Comm: C')
    .replace(/\s+/g, ' ')
    .trim();
  const h = createHash('sha256')
    .update(`${cls}\n${message}\n${frames.join('\n')}`)
    .digest('hex');
  return h.slice(0, 16);
}
