/**
 * The `kdump-tools` sample case: Debian's own kdump (kdump-tools, kexec-tools, initramfs-tools, systemd) on a
 * debootstrap'd bookworm root, crashed under QEMU, with tsmakedumpfile as the core collector and, in a second boot
 * of the same root, Debian's makedumpfile. The host reads kdump-tools' /var/crash/STAMP/{dump,dmesg}.STAMP back out
 * of the ext4 image with debugfs (no loop mount), and the raw /proc/vmcore off a second disk.
 *
 * The root is built once per package list and configuration (cache/rootfs/kdump-tools-KEY); each build copies it,
 * adds this repository's payload (node and the bundled tsmakedumpfile) and makes the images with mkfs.ext4 -d.
 *
 *   node dist/samples/kdumptools.js --probe 192M [--collector NAME]   boots both collectors (or the one named) with
 *       that reservation (no raw copy) and says whether each saved its dump: the crashkernel= figures.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { qemuAccel, tail } from './guest.js';
import { log, run, StepError, sh, shq } from './run.js';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
/** debootstrap's own --include (minbase has no init, udev or initramfs-tools). */
const BASE = ['systemd-sysv', 'udev', 'initramfs-tools', 'e2fsprogs', 'kmod'];
/** What the administrator installs for kdump, plus the kernel the other cases run (apt-get in the chroot). */
const KDUMP = ['kdump-tools', 'kexec-tools', 'makedumpfile'];
const GUEST_FILES = new URL('../../samples/kdump-tools/', import.meta.url);

export type Collector = 'tsmakedumpfile' | 'makedumpfile';
export const COLLECTORS: Collector[] = ['tsmakedumpfile', 'makedumpfile'];
/** Manifest key prefix of each collector's run. */
export const COLLECTOR_KEY: Record<Collector, string> = { tsmakedumpfile: 'ts', makedumpfile: 'mdf' };

/** Files of each run in the case directory: kdump-tools' dump and dmesg, the raw core, makedumpfile's dmesg of it. */
export const RUN_FILES = ['dump', 'dmesg', 'vmcore.elf', 'raw-dmesg'] as const;

function guestFile(name: string): string {
  return fileURLToPath(new URL(name, GUEST_FILES));
}

function rootKey(release: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ SUITE, MIRROR, BASE, KDUMP, release }));
  for (const f of ['setup-root.sh', 'tscrash-crash.service', 'tscrash-crash', 'tscrash-raw-vmcore', 'tscrash-raw.conf'])
    h.update(readFileSync(guestFile(f)));
  return h.digest('hex').slice(0, 16);
}

function chroot(root: string, script: string): string {
  return run('chroot', [root, 'sh', '-c', script], {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C.UTF-8', HOME: '/root' },
  });
}

/**
 * Is the guest root of today's package lists and guest files built? (A case built from another root is rebuilt:
 * a new root replaces the old ones.)
 */
export function rootfsReady(cache: string, release: string): boolean {
  return existsSync(join(cache, 'rootfs', `kdump-tools-${rootKey(release)}`, '.complete'));
}

