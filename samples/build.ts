/**
 * `npm run samples`: real vmcores from Debian's own kernels, crashed for real
 * under QEMU and captured by in-guest kdump, plus the oracle outputs of crash,
 * drgn, makedumpfile and pahole on them. Cached in ~/.cache/tscrash/samples
 * (TSCRASH_SAMPLES overrides); a re-run reuses what is complete and valid.
 *
 *   node dist/samples/build.js [--case NAME] [--force] [--verify] [--print-env CASE] [--fresh DIR]
 *
 * --fresh DIR builds everything from nothing into DIR (new or empty); `TSCRASH_SAMPLES=DIR npm test` then runs the
 * suite on that build.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  configValue,
  ensureHostTools,
  ensureKernel,
  extractModuleDebug,
  type KernelFiles,
  pruneDebs,
  realSystemMap,
  resolveRelease,
} from './debian.js';
import { buildInitramfs, type GuestPlan, type McePlan, qemuAccel, runGuest, unpackDisk } from './guest.js';
import {
  COLLECTOR_KEY,
  COLLECTORS,
  captureRun,
  ensureRootfs,
  RUN_FILES,
  rootfsReady,
  unpackedInitrd,
} from './kdumptools.js';
import { FILE_KEYS, ORACLE_ENV } from './manifest.js';
import { CRASH_MODULE, crashModule, crashModuleId } from './module.js';
import { hostDumps, panicString, runCrash, runDrgn, runPahole } from './oracles.js';
import { log, run, StepError, sh, sha256File, shq } from './run.js';

export const MANIFEST_VERSION = 4;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  version: number;
  case: string;
  release: string;
  buildId: string;
  vmlinux: string;
  systemMap: string;
  files: Record<string, ManifestFile>;
  oracle: Record<string, string>;
  facts: Record<string, unknown>;
}

export function samplesDir(): string {
  return process.env.TSCRASH_SAMPLES || join(homedir(), '.cache', 'tscrash', 'samples');
}

interface CaseDef {
  name: string;
  meta: string;
  trigger: string;
  mce?: McePlan;
  /** Also save the live guest with QEMU's own kdump-zlib writer (dump-guest-memory -z). */
  qemuDump?: boolean;
  /** The capture kernel also runs this repository's tsmakedumpfile as the core collector (a larger guest). */
  tsmakedumpfile?: boolean;
  /** Guest memory and crashkernel reservation, when not the default 512M / 192M. */
  memory?: string;
  crashkernel?: string;
  /**
   * Modules loaded in the guest beyond the output disk's driver. ata_piix drives QEMU's IDE controller: its SCSI
   * error-handler threads sleep in scsi_mod's scsi_error_handler, so backtraces have module frames.
   */
  modules?: string[];
  /** Built only when asked for by name (npm run bench builds it): not a test sample. */
  benchOnly?: boolean;
  /** The guest loads our crash module (samples/module, built against the kernel's headers); the trigger uses it. */
  crashModule?: boolean;
  /** More words for the crashing kernel's command line (what makes this death a panic). */
  append?: string;
  /** crash cannot read this kernel (why): no crash oracle, drgn's and makedumpfile's only. */
  noCrash?: string;
  /** Kernel options the crash needs, checked in the kernel's config before the guest boots. */
  config?: string[];
  /** Debian's own kdump-tools on a debootstrap'd root, both collectors (samples/kdumptools.ts). */
  kdumpTools?: boolean;
}

/** A fatal uncorrected memory-read error: VAL UC EN MISCV ADDRV PCC, MCA code 0x0090 (memory controller read, channel 0). */
const INJECTED_MCE: McePlan = {
  cpu: 0,
  bank: 1,
  status: 0xbe00000000800090n,
  mcgStatus: 0x5n, // RIPV | MCIP
  addr: 0x12345000n,
  misc: 0x8cn,
};

