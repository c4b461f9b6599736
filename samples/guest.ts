/**
 * The guest side of the sample builder: an initramfs that crashes and captures
 * itself (kexec -p), QEMU to run it, and the way back out (a tar stream written
 * raw onto an NVMe disk).
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { configValue, type KernelFiles, moduleClosure } from './debian.js';
import { log, run, StepError, sh, shq } from './run.js';

export interface McePlan {
  cpu: number;
  bank: number;
  status: bigint;
  mcgStatus: bigint;
  addr: bigint;
  misc: bigint;
}

export interface GuestPlan {
  kernel: KernelFiles;
  /** Shell line that crashes the guest once the workload runs. */
  trigger: string;
  /** Inject this machine check through QEMU's monitor once kdump is loaded. */
  mce?: McePlan;
  /** Before the machine check, save the live guest with QEMU's dump-guest-memory -z (kdump-zlib) here. */
  qemuDump?: string;
  memory: string;
  cpus: number;
  crashkernel: string;
  /** More modules to load in the guest (with their dependencies), when the kernel builds them as modules. */
  modules?: string[];
  /** Put node and this repository's built tsmakedumpfile (dist/ and its runtime modules) in the capture image. */
  tsmakedumpfile?: string;
  /** Modules of ours (.ko paths, built against the kernel's headers), loaded after the kernel's own. */
  extraModules?: string[];
  /** More words for the crashing kernel's command line (the capture kernel's is fixed in guest-init.sh). */
  append?: string;
}

/** Node, the built tool and the npm modules it loads at run time, under root/tsmd (capture image only). */
function addTsmakedumpfile(root: string, repo: string): void {
  addBinary(root, process.execPath);
  if (basename(process.execPath) !== 'node')
    sh(`ln -sf ${shq(basename(process.execPath))} ${shq(join(root, 'bin', 'node'))}`);
  const t = join(root, 'tsmd');
  mkdirSync(join(t, 'bin'), { recursive: true });
  copyFileSync(join(repo, 'bin', 'tsmakedumpfile'), join(t, 'bin', 'tsmakedumpfile'));
  copyFileSync(join(repo, 'package.json'), join(t, 'package.json'));
  sh(`cp -r ${shq(join(repo, 'dist'))} ${shq(t)}/`);
  const z = join(t, 'node_modules', 'zstd-napi');
  mkdirSync(join(z, 'build', 'Release'), { recursive: true });
  for (const f of ['package.json', 'binding.js']) copyFileSync(join(repo, 'node_modules', 'zstd-napi', f), join(z, f));
  sh(`cp -r ${shq(join(repo, 'node_modules', 'zstd-napi', 'dist'))} ${shq(z)}/`);
  copyFileSync(
    join(repo, 'node_modules', 'zstd-napi', 'build', 'Release', 'binding.node'),
    join(z, 'build', 'Release', 'binding.node'),
  );
  sh(`cp -r ${shq(join(repo, 'node_modules', 'snappyjs'))} ${shq(join(t, 'node_modules'))}/`);
}

/** Copy a binary and its shared libraries into root. */
function addBinary(root: string, bin: string): void {
  copyFileSync(bin, join(root, 'bin', basename(bin)));
  chmodSync(join(root, 'bin', basename(bin)), 0o755);
  const libs = sh(`ldd ${shq(bin)} 2>/dev/null || true`).match(/\/[^\s]+/g) ?? [];
  for (const lib of libs) {
    if (lib === bin) continue;
    const dest = join(root, lib);
    mkdirSync(dirname(dest), { recursive: true });
    if (!existsSync(dest)) sh(`cp -L ${shq(lib)} ${shq(dest)}`);
  }
}

function cpio(root: string, out: string): void {
  sh(`cd ${shq(root)} && find . | cpio -o -H newc --quiet | gzip -1 > ${shq(out)}`);
}

/** Build the capture image and the main image (the capture image plus the kernel to kexec). */
export function buildInitramfs(work: string, plan: GuestPlan): { main: string; modules: string[] } {
  const root = join(work, 'root');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'proc', 'sys', 'dev', 'modules', 'boot', 'tmp'])
    mkdirSync(join(root, d), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  addBinary(root, sh('command -v makedumpfile').trim());
  addBinary(root, sh('command -v kexec').trim());
  // Block driver for the output disk: built in, or modules (with their dependencies).
  const { config, modulesDir } = plan.kernel;
  const mods: string[] = [];
  if (configValue(config, 'CONFIG_BLK_DEV_NVME') === 'm') mods.push(...moduleClosure(modulesDir, ['nvme']));
  else if (configValue(config, 'CONFIG_BLK_DEV_NVME') !== 'y') throw new StepError('kernel has no NVMe driver');
  for (const name of plan.modules ?? []) {
    const key = `CONFIG_${name.toUpperCase()}`;
    if (configValue(config, key) !== 'm') throw new StepError(`${plan.kernel.release}: ${key} is not a module`);
    for (const p of moduleClosure(modulesDir, [name])) if (!mods.includes(p)) mods.push(p);
  }
  for (const p of plan.extraModules ?? []) mods.push(p);
  const order: string[] = [];
  for (const m of mods) {
    let name = basename(m);
    if (name.endsWith('.xz')) {
      name = name.slice(0, -3);
      sh(`xz -dc ${shq(m)} > ${shq(join(root, 'modules', name))}`);
    } else if (name.endsWith('.zst')) {
      name = name.slice(0, -4);
      sh(`zstd -qdc ${shq(m)} > ${shq(join(root, 'modules', name))}`);
    } else copyFileSync(m, join(root, 'modules', name));
    order.push(name);
  }
  writeFileSync(join(root, 'modules', 'order'), `${order.join('\n')}\n`);
  const template = readFileSync(new URL('../../samples/guest-init.sh', import.meta.url), 'utf8');
  writeFileSync(join(root, 'init'), template.replace('@TRIGGER@', plan.trigger), { mode: 0o755 });
  if (plan.tsmakedumpfile) addTsmakedumpfile(root, plan.tsmakedumpfile);
  const capture = join(work, 'capture.img');
  cpio(root, capture);
  // The main image carries the capture image; node itself is only needed in the capture kernel.
  rmSync(join(root, 'tsmd'), { recursive: true, force: true });
  copyFileSync(capture, join(root, 'boot', 'capture.img'));
  copyFileSync(plan.kernel.vmlinuz, join(root, 'boot', 'vmlinuz'));
  const main = join(work, 'main.img');
  cpio(root, main);
  rmSync(root, { recursive: true, force: true });
  return { main, modules: order.map((n) => n.replace(/\.ko$/, '').replace(/-/g, '_')) };
}