/** The configured guest root for this kernel release, built on first use. Returns its directory. */
export function ensureRootfs(cache: string, release: string): { root: string; seconds?: number } {
  const dir = join(cache, 'rootfs', `kdump-tools-${rootKey(release)}`);
  if (existsSync(join(dir, '.complete'))) return { root: join(dir, 'root') };
  if (process.getuid?.() !== 0) throw new StepError('the kdump-tools case builds its guest root as root (debootstrap)');
  // debootstrap, mkfs.ext4 and debugfs are host tools (debian.ts ensureHostTools).
  const t0 = Date.now();
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const root = join(tmp, 'root');
  log(`debootstrap ${SUITE} (${BASE.join(', ')})`);
  run('debootstrap', ['--variant=minbase', `--include=${BASE.join(',')}`, SUITE, root, MIRROR], { timeout: 900_000 });
  // The host's apt sources (bookworm, its updates and security: the kernel the other cases use comes from there).
  rmSync(join(root, 'etc/apt/sources.list'), { force: true });
  copyFileSync('/etc/apt/sources.list.d/debian.sources', join(root, 'etc/apt/sources.list.d/debian.sources'));
  // No service starts inside the chroot.
  sh(`printf '#!/bin/sh\\nexit 101\\n' > ${shq(join(root, 'usr/sbin/policy-rc.d'))}`);
  sh(`chmod 755 ${shq(join(root, 'usr/sbin/policy-rc.d'))}`);
  log(`apt-get install linux-image-${release} ${KDUMP.join(' ')}`);
  chroot(
    root,
    `apt-get update -q && apt-get install -y -q --no-install-recommends linux-image-${release} ${KDUMP.join(' ')}`,
  );
  for (const [f, dest, mode] of [
    ['tscrash-crash.service', 'etc/systemd/system/tscrash-crash.service', '644'],
    ['tscrash-crash', 'usr/local/sbin/tscrash-crash', '755'],
    ['tscrash-raw-vmcore', 'usr/local/sbin/tscrash-raw-vmcore', '755'],
    ['tscrash-raw.conf', 'etc/systemd/system/kdump-tools-dump.service.d/tscrash-raw.conf', '644'],
    ['setup-root.sh', 'tmp/setup-root.sh', '755'],
  ] as const) {
    mkdirSync(join(root, dest, '..'), { recursive: true });
    copyFileSync(guestFile(f), join(root, dest));
    sh(`chmod ${mode} ${shq(join(root, dest))}`);
  }
  log('configuring kdump-tools');
  chroot(root, `sh /tmp/setup-root.sh ${shq(release)} && rm /tmp/setup-root.sh /usr/sbin/policy-rc.d && apt-get clean`);
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  sh(`touch ${shq(join(tmp, '.complete'))}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  // Roots of other package lists or configurations are not used again.
  for (const d of readdirSync(join(cache, 'rootfs')))
    if (d.startsWith('kdump-tools-') && join(cache, 'rootfs', d) !== dir)
      rmSync(join(cache, 'rootfs', d), { recursive: true, force: true });
  return { root: join(dir, 'root'), seconds: (Date.now() - t0) / 1000 };
}

/** Bytes under a directory (files' apparent sizes). */
function duBytes(path: string): number {
  return Number.parseInt(sh(`du -sb ${shq(path)}`).split('\t')[0]!, 10);
}

export interface Image {
  disk: string;
  /** Bytes of what the collector brings onto the root (node and the bundle; makedumpfile's binary). */
  payloadBytes: number;
}

/**
 * The guest's disk for one collector: the cached root copied, tsmakedumpfile put in makedumpfile's place when asked
 * (a dpkg diversion and a wrapper), made into an ext4 image by mkfs.ext4 -d.
 */
export function makeImage(rootfs: string, work: string, collector: Collector, repo: string): Image {
  const root = join(work, `root-${collector}`);
  rmSync(root, { recursive: true, force: true });
  run('cp', ['-a', rootfs, root]);
  let payloadBytes: number;
  if (collector === 'tsmakedumpfile') {
    const lib = join(root, 'usr/lib/tsmakedumpfile');
    mkdirSync(join(lib, 'bundle'), { recursive: true });
    copyFileSync(process.execPath, join(lib, 'node'));
    sh(`chmod 755 ${shq(join(lib, 'node'))}`);
    // The bundled entry point and its chunks; -c is zlib (node's own), so no npm module rides along.
    const bundle = join(repo, 'dist', 'bundle');
    if (!existsSync(join(bundle, 'tsmakedumpfile.js')))
      throw new StepError(`${bundle}/tsmakedumpfile.js missing (run npm run build)`);
    for (const f of readdirSync(bundle)) if (f.endsWith('.js')) copyFileSync(join(bundle, f), join(lib, 'bundle', f));
    sh(`echo '{"type":"module"}' > ${shq(join(lib, 'package.json'))}`);
    chroot(root, 'dpkg-divert --local --rename --divert /usr/bin/makedumpfile.distrib --add /usr/bin/makedumpfile');
    copyFileSync(guestFile('makedumpfile-wrapper'), join(root, 'usr/bin/makedumpfile'));
    sh(`chmod 755 ${shq(join(root, 'usr/bin/makedumpfile'))}`);
    payloadBytes = duBytes(lib);
  } else {
    payloadBytes = statSync(join(root, 'usr/bin/makedumpfile')).size;
  }
  const disk = join(work, `disk-${collector}.img`);
  rmSync(disk, { force: true });
  run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', root, disk, '3G']);
  rmSync(root, { recursive: true, force: true });
  return { disk, payloadBytes };
}

/** Unpacked bytes of an initramfs (the guest's own unmkinitramfs, run in the root). */
export function unpackedInitrd(rootfs: string, path: string): number {
  const out = join(rootfs, 'tmp', 'tscrash-unpacked');
  rmSync(out, { recursive: true, force: true });
  run('chroot', [rootfs, 'unmkinitramfs', path, '/tmp/tscrash-unpacked']);
  const n = duBytes(out);
  rmSync(out, { recursive: true, force: true });
  return n;
}

export interface BootPlan {
  release: string;
  rootfs: string;
  disk: string;
  /** Second disk for the raw /proc/vmcore (omitted: tscrash.noraw). */
  raw?: string;
  memory: string;
  crashkernel: string;
  timeoutMs: number;
}

/** Boot the image until kdump-tools reboots out of the capture kernel (QEMU -no-reboot exits). Returns the serial log. */
export async function bootGuest(work: string, plan: BootPlan, tag: string): Promise<string> {
  const serial = join(work, `serial-${tag}.log`);
  rmSync(serial, { force: true });
  const append = [
    'root=/dev/vda',
    'rw',
    'console=ttyS0',
    `crashkernel=${plan.crashkernel}`,
    'panic=-1',
    ...(plan.raw ? [] : ['tscrash.noraw']),
  ].join(' ');
  const args = [
    '-accel',
    qemuAccel(),
    '-m',
    plan.memory,
    '-smp',
    '2',
    '-kernel',
    join(plan.rootfs, 'boot', `vmlinuz-${plan.release}`),
    '-initrd',
    join(plan.rootfs, 'boot', `initrd.img-${plan.release}`),
    '-append',
    append,
    '-display',
    'none',
    '-serial',
    `file:${serial}`,
    '-monitor',
    'none',
    '-no-reboot',
    '-drive',
    `file=${plan.disk},format=raw,if=virtio`,
  ];
  if (plan.raw) args.push('-drive', `file=${plan.raw},format=raw,if=virtio`);
  log(`qemu kdump-tools ${tag} crashkernel=${plan.crashkernel} (${qemuAccel()})`);
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, plan.timeoutMs);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const out = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  if (code !== 0) throw new StepError(`kdump-tools guest ${tag}: qemu exit ${code} ${stderr.trim()}\n${tail(out)}`);
  return out;
}

export interface Saved {
  dump?: string;
  dmesg?: string;
}

/** Read /var/crash back out of the image (debugfs rdump) and find kdump-tools' STAMP/dump.STAMP and dmesg.STAMP. */
export function readCrashDir(disk: string, out: string): Saved {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  run('debugfs', ['-R', `rdump /var/crash ${out}`, disk]);
  const crash = join(out, 'crash');
  const stamps = existsSync(crash) ? readdirSync(crash).filter((d) => /^\d{12}$/.test(d)) : [];
  if (stamps.length !== 1) return {};
  const d = join(crash, stamps[0]!);
  const names = readdirSync(d);
  const dump = names.find((n) => n === `dump.${stamps[0]}`);
  const dmesg = names.find((n) => n === `dmesg.${stamps[0]}`);
  return { dump: dump && join(d, dump), dmesg: dmesg && join(d, dmesg) };
}

/** One collector's run for the case: image, boot, files in DIR/PREFIX-{dump,dmesg,vmcore.elf}. */
export async function captureRun(
  rootfs: string,
  release: string,
  work: string,
  dir: string,
  collector: Collector,
  repo: string,
  memory: string,
  crashkernel: string,
): Promise<{ seconds: number; payloadBytes: number; serial: string }> {
  const t0 = Date.now();
  const image = makeImage(rootfs, work, collector, repo);
  const raw = join(work, `raw-${collector}.img`);
  rmSync(raw, { force: true });
  sh(`truncate -s ${Number.parseInt(memory, 10) + 256}M ${shq(raw)}`);
  const serial = await bootGuest(
    work,
    { release, rootfs, disk: image.disk, raw, memory, crashkernel, timeoutMs: 900_000 },
    collector,
  );
  const key = COLLECTOR_KEY[collector];
  const saved = readCrashDir(image.disk, join(work, `crash-${collector}`));
  if (!saved.dump || !saved.dmesg)
    throw new StepError(`kdump-tools ${collector}: no dump.STAMP and dmesg.STAMP in /var/crash\n${tail(serial, 60)}`);
  renameSync(saved.dump, join(dir, `${key}-dump`));
  renameSync(saved.dmesg, join(dir, `${key}-dmesg`));
  const rawDir = join(work, `raw-${collector}`);
  mkdirSync(rawDir, { recursive: true });
  run('tar', ['-x', '-f', raw, '-C', rawDir]);
  if (!existsSync(join(rawDir, 'vmcore')))
    throw new StepError(`kdump-tools ${collector}: no raw vmcore on the second disk\n${tail(serial, 60)}`);
  renameSync(join(rawDir, 'vmcore'), join(dir, `${key}-vmcore.elf`));
  rmSync(raw, { force: true });
  rmSync(image.disk, { force: true });
  return { seconds: (Date.now() - t0) / 1000, payloadBytes: image.payloadBytes, serial };
}

/** --probe SIZE: does each collector still capture with crashkernel=SIZE? */
async function probe(size: string, only?: Collector): Promise<void> {
  const { resolveRelease } = await import('./debian.js');
  const cache = process.env.TSCRASH_SAMPLES || join(homedir(), '.cache', 'tscrash', 'samples');
  const release = resolveRelease('linux-image-cloud-amd64');
  const { root } = ensureRootfs(cache, release);
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const work = join(cache, `kdump-tools-probe-${size}.tmp`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o700 });
  try {
    for (const collector of only ? [only] : COLLECTORS) {
      const t0 = Date.now();
      const image = makeImage(root, work, collector, repo);
      const serial = await bootGuest(
        work,
        { release, rootfs: root, disk: image.disk, memory: '768M', crashkernel: size, timeoutMs: 900_000 },
        `${collector}-${size}`,
      );
      const saved = readCrashDir(image.disk, join(work, `crash-${collector}`));
      // kdump-config pipes the collector into its file and checks the pipe's last command only: the collector's own
      // "Completed." for the dmesg and for the dump says it finished.
      const completed = serial.match(/makedumpfile Completed\./g)?.length ?? 0;
      const ok = Boolean(saved.dump && saved.dmesg && statSync(saved.dump).size > 0 && completed >= 2);
      process.stdout.write(
        `${collector} crashkernel=${size}: ${ok ? `captured (dump ${statSync(saved.dump!).size} bytes)` : 'NO DUMP'} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
      );
      if (!ok) process.stdout.write(`${tail(serial, 40)}\n`);
      rmSync(image.disk, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { probe: { type: 'string' }, collector: { type: 'string' } } });
  if (!values.probe) {
    process.stderr.write(
      'usage: node dist/samples/kdumptools.js --probe 192M [--collector tsmakedumpfile|makedumpfile]\n',
    );
    process.exit(2);
  }
  const only = values.collector as Collector | undefined;
  if (only && !COLLECTORS.includes(only)) {
    process.stderr.write(`--collector: one of ${COLLECTORS.join(', ')}\n`);
    process.exit(2);
  }
  probe(values.probe, only).catch((e: unknown) => {
    process.stderr.write(`kdumptools: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