const CASES: CaseDef[] = [
  { name: 'sysrq', meta: 'linux-image-cloud-amd64', trigger: 'echo c > /proc/sysrq-trigger' },
  {
    name: 'mce',
    meta: 'linux-image-amd64',
    trigger: 'echo "TSCRASH: waiting for the machine check"',
    mce: INJECTED_MCE,
    qemuDump: true,
    modules: ['ata_piix'],
  },
  {
    name: 'capture',
    meta: 'linux-image-cloud-amd64',
    trigger: 'echo c > /proc/sysrq-trigger',
    tsmakedumpfile: true,
    // node and the tool make the capture image ~140 MB unpacked: a larger reservation, and a guest to hold it.
    memory: '1536M',
    crashkernel: '512M',
  },
  // Triage cases: a real death of each class (test/commands/triage-classes.test.ts). The module's crashes run in
  // the writer's context (the guest's /init); oops=panic makes an oops in a task a panic.
  {
    name: 'oops',
    meta: 'linux-image-cloud-amd64',
    crashModule: true,
    append: 'oops=panic',
    trigger: 'echo oops > /proc/tscrash_crash',
  },
  {
    name: 'bug',
    meta: 'linux-image-cloud-amd64',
    crashModule: true,
    append: 'oops=panic',
    trigger: 'echo bug > /proc/tscrash_crash',
  },
  {
    name: 'gpf',
    meta: 'linux-image-cloud-amd64',
    crashModule: true,
    append: 'oops=panic',
    trigger: 'echo gpf > /proc/tscrash_crash',
  },
  // A soft lockup is reported after 2 * watchdog_thresh seconds of a CPU not scheduling.
  {
    name: 'softlockup',
    meta: 'linux-image-cloud-amd64',
    crashModule: true,
    append: 'softlockup_panic=1 watchdog_thresh=5',
    config: ['CONFIG_SOFTLOCKUP_DETECTOR'],
    trigger: 'echo softlockup > /proc/tscrash_crash',
  },
  // khungtaskd panics once a task has been in D state for hung_task_timeout_secs across two of its checks.
  {
    name: 'hung',
    meta: 'linux-image-cloud-amd64',
    crashModule: true,
    append: 'hung_task_panic=1',
    config: ['CONFIG_DETECT_HUNG_TASK'],
    trigger: 'echo 5 > /proc/sys/kernel/hung_task_timeout_secs; echo hung > /proc/tscrash_crash',
  },
  // dd's 1 GiB buffer, filled by read(2) of /dev/zero, outgrows the guest (overcommit lets it map the buffer).
  {
    name: 'oom',
    meta: 'linux-image-cloud-amd64',
    trigger:
      'echo 1 > /proc/sys/vm/overcommit_memory; echo 1 > /proc/sys/vm/panic_on_oom; dd if=/dev/zero of=/dev/null bs=1G count=1',
  },
  // The sysrq crash on Debian's 6.12 kernel (bookworm's security updates carry it).
  {
    name: 'k612',
    meta: 'linux-image-6.12-amd64',
    trigger: 'echo c > /proc/sysrq-trigger',
    noCrash: 'crash 8.0.2 stops at start on 6.12 (read error: kernel virtual address: ... type: "page_offset_base")',
  },
  // Debian's kdump-tools as an administrator runs it (systemd, initramfs-tools, /var/crash), crashkernel=256M:
  // tsmakedumpfile in makedumpfile's place, then makedumpfile itself, on two boots of the same root.
  {
    name: 'kdump-tools',
    meta: 'linux-image-cloud-amd64',
    trigger: 'echo c > /proc/sysrq-trigger',
    memory: '768M',
    crashkernel: '256M',
    kdumpTools: true,
  },
  // A 4 GB guest for the tsmakedumpfile benchmark on a larger core (bench/makedumpfile.ts --case big).
  {
    name: 'big',
    meta: 'linux-image-cloud-amd64',
    trigger: 'echo c > /proc/sysrq-trigger',
    memory: '4096M',
    crashkernel: '256M',
    benchOnly: true,
  },
];

function buildIdOf(vmlinux: string): string {
  const m = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', vmlinux]));
  if (!m) throw new StepError(`no build id in ${vmlinux}`);
  return m[1]!;
}

