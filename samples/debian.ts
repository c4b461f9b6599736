/**
 * Debian side of the sample builder: the host tools, and the kernel packages
 * (resolved through the meta packages, since security updates retire old
 * versions), extracted into the cache.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { log, run, StepError, sh, shq, which } from './run.js';

/** Commands we need on the host and the Debian package providing each. */
const HOST_TOOLS: [string, string][] = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['kexec', 'kexec-tools'],
  ['makedumpfile', 'makedumpfile'],
  ['crash', 'crash'],
  ['pahole', 'dwarves'],
  ['cpio', 'cpio'],
  ['modinfo', 'kmod'],
  ['readelf', 'binutils'],
  // gdb prints strings the way crash's embedded gdb does: the oracle of the char-array tests.
  ['gdb', 'gdb'],
  // A real terminal for the interactive session's tests.
  ['tmux', 'tmux'],
  // A real browser for the tests of triage --html (headless: its DOM and screenshots).
  ['chromium', 'chromium'],
  // The sample cases' crash module (samples/module), built against the kernel's headers package.
  ['make', 'make'],
  ['gcc', 'gcc'],
  // elfutils' debuginfod server and client, for the tests of the vmlinux by build-id (its -U scan runs bsdtar).
  ['debuginfod', 'debuginfod'],
  ['debuginfod-find', 'debuginfod'],
  ['bsdtar', 'libarchive-tools'],
  // The kdump-tools case: its guest root, its ext4 images (mkfs.ext4 -d) and the way back out of them (debugfs).
  ['debootstrap', 'debootstrap'],
  ['mkfs.ext4', 'e2fsprogs'],
  ['debugfs', 'e2fsprogs'],
];

let updated = false;
function aptUpdate(): void {
  if (updated) return;
  log('apt-get update');
  run('apt-get', ['update', '-q']);
  updated = true;
}

