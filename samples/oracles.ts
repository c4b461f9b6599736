/**
 * Oracle outputs: what the real tools (crash, drgn, makedumpfile, pahole) say
 * about a sample core. Tests compare tscrash against these files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, run, sh, shq } from './run.js';

/** Structures whose layouts the tests compare (pahole and crash `struct -o`). */
export const ORACLE_STRUCTS = [
  'task_struct',
  'mm_struct',
  'page',
  'list_head',
  'printk_ringbuffer',
  'prb_desc',
  'rq',
  'kmem_cache',
  'mce',
  'pt_regs',
  'inactive_task_frame',
  'uts_namespace',
  'module',
];

/** crash commands run on the ELF core; the key names the output file crash-KEY.txt. */
export function crashCommands(): [string, string][] {
  const cmds: [string, string][] = [
    ['sys', 'sys'],
    ['bt', 'bt'],
    ['bt-a', 'bt -a'],
    ['log', 'log'],
    ['log-T', 'log -T'],
    ['log-m', 'log -m'],
    ['kmem-i', 'kmem -i'],
    ['kmem-s', 'kmem -s'],
    ['p-jiffies', 'p jiffies'],
    ['p-init_task-comm', 'p init_task.comm'],
    ['sym-jiffies', 'sym jiffies'],
    ['sym-schedule', 'sym schedule'],
    ['sym-panic', 'sym panic'],
    ['rd-jiffies', 'rd -64 jiffies 4'],
    ['rd-linux_banner', 'rd -a linux_banner'],
    ['rd-p', 'rd -p 0x1000 8'],
    ['runq', 'runq'],
    ['mod', 'mod'],
    ['ps', 'ps'],
    ['vtop-init_task', 'vtop init_task'],
    ['whatis-task_struct', 'whatis task_struct'],
    ['struct-init_task-pid', 'struct task_struct.pid,comm init_task'],
  ];
  for (const s of ORACLE_STRUCTS) {
    cmds.push([`struct-${s}`, `struct ${s}`], [`struct-o-${s}`, `struct -o ${s}`]);
  }
  return cmds;
}

export function runCrash(
  vmlinux: string,
  vmcore: string,
  outDir: string,
  extra: [string, string][] = [],
): Record<string, string> {
  mkdirSync(outDir, { recursive: true });
  const files: Record<string, string> = {};
  const lines: string[] = [];
  for (const [key, cmd] of [...crashCommands(), ...extra]) {
    const f = join(outDir, `crash-${key}.txt`);
    files[`crash-${key}`] = f;
    lines.push(`${cmd} > ${f}`);
  }
  lines.push('q');
  const script = join(outDir, 'crash-commands.txt');
  writeFileSync(script, `${lines.join('\n')}\n`);
  log('crash oracle');
  const out = run('crash', ['-s', vmlinux, vmcore, '-i', script], { allowFail: true, timeout: 300_000 });
  writeFileSync(join(outDir, 'crash-session.txt'), out);
  for (const [k, f] of Object.entries(files)) if (!existsSync(f)) delete files[k];
  return files;
}

/** drgn on the core, with the vmlinux and the loaded modules' debug objects (so it unwinds through module code). */
export function runDrgn(
  vmlinux: string,
  vmcore: string,
  outDir: string,
  moduleObjects: string[] = [],
): Record<string, string> {
  log('drgn oracle');
  const script = new URL('../../samples/oracle-drgn.py', import.meta.url).pathname;
  run('/usr/bin/python3', [script, vmlinux, vmcore, outDir, ...moduleObjects], { timeout: 300_000 });
  const files: Record<string, string> = {};
  for (const n of ['tasks', 'stacks', 'facts', 'modules']) files[`drgn-${n}`] = join(outDir, `drgn-${n}.json`);
  files['drgn-dmesg'] = join(outDir, 'drgn-dmesg.txt');
  return files;
}

export function runPahole(vmlinux: string, outDir: string): Record<string, string> {
  log('pahole oracle');
  const files: Record<string, string> = {};
  for (const s of ORACLE_STRUCTS) {
    const f = join(outDir, `pahole-${s}.txt`);
    const text = run('pahole', ['-C', s, vmlinux], { allowFail: true });
    if (text.trim()) {
      writeFileSync(f, text);
      files[`pahole-${s}`] = f;
    }
  }
  return files;
}

/** Host-side makedumpfile variants of the raw ELF core. Returns file key → path. */
export function hostDumps(dir: string): Record<string, string> {
  const elf = join(dir, 'vmcore.elf');
  const out: Record<string, string> = {};
  const variants: [string, string[]][] = [
    ['kdump-l-d31', ['-l', '-d', '31']],
    ['kdump-d31', ['-d', '31']],
    ['kdump-c-d0', ['-c', '-d', '0']],
    ['elf-d31', ['-E', '-d', '31']],
  ];
  for (const [key, args] of variants) {
    const f = join(dir, key);
    log(`makedumpfile ${args.join(' ')}`);
    run('makedumpfile', ['-f', '--message-level', '1', ...args, elf, f]);
    out[key] = f;
  }
  const re = join(dir, 'reassembled-c-d31');
  sh(`makedumpfile -R ${shq(re)} < ${shq(join(dir, 'flat-c-d31'))} > /dev/null`);
  out['reassembled-c-d31'] = re;
  const dmesg = join(dir, 'dmesg');
  run('makedumpfile', ['--dump-dmesg', elf, dmesg]);
  out.dmesg = dmesg;
  return out;
}

/**
 * The panic string as the kernel logged it (what crash's `sys` shows as PANIC): the panic line, else (an oops with
 * oops=panic goes straight to the capture kernel, no panic line) the oops's own first line.
 */
export function panicString(dmesgFile: string): string | undefined {
  const text = readFileSync(dmesgFile, 'latin1');
  const m = /Kernel panic - not syncing: ([^\n]*)/.exec(text);
  if (m) return `Kernel panic - not syncing: ${m[1]!.trim()}`;
  const oops = /^\[[ \d.]+\] ((Oops: |kernel BUG at |general protection fault)[^\n]*)/m.exec(text);
  return oops ? oops[1]!.trim() : undefined;
}