/** Quick check (sizes, or full sha256 with `full`): is the cached case complete? */
export function checkManifest(path: string, full: boolean, keys: string[] = Object.keys(FILE_KEYS)): Manifest | string {
  if (!existsSync(path)) return 'missing';
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    return `unreadable manifest: ${(e as Error).message}`;
  }
  if (m.version !== MANIFEST_VERSION) return 'old manifest version';
  for (const key of keys) if (!m.files[key]) return `manifest lacks ${key}`;
  for (const [key, f] of Object.entries(m.files)) {
    if (!existsSync(f.path)) return `${key}: ${f.path} missing`;
    if (statSync(f.path).size !== f.size) return `${key}: size differs`;
    if (full && sha256File(f.path) !== f.sha256) return `${key}: sha256 differs`;
  }
  for (const [key, p] of Object.entries(m.oracle)) if (!existsSync(p)) return `oracle ${key} missing`;
  if (!existsSync(m.vmlinux)) return 'vmlinux missing';
  return m;
}

/** A case's build directory, new and empty (`NAME.tmp`, renamed to NAME when the case is built), and its work/. */
function freshCaseDir(def: CaseDef): { root: string; final: string; dir: string; work: string } {
  const root = samplesDir();
  const final = join(root, def.name);
  const dir = `${final}.tmp`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const work = join(dir, 'work');
  mkdirSync(work);
  return { root, final, dir, work };
}