export function ensureHostTools(): void {
  const missing = new Set<string>();
  for (const [cmd, pkg] of HOST_TOOLS) if (!which(cmd)) missing.add(pkg);
  if (!drgnImports()) missing.add('python3-drgn');
  // liblzo2: the writer's tests check our LZO1X output with the reference decompressor.
  if (!['/usr/lib/x86_64-linux-gnu/liblzo2.so.2', '/lib/x86_64-linux-gnu/liblzo2.so.2'].some((p) => existsSync(p))) {
    missing.add('liblzo2-2');
  }
  // The time zones the date tests compare crash and date(1) in.
  if (!existsSync('/usr/share/zoneinfo/Asia/Kolkata')) missing.add('tzdata');
  // busybox must be the static build: it runs inside the guest with no libraries.
  if (!existsSync('/bin/busybox') || !sh('ldd /bin/busybox 2>&1 || true').includes('not a dynamic')) {
    missing.add('busybox-static');
  }
  if (missing.size === 0) return;
  if (process.getuid?.() !== 0) {
    throw new StepError(`missing Debian packages: ${[...missing].join(' ')} (run as root, or install them)`);
  }
  aptUpdate();
  log(`installing ${[...missing].join(' ')}`);
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function drgnImports(): boolean {
  try {
    run('/usr/bin/python3', ['-c', 'import drgn'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Debian's headers for building modules against a kernel (/usr/src/linux-headers-RELEASE, which pulls in its
 * compiler and kbuild): installed when missing. Returns the directory.
 */
export function ensureHeaders(release: string): string {
  const dir = `/usr/src/linux-headers-${release}`;
  if (existsSync(join(dir, 'Makefile'))) return dir;
  if (process.getuid?.() !== 0) {
    throw new StepError(`missing Debian package: linux-headers-${release} (run as root, or install it)`);
  }
  const install = (): string =>
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', `linux-headers-${release}`], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      allowFail: true,
    });
  log(`installing linux-headers-${release}`);
  let out = install();
  if (!existsSync(join(dir, 'Makefile'))) {
    aptUpdate();
    out = install();
  }
  if (!existsSync(join(dir, 'Makefile'))) throw new StepError(`linux-headers-${release}: no ${dir}/Makefile\n${out}`);
  return dir;
}

/** `linux-image-cloud-amd64` → `6.1.0-56-cloud-amd64` (the current version). */
export function resolveRelease(meta: string): string {
  const find = (): string | undefined => {
    const out = run('apt-cache', ['depends', meta], { allowFail: true });
    const m = /Depends: linux-image-(\d[^\s]*)/.exec(out);
    return m?.[1]?.replace(/-unsigned$/, '');
  };
  let rel = find();
  if (!rel) {
    aptUpdate();
    rel = find();
  }
  if (!rel) throw new StepError(`cannot resolve the kernel behind ${meta} (apt-cache depends ${meta})`);
  return rel;
}

function download(pkg: string, debs: string): string {
  mkdirSync(debs, { recursive: true });
  const have = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (have) return join(debs, have);
  log(`downloading ${pkg}`);
  let out = run('apt-get', ['download', '-q', pkg], { cwd: debs, allowFail: true });
  let got = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!got) {
    aptUpdate();
    out = run('apt-get', ['download', '-q', pkg], { cwd: debs });
    got = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  }
  if (!got) throw new StepError(`apt-get download ${pkg} produced no .deb\n${out}`);
  return join(debs, got);
}

/** Remove cached debs of kernels other than the ones in use. */
export function pruneDebs(debs: string, releases: string[]): void {
  if (!existsSync(debs)) return;
  for (const f of readdirSync(debs)) {
    if (!f.startsWith('linux-image-')) continue;
    if (!releases.some((r) => f.startsWith(`linux-image-${r}-unsigned_`) || f.startsWith(`linux-image-${r}-dbg_`))) {
      unlinkSync(join(debs, f));
    }
  }
}

export interface KernelFiles {
  release: string;
  dir: string;
  vmlinux: string;
  vmlinuz: string;
  config: string;
  systemMap: string;
  modulesDir: string;
}

/**
 * Debian's image package ships a placeholder System.map ("The real System.map is in the linux-image-<version>-dbg
 * package"); the real one is in -dbg, as boot/System.map-RELEASE under usr/lib/debug.
 */
export function realSystemMap(cache: string, release: string, path: string): void {
  if (statSync(path).size >= 4096) return;
  const dbg = download(`linux-image-${release}-dbg`, join(cache, 'debs'));
  log(`extracting System.map of ${release}`);
  sh(
    `dpkg-deb --fsys-tarfile ${shq(dbg)} | tar -x -O --wildcards '*/boot/System.map-*' > ${shq(path)}.tmp && mv ${shq(path)}.tmp ${shq(path)}`,
  );
  if (statSync(path).size < 4096) {
    // A kernel whose -dbg has none: the map the kernel's build makes (scripts/mksysmap is nm -n of the vmlinux).
    log(`linux-image-${release}-dbg holds no System.map: making one with nm -n from its vmlinux`);
    sh(`nm -n ${shq(join(dirname(path), 'vmlinux'))} > ${shq(path)}.tmp && mv ${shq(path)}.tmp ${shq(path)}`);
  }
}

/** Download and extract one kernel: vmlinuz, config, System.map, modules, and the debug vmlinux. */
export function ensureKernel(cache: string, release: string): KernelFiles {
  const dir = join(cache, 'kernels', release);
  const files: KernelFiles = {
    release,
    dir,
    vmlinux: join(dir, 'vmlinux'),
    vmlinuz: join(dir, 'vmlinuz'),
    config: join(dir, 'config'),
    systemMap: join(dir, 'System.map'),
    modulesDir: join(dir, 'modules'),
  };
  if (existsSync(join(dir, '.complete'))) {
    realSystemMap(cache, release, files.systemMap);
    return files;
  }
  const debs = join(cache, 'debs');
  const unsigned = download(`linux-image-${release}-unsigned`, debs);
  const dbg = download(`linux-image-${release}-dbg`, debs);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`extracting ${release}`);
  const x = join(tmp, 'x');
  mkdirSync(x);
  run('dpkg-deb', ['-x', unsigned, x]);
  sh(
    `mv ${shq(x)}/boot/vmlinuz-* ${shq(tmp)}/vmlinuz && mv ${shq(x)}/boot/config-* ${shq(tmp)}/config && ` +
      `mv ${shq(x)}/boot/System.map-* ${shq(tmp)}/System.map && mv ${shq(x)}/lib/modules/* ${shq(tmp)}/modules`,
  );
  rmSync(x, { recursive: true, force: true });
  // One pass over -dbg for the vmlinux and the real System.map (when the image package's is a placeholder).
  const wantMap = statSync(join(tmp, 'System.map')).size < 4096;
  sh(
    `dpkg-deb --fsys-tarfile ${shq(dbg)} | tar -x -C ${shq(tmp)} --wildcards '*/boot/vmlinux-*'${wantMap ? ` '*/boot/System.map-*'` : ''} && ` +
      `mv ${shq(tmp)}/usr/lib/debug/boot/vmlinux-* ${shq(tmp)}/vmlinux && ` +
      (wantMap ? `mv ${shq(tmp)}/usr/lib/debug/boot/System.map-* ${shq(tmp)}/System.map && ` : '') +
      `rm -rf ${shq(tmp)}/usr`,
  );
  realSystemMap(cache, release, join(tmp, 'System.map'));
  sh(`touch ${shq(tmp)}/.complete`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return files;
}

/** CONFIG_X value from the kernel config: 'y', 'm' or undefined. */
export function configValue(config: string, key: string): string | undefined {
  const m = new RegExp(`^${key}=(.*)$`, 'm').exec(sh(`cat ${shq(config)}`));
  return m?.[1];
}

/** A module and everything it depends on, deepest first, as .ko paths. */
export function moduleClosure(modulesDir: string, names: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const find = (name: string): string => {
    const p = sh(
      `find ${shq(modulesDir)} -name ${shq(`${name}.ko*`)} -o -name ${shq(`${name.replace(/_/g, '-')}.ko*`)} | head -1`,
    ).trim();
    if (!p) throw new StepError(`module ${name} not found under ${modulesDir}`);
    return p;
  };
  const visit = (name: string): void => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key)) return;
    seen.add(key);
    const path = find(name);
    const deps = run('modinfo', ['-F', 'depends', path]).trim();
    for (const d of deps.split(',').filter(Boolean)) visit(d);
    out.push(path);
  };
  for (const n of names) visit(n);
  return out;
}