/** Which QEMU accelerator to use: TSCRASH_QEMU_ACCEL, else TCG (nested KVM proved unreliable here). */
export function qemuAccel(): string {
  return process.env.TSCRASH_QEMU_ACCEL || 'tcg';
}

function hexArg(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** Boot the guest, let it crash and capture itself; returns the serial log. */
export async function runGuest(work: string, plan: GuestPlan, initrd: string, timeoutMs = 420_000): Promise<string> {
  const disk = join(work, 'out.img');
  rmSync(disk, { force: true });
  // The tar of the captured files goes raw onto this disk: room for the whole memory plus the compressed dumps.
  const memMiB = Number.parseInt(plan.memory, 10) * (/G$/i.test(plan.memory) ? 1024 : 1);
  sh(`truncate -s ${Math.max(2048, memMiB + 1024)}M ${shq(disk)}`);
  const serial = join(work, 'serial.log');
  rmSync(serial, { force: true });
  const monitor = join(work, 'monitor.sock');
  rmSync(monitor, { force: true });
  const args = [
    '-accel',
    qemuAccel(),
    '-m',
    plan.memory,
    '-smp',
    String(plan.cpus),
    '-kernel',
    plan.kernel.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 crashkernel=${plan.crashkernel} panic=-1 loglevel=7${plan.append ? ` ${plan.append}` : ''}`,
    '-display',
    'none',
    '-serial',
    `file:${serial}`,
    '-monitor',
    `unix:${monitor},server,nowait`,
    '-no-reboot',
    '-drive',
    `file=${disk},format=raw,if=none,id=out`,
    '-device',
    'nvme,drive=out,serial=tscrash',
  ];
  log(`qemu ${plan.kernel.release} (${qemuAccel()})`);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const readSerial = (): string => (existsSync(serial) ? readFileSync(serial, 'latin1') : '');
  const deadline = Date.now() + timeoutMs;
  let injected = false;
  let code: number | null | undefined;
  while (code === undefined) {
    const r = await Promise.race([exited, new Promise<undefined>((res) => setTimeout(() => res(undefined), 500))]);
    if (r !== undefined) {
      code = r;
      break;
    }
    if (plan.mce && !injected && readSerial().includes('TSCRASH: workload ready')) {
      const m = plan.mce;
      if (plan.qemuDump) await monitorCommand(monitor, `dump-guest-memory -z ${plan.qemuDump}`, 180_000);
      await monitorCommand(
        monitor,
        `mce ${m.cpu} ${m.bank} ${hexArg(m.status)} ${hexArg(m.mcgStatus)} ${hexArg(m.addr)} ${hexArg(m.misc)}`,
      );
      injected = true;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new StepError(`guest timed out after ${timeoutMs / 1000} s\n${tail(readSerial())}`);
    }
  }
  const out = readSerial();
  if (code !== 0 || !out.includes('TSCRASH: capture done')) {
    throw new StepError(`guest failed (qemu exit ${code}) ${stderr.trim()}\n${tail(out)}`);
  }
  return out;
}

export function tail(text: string, lines = 40): string {
  return `--- guest serial log (tail) ---\n${text.split('\n').slice(-lines).join('\n')}`;
}

/** Send one command to QEMU's human monitor over its unix socket. */
function monitorCommand(path: string, cmd: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let got = '';
    let sent = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new StepError(`qemu monitor: no answer to ${cmd}`));
    }, timeoutMs);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (!sent && got.includes('(qemu)')) {
        sent = true;
        got = '';
        sock.write(`${cmd}\n`);
        // The monitor echoes the input (with terminal escapes); wait for the next prompt.
      } else if (sent && got.includes('(qemu)')) {
        clearTimeout(timer);
        sock.end();
        // biome-ignore lint/suspicious/noControlCharactersInRegex: strip terminal escapes
        resolve(got.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new StepError(`qemu monitor: ${e.message}`));
    });
  });
}

/** Unpack the tar stream the capture kernel wrote onto the output disk. */
export function unpackDisk(work: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  run('tar', ['-x', '-f', join(work, 'out.img'), '-C', dest]);
  rmSync(join(work, 'out.img'), { force: true });
}