async function buildCase(def: CaseDef, kernel: KernelFiles): Promise<Manifest> {
  const { root, final, dir, work } = freshCaseDir(def);
  for (const key of ['CONFIG_KEXEC', 'CONFIG_CRASH_DUMP', ...(def.config ?? [])]) {
    if (configValue(kernel.config, key) !== 'y') throw new StepError(`${def.name}: ${kernel.release} has no ${key}`);
  }
  let ours: string | undefined;
  if (def.crashModule) {
    for (const key of ['CONFIG_MODULES', 'CONFIG_PROC_FS']) {
      if (configValue(kernel.config, key) !== 'y') throw new StepError(`${def.name}: ${kernel.release} has no ${key}`);
    }
    ours = join(dir, `${CRASH_MODULE}.ko`);
    copyFileSync(crashModule(root, kernel.release), ours);
  }
  const plan: GuestPlan = {
    kernel,
    trigger: def.trigger,
    mce: def.mce,
    qemuDump: def.qemuDump ? join(dir, 'qemu-kdump-zlib') : undefined,
    memory: def.memory ?? '512M',
    cpus: 2,
    crashkernel: def.crashkernel ?? '192M',
    modules: def.modules,
    tsmakedumpfile: def.tsmakedumpfile ? fileURLToPath(new URL('../..', import.meta.url)) : undefined,
    extraModules: ours ? [ours] : undefined,
    append: def.append,
  };
  const t0 = Date.now();
  const { main, modules } = buildInitramfs(work, plan);
  const memMiB = Number.parseInt(plan.memory, 10);
  const serial = await runGuest(work, plan, main, Math.max(420_000, memMiB * 600));
  unpackDisk(work, dir);
  writeFileSync(join(dir, 'serial.log'), serial);
  const guestSeconds = (Date.now() - t0) / 1000;
  for (const k of [
    'vmcore.elf',
    'kdump-c-d31',
    'flat-c-d31',
    ...(def.tsmakedumpfile ? ['ts-kdump-l-d31', 'ts-flat-c-d31'] : []),
  ]) {
    if (!existsSync(join(dir, k)))
      throw new StepError(`capture produced no ${k}\n${serial.split('\n').slice(-30).join('\n')}`);
  }
  rmSync(work, { recursive: true, force: true });
  hostDumps(dir);
  // Oracles run against the final paths so their outputs name the files users see.
  const oracleDir = join(dir, 'oracle');
  mkdirSync(oracleDir);
  const finalElf = join(final, 'vmcore.elf');
  const oracle: Record<string, string> = {};
  const place = (files: Record<string, string>): void => {
    for (const [k, p] of Object.entries(files)) oracle[k] = p.replace(dir, final);
  };
  // crash and drgn read the core from the temporary directory; file names in
  // their outputs (crash's DUMPFILE) are rewritten to the final location.
  // The kernel's modules' debug objects come from its -dbg package; ours is its own debug object.
  const kernelModules = modules.filter((n) => n !== CRASH_MODULE);
  const moduleObjects = extractModuleDebug(root, kernel.release, kernelModules, join(dir, 'debug-root'));
  if (ours) moduleObjects.push(ours);
  place(runDrgn(kernel.vmlinux, join(dir, 'vmcore.elf'), oracleDir, moduleObjects));
  const drgnFacts0 = JSON.parse(readFileSync(join(oracleDir, 'drgn-facts.json'), 'utf8')) as Record<string, string>;
  // vtop of a direct-map, a kernel-data and a vmalloc address (crash's vtop takes addresses only).
  const vtops: [string, string][] = [];
  const pob = drgnFacts0.page_offset_base;
  if (pob) vtops.push(['vtop-directmap', `vtop ${(BigInt(pob) + 0x1234000n).toString(16)}`]);
  if (drgnFacts0.init_uts_ns) vtops.push(['vtop-init_uts_ns', `vtop ${BigInt(drgnFacts0.init_uts_ns).toString(16)}`]);
  if (drgnFacts0.vmap_stack) vtops.push(['vtop-stack', `vtop ${BigInt(drgnFacts0.vmap_stack).toString(16)}`]);
  if (!def.noCrash) {
    place(runCrash(kernel.vmlinux, join(dir, 'vmcore.elf'), oracleDir, vtops));
    sh(`sed -i 's#${dir}/#${final}/#g' ${shq(oracleDir)}/crash-*.txt`);
  }
  place(runPahole(kernel.vmlinux, oracleDir));
  const files: Record<string, ManifestFile> = {};
  const names: Record<string, string> = { ...FILE_KEYS };
  if (def.tsmakedumpfile) {
    names['ts-kdump-l-d31'] = 'ts-kdump-l-d31';
    names['ts-flat-c-d31'] = 'ts-flat-c-d31';
  }
  if (ours) names['crash-module'] = `${CRASH_MODULE}.ko`;
  if (def.qemuDump) {
    // makedumpfile --dump-dmesg reads only ELF input: crash's log is the oracle for QEMU's own format.
    names['qemu-kdump-zlib'] = 'qemu-kdump-zlib';
    const log = join(oracleDir, 'crash-qemu-log.txt');
    writeFileSync(
      join(oracleDir, 'crash-qemu.txt'),
      `log > ${log}\nsys > ${join(oracleDir, 'crash-qemu-sys.txt')}\nq\n`,
    );
    run('crash', ['-s', kernel.vmlinux, join(dir, 'qemu-kdump-zlib'), '-i', join(oracleDir, 'crash-qemu.txt')], {
      allowFail: true,
    });
    place({ 'crash-qemu-log': log, 'crash-qemu-sys': join(oracleDir, 'crash-qemu-sys.txt') });
  }
  for (const [key, name] of Object.entries(names)) {
    const p = join(dir, name);
    files[key] = { path: join(final, name), size: statSync(p).size, sha256: sha256File(p) };
  }
  const drgnFacts = JSON.parse(readFileSync(join(oracleDir, 'drgn-facts.json'), 'utf8')) as Record<string, unknown>;
  const facts: Record<string, unknown> = {
    panic: panicString(join(dir, 'dmesg')),
    qemuAccel: qemuAccel(),
    guestSeconds,
    kaslrOffset: drgnFacts.kaslr_offset,
    physBase: drgnFacts.phys_base,
    pageOffsetBase: drgnFacts.page_offset_base,
    ntasks: drgnFacts.ntasks,
    memory: plan.memory,
    cpus: plan.cpus,
    crashkernel: plan.crashkernel,
    modules: def.modules ?? [],
    crashModule: ours ? crashModuleId(kernel.release) : undefined,
    append: def.append,
    noCrash: def.noCrash,
    elfPath: finalElf,
  };
  if (def.mce) {
    const m = def.mce;
    facts.mce = {
      cpu: m.cpu,
      bank: m.bank,
      status: `0x${m.status.toString(16)}`,
      mcgStatus: `0x${m.mcgStatus.toString(16)}`,
      addr: `0x${m.addr.toString(16)}`,
      misc: `0x${m.misc.toString(16)}`,
    };
  }
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    case: def.name,
    release: kernel.release,
    buildId: buildIdOf(kernel.vmlinux),
    vmlinux: kernel.vmlinux,
    systemMap: kernel.systemMap,
    files,
    oracle,
    facts,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(dir, final);
  return manifest;
}