/**
 * The debug objects (.ko with DWARF) of the named modules, extracted from the kernel's -dbg package into
 * ROOT/usr/lib/debug/lib/modules/RELEASE/... (the package's layout); ROOT/.complete lists the names, sorted.
 * Returns the objects' paths.
 */
export function extractModuleDebug(cache: string, release: string, names: string[], root: string): string[] {
  const dbg = download(`linux-image-${release}-dbg`, join(cache, 'debs'));
  mkdirSync(root, { recursive: true });
  if (names.length) {
    log(`extracting the debug objects of ${names.length} modules`);
    const patterns = names.flatMap((n) => [
      `./usr/lib/debug/lib/modules/${release}/*/${n}.ko`,
      `./usr/lib/debug/lib/modules/${release}/*/${n.replace(/_/g, '-')}.ko`,
    ]);
    // tar exits 2 for the spellings that are not in the package; what it found is checked below.
    sh(`dpkg-deb --fsys-tarfile ${shq(dbg)} | tar -x -C ${shq(root)} --wildcards ${patterns.map(shq).join(' ')}`, {
      allowFail: true,
    });
  }
  const found = new Map<string, string>();
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.ko')) found.set(e.name.slice(0, -3).replace(/-/g, '_'), join(d, e.name));
    }
  };
  walk(join(root, 'usr'));
  const missing = names.filter((n) => !found.has(n.replace(/-/g, '_')));
  if (missing.length) throw new StepError(`linux-image-${release}-dbg has no debug object for ${missing.join(', ')}`);
  writeFileSync(join(root, '.complete'), [...names.map((n) => n.replace(/-/g, '_'))].sort().join('\n'));
  return names.map((n) => found.get(n.replace(/-/g, '_'))!);
}