/** The kdump-tools case's manifest keys: each collector's run files, and `elf` (the tsmakedumpfile run's raw core). */
function kdumpToolsKeys(): string[] {
  return ['elf', ...COLLECTORS.flatMap((c) => RUN_FILES.map((f) => `${COLLECTOR_KEY[c]}-${f}`))];
}

/**
 * The kdump-tools case (samples/kdumptools.ts): two boots of one debootstrap'd root, each crashed and captured by
 * kdump-tools, one with tsmakedumpfile diverted into makedumpfile's place; crash's log, bt and sys of each raw core
 * and makedumpfile's --dump-dmesg of it are the oracles.
 */
async function buildKdumpToolsCase(def: CaseDef, kernel: KernelFiles): Promise<Manifest> {
  const { root, final, dir, work } = freshCaseDir(def);
  const memory = def.memory ?? '768M';
  const crashkernel = def.crashkernel ?? '256M';
  const rootfs = ensureRootfs(root, kernel.release);
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const facts: Record<string, unknown> = {
    qemuAccel: qemuAccel(),
    memory,
    crashkernel,
    cpus: 2,
    rootfsSeconds: rootfs.seconds,
  };
  const oracleDir = join(dir, 'oracle');
  mkdirSync(oracleDir);
  const oracle: Record<string, string> = {};
  for (const collector of COLLECTORS) {
    const key = COLLECTOR_KEY[collector];
    const r = await captureRun(rootfs.root, kernel.release, work, dir, collector, repo, memory, crashkernel);
    writeFileSync(join(dir, `${key}-serial.log`), r.serial);
    facts[`${key}GuestSeconds`] = r.seconds;
    facts[`${key}PayloadBytes`] = r.payloadBytes;
    const elf = join(dir, `${key}-vmcore.elf`);
    run('makedumpfile', ['--dump-dmesg', elf, join(dir, `${key}-raw-dmesg`)]);
    facts[`${key}Panic`] = panicString(join(dir, `${key}-raw-dmesg`));
    const lines = ['log', 'bt', 'sys'].map((c) => `${c} > ${join(oracleDir, `crash-${key}-${c}.txt`)}`);
    writeFileSync(join(oracleDir, `crash-${key}.txt`), `${lines.join('\n')}\nq\n`);
    log(`crash oracle (${collector} run)`);
    run('crash', ['-s', kernel.vmlinux, elf, '-i', join(oracleDir, `crash-${key}.txt`)], { allowFail: true });
    for (const c of ['log', 'bt', 'sys']) oracle[`crash-${key}-${c}`] = join(oracleDir, `crash-${key}-${c}.txt`);
  }
  sh(`sed -i 's#${dir}/#${final}/#g' ${shq(oracleDir)}/crash-*.txt`);
  for (const p of Object.values(oracle)) if (!existsSync(p)) throw new StepError(`crash wrote no ${p}`);
  // What kdump-tools loads into the reservation: its own initrd (initramfs-tools, MODULES=list) and the kernel. The
  // collector runs from the root file system after the initrd's switch_root, so the initrd is the same for both.
  const kdumpInitrd = `/var/lib/kdump/initrd.img-${kernel.release}`;
  facts.kdumpInitrdBytes = statSync(join(rootfs.root, kdumpInitrd)).size;
  facts.kdumpInitrdUnpackedBytes = unpackedInitrd(rootfs.root, kdumpInitrd);
  rmSync(work, { recursive: true, force: true });
  const files: Record<string, ManifestFile> = {};
  for (const k of kdumpToolsKeys()) {
    const name = k === 'elf' ? 'ts-vmcore.elf' : k;
    const p = join(dir, name);
    files[k] = { path: join(final, name), size: statSync(p).size, sha256: sha256File(p) };
  }
  facts.panic = facts.tsPanic;
  facts.elfPath = files.elf!.path;
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    case: def.name,
    release: kernel.release,
    buildId: buildIdOf(kernel.vmlinux),
    vmlinux: kernel.vmlinux,
    systemMap: kernel.systemMap,
    files,
    oracle: Object.fromEntries(Object.entries(oracle).map(([k, p]) => [k, p.replace(dir, final)])),
    facts,
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  rmSync(final, { recursive: true, force: true });
  renameSync(dir, final);
  return manifest;
}

async function main(): Promise<void> {
  Object.assign(process.env, ORACLE_ENV);
  const { values } = parseArgs({
    options: {
      case: { type: 'string', multiple: true },
      force: { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
      'print-env': { type: 'string' },
      fresh: { type: 'string' },
    },
  });
  if (values.fresh !== undefined) {
    // A build from nothing (kernels downloaded again) into a new or empty directory, which then serves as the cache:
    // TSCRASH_SAMPLES=DIR npm test runs the suite on it.
    const dir = resolve(values.fresh);
    if (existsSync(dir) && readdirSync(dir).length) throw new StepError(`--fresh ${dir}: the directory is not empty`);
    process.env.TSCRASH_SAMPLES = dir;
  }
  const root = samplesDir();
  if (values['print-env']) {
    const name = values['print-env'];
    const m = checkManifest(join(root, name, 'manifest.json'), false);
    if (typeof m === 'string') throw new StepError(`sample ${name}: ${m} (run npm run samples)`);
    process.stdout.write(`export TSCRASH_VMLINUX=${shq(m.vmlinux)} TSCRASH_VMCORE=${shq(m.files.elf!.path)}\n`);
    return;
  }
  const wanted = values.case ?? CASES.filter((c) => !c.benchOnly).map((c) => c.name);
  const todo: CaseDef[] = [];
  for (const name of wanted) {
    const def = CASES.find((c) => c.name === name);
    if (!def) throw new StepError(`unknown case ${name} (have ${CASES.map((c) => c.name).join(', ')})`);
    const keys = def.kdumpTools ? kdumpToolsKeys() : undefined;
    let state = values.force ? 'forced' : checkManifest(join(root, name, 'manifest.json'), values.verify, keys);
    if (typeof state !== 'string' && String(state.facts.modules ?? []) !== String(def.modules ?? []))
      state = 'the guest loads other modules now';
    if (typeof state !== 'string' && def.crashModule && state.facts.crashModule !== crashModuleId(state.release))
      state = 'the crash module changed';
    if (typeof state !== 'string' && def.kdumpTools && !rootfsReady(root, state.release))
      state = 'the guest root changed';
    if (typeof state === 'string') {
      log(`${name}: ${state}, building`);
      todo.push(def);
    } else {
      // Caches made before the real System.map was taken from -dbg on a kernel's first extraction.
      realSystemMap(root, state.release, state.systemMap);
      log(`${name}: ok (${state.release})`);
    }
  }
  if (todo.length === 0) return;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  ensureHostTools();
  const releases = new Map<string, string>();
  for (const def of CASES) releases.set(def.meta, resolveRelease(def.meta));
  for (const def of todo) {
    const t0 = Date.now();
    const kernel = ensureKernel(root, releases.get(def.meta)!);
    const m = def.kdumpTools ? await buildKdumpToolsCase(def, kernel) : await buildCase(def, kernel);
    log(`${def.name}: built in ${((Date.now() - t0) / 1000).toFixed(0)} s (${m.release}, panic: ${m.facts.panic})`);
  }
  pruneDebs(join(root, 'debs'), [...new Set(releases.values())]);
}

main().catch((e: unknown) => {
  process.stderr.write(`samples: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
