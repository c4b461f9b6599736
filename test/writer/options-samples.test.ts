/**
 * makedumpfile's options in tsmakedumpfile, on the real sample cores, against makedumpfile 1.7.2 run on the same
 * files (and the outputs it wrote in the capture kernel):
 *  - progress on a stderr that is not a terminal, in makedumpfile's records, under --message-level;
 *  - --partial-dmesg (a copy of the ELF core whose clear_seq says the log was cleared) equals makedumpfile's;
 *  - --mem-usage's table equals what makedumpfile's -d 31 and -d 0 dumps of the same memory keep;
 *  - --config's erase and nullify: the written dump's bytes equal makedumpfile --config's output's;
 *  - -b ORDER gives the same dump; --check-params; an existing --dump-dmesg FILE is refused without -f.
 */
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { printkLayoutFromVmcoreinfo, readDmesg } from '../../core/dmesg.js';
import { KernelMemory } from '../../core/kernel-memory.js';
import { openDump } from '../../core/open.js';
import { bitmapBit, readKdump } from './kdump-read.js';
import { ROOT, runCli } from './run-cli.js';
import { sample, sampleFile } from './sample-lib.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmkd-opts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PROGRESS = /^(.{50}): \[([ \d]{3}\.\d) %\] ([/|\\-]) {2}(.{16})$/;

/** The progress records of a stderr: each '\r'-started record's label, percentage and spinner. */
function progressRecords(err: string): { label: string; pct: string; spin: string }[] {
  const out: { label: string; pct: string; spin: string }[] = [];
  for (const rec of err.split('\r').slice(1)) {
    const line = rec.split('\n')[0]!;
    const m = PROGRESS.exec(line);
    assert.ok(m, `not a makedumpfile progress record: ${JSON.stringify(line)}`);
    out.push({ label: m[1]!.trimEnd(), pct: m[2]!.trim(), spin: m[3]! });
  }
  return out;
}

test('progress is written to a stderr that is not a terminal, as makedumpfile writes it there', async (t) => {
  const m = await sample('sysrq', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  if (!elf) return;
  // makedumpfile -c -d 31 in the capture kernel, stdout and stderr to a file (samples/guest-init.sh)
  const theirsLog = readFileSync(join(dirname(elf), 'capture-c.log'), 'latin1');
  const theirs = progressRecords(theirsLog.slice(0, theirsLog.indexOf('\n') + 1));
  const out = join(dir, 'progress');
  const r = runCli(['-c', '-d', '31', elf, out]);
  assert.equal(r.status, 0, r.stderr);
  const ours = progressRecords(r.stderr);
  const labels = (x: { label: string }[]) => [...new Set(x.map((p) => p.label))];
  assert.deepEqual(labels(ours), labels(theirs));
  // the spinner turns once a record, from '/'; each step ends at 100 %; the copy's last record ends the line
  for (const recs of [ours, theirs]) for (const [i, p] of recs.entries()) assert.equal(p.spin, '/|\\-'[i % 4]);
  for (const l of labels(ours)) assert.equal(ours.filter((p) => p.label === l).at(-1)!.pct, '100.0');
  assert.match(r.stderr, /\rCopying data {38}: \[100\.0 %\] . {11}eta: 0s\n/);
  assert.match(theirsLog, /\rCopying data {38}: \[100\.0 %\] . {11}eta: 0s\n/);
  // --message-level without bit 1: no progress at all
  const q = runCli(['-c', '-d', '31', '-f', '--message-level', '6', elf, out]);
  assert.equal(q.status, 0, q.stderr);
  assert.equal(q.stderr, '');
});

/** Write `bytes` at kernel virtual address `va` of an ELF core (a copy made for the test). */
function patchElf(path: string, va: bigint, bytes: Uint8Array): void {
  const dump = openDump(path);
  let pa: bigint;
  try {
    pa = new KernelMemory(dump).virtToPhys(va);
  } finally {
    dump.close();
  }
  const raw = readFileSync(path);
  const phoff = Number(raw.readBigUInt64LE(32));
  const n = raw.readUInt16LE(56);
  // every PT_LOAD that holds the address (the kernel image is also in the direct map's PT_LOAD)
  let patched = 0;
  for (let i = 0; i < n; i++) {
    const o = phoff + i * 56;
    if (raw.readUInt32LE(o) !== 1) continue;
    const off = raw.readBigUInt64LE(o + 8);
    const paddr = raw.readBigUInt64LE(o + 24);
    const filesz = raw.readBigUInt64LE(o + 32);
    if (pa >= paddr && pa + BigInt(bytes.length) <= paddr + filesz) {
      const fd = openSync(path, 'r+');
      try {
        writeSync(fd, bytes, 0, bytes.length, Number(off + (pa - paddr)));
      } finally {
        closeSync(fd);
      }
      patched++;
    }
  }
  if (!patched) throw new Error(`0x${va.toString(16)} (pa 0x${pa.toString(16)}) is not in ${path}`);
}

test('--partial-dmesg: the messages since the last clear, as makedumpfile --partial-dmesg', async (t) => {
  const m = await sample('sysrq', t);
  if (!m) return;
  const elfD31 = sampleFile(m, 'elf-d31', t);
  if (!elfD31) return;
  // a copy of makedumpfile's -E -d 31 core whose clear_seq says `dmesg --clear` ran 40 records before the end
  const core = join(dir, 'cleared.elf');
  writeFileSync(core, readFileSync(elfD31));
  const dump = openDump(core);
  let clearSeq: bigint;
  let clearAt: bigint;
  let total: number;
  try {
    const mem = new KernelMemory(dump);
    const layout = printkLayoutFromVmcoreinfo(mem.vmcoreinfo);
    assert.equal(layout.kind, 'lockless');
    const res = readDmesg(mem, layout);
    assert.equal(res.kind, 'records');
    if (res.kind !== 'records' || layout.kind !== 'lockless') return;
    total = res.records.length;
    clearSeq = res.records[total - 40]!.seq!;
    clearAt = layout.clearSeq!;
    assert.ok(layout.latchedSeqVal !== undefined, 'clear_seq is a latched_seq in 6.1');
  } finally {
    dump.close();
  }
  const val = Buffer.alloc(16);
  val.writeBigUInt64LE(clearSeq, 0);
  val.writeBigUInt64LE(clearSeq, 8);
  patchElf(core, clearAt + 8n, val); // latched_seq.val[0] and val[1]

  const ours = join(dir, 'partial-ours');
  const r = runCli(['--dump-dmesg', '--partial-dmesg', core, ours]);
  assert.equal(r.status, 0, r.stderr);
  const theirs = join(dir, 'partial-theirs');
  const mk = spawnSync('makedumpfile', ['--dump-dmesg', '--partial-dmesg', core, theirs], { timeout: 60_000 });
  assert.equal(mk.status, 0, mk.stderr?.toString());
  const want = readFileSync(theirs, 'latin1');
  assert.equal(readFileSync(ours, 'latin1'), want);
  assert.equal(want.split('\n').filter((l) => l.startsWith('[')).length, 40);
  // without --partial-dmesg the whole log, as makedumpfile
  const whole = join(dir, 'whole-ours');
  assert.equal(runCli(['--dump-dmesg', core, whole]).status, 0);
  assert.equal(readFileSync(whole, 'latin1'), readFileSync(sampleFile(m, 'dmesg', t)!, 'latin1'));
  void total;
});

/** makedumpfile --show-stats' report: its counters by name. */
function reportOf(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^\s*([A-Za-z -]+?)\s*: 0x([0-9a-f]+)$/gm)) out[m[1]!] = Number.parseInt(m[2]!, 16);
  return out;
}

/** Our --mem-usage output: the class table and the pages each level keeps. */
function memUsageOf(text: string): { classes: Record<string, number>; total: number; kept: number[] } {
  const classes: Record<string, number> = {};
  for (const m of text.matchAll(/^(ZERO|NON_PRI_CACHE|PRI_CACHE|USER|FREE|KERN_DATA)\t+(\d+)/gm))
    classes[m[1]!] = Number(m[2]);
  const total = Number(/^Total pages on system:\t(\d+)/m.exec(text)![1]);
  const kept: number[] = [];
  for (const m of text.matchAll(/^(\d+) *\t(\d+) *\t(\d+)$/gm)) {
    kept[Number(m[1])] = Number(m[2]);
    assert.equal(BigInt(m[3]!), BigInt(m[2]!) * 4096n, `level ${m[1]}: bytes are pages x 4096`);
  }
  return { classes, total, kept };
}

for (const name of ['sysrq', 'mce'])
  test(`--mem-usage on ${name}: the pages each dump level keeps, as makedumpfile -d LEVEL keeps them`, async (t) => {
    const m = await sample(name, t);
    if (!m) return;
    const elf = sampleFile(m, 'elf', t);
    const d31 = sampleFile(m, 'kdump-c-d31', t);
    const d0 = sampleFile(m, 'kdump-c-d0', t);
    if (!elf || !d31 || !d0) return;
    const r = runCli(['--mem-usage', elf]);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.toString('latin1');
    assert.ok(out.startsWith('\nTYPE\t\tPAGES\t\t\tEXCLUDABLE\tDESCRIPTION\n'), out);
    assert.ok(!out.includes('Completed'), 'makedumpfile prints no "Completed" after --mem-usage');
    const u = memUsageOf(out);
    assert.equal(u.kept.length, 32);

    // the dumps makedumpfile wrote in the capture kernel: -d 0 keeps every page present, -d 31 the kernel data
    const k0 = readKdump(d0);
    let present = 0;
    let dumped0 = 0;
    for (let p = 0; p < k0.maxPfn; p++) {
      present += bitmapBit(k0.bitmap1, p);
      if (k0.desc(p)) dumped0++;
    }
    assert.equal(u.total, present, 'pages on the system: the 1st bitmap');
    assert.equal(u.kept[0], dumped0);
    const k31 = readKdump(d31);
    let kept31 = 0;
    let zeroDescs = 0;
    let zeroOffset = -1;
    for (let p = 0; p < k31.maxPfn; p++) {
      const d = k31.desc(p);
      if (!d) continue;
      if (zeroOffset < 0 || d.offset < zeroOffset) zeroOffset = d.offset; // the shared zero page comes first
    }
    for (let p = 0; p < k31.maxPfn; p++) {
      const d = k31.desc(p);
      if (!d) continue;
      if (d.offset === zeroOffset && d.flags === 0 && d.size === 4096) zeroDescs++;
      else kept31++;
    }
    assert.equal(u.kept[31], kept31, 'what -d 31 keeps: the pages dumped less the zero pages');
    assert.equal(u.classes.KERN_DATA, kept31);
    assert.equal(u.classes.ZERO, zeroDescs);

    // makedumpfile itself, level by level (--dry-run --show-stats): the pages each level excludes. (Its "Original
    // pages" counts the kernel image twice on this core, once in each PT_LOAD that maps it; excluded pages do not.)
    for (const level of [0, 1, 2, 4, 6, 8, 16, 17, 24, 31]) {
      const args: string[] = ['--dry-run', '--show-stats', '-d', String(level), elf, join(dir, 'dry')];
      const mk: SpawnSyncReturns<string> = spawnSync('makedumpfile', args, { encoding: 'latin1', timeout: 60_000 });
      assert.equal(mk.status, 0, mk.stderr?.toString());
      const rep = reportOf(mk.stdout);
      assert.equal(u.total - u.kept[level]!, rep['Excluded pages'], `-d ${level}: excluded pages`);
      if (level === 31) {
        assert.equal(u.classes.ZERO, rep['Pages filled with zero']);
        assert.equal(u.classes.NON_PRI_CACHE, rep['Non-private cache pages']);
        assert.equal(u.classes.PRI_CACHE, rep['Private cache pages']);
        assert.equal(u.classes.USER, rep['User process data pages']);
        assert.equal(u.classes.FREE, rep['Free pages']);
      }
    }
    // from makedumpfile's -d 31 dump itself: the pages it left out are named, the kernel data is the same
    const f = runCli(['--mem-usage', d31]);
    assert.equal(f.status, 0, f.stderr);
    const fu = memUsageOf(f.stdout.toString('latin1'));
    assert.equal(fu.classes.KERN_DATA, kept31);
    assert.equal(fu.kept[31], kept31);
    assert.equal(fu.kept[0], kept31 + zeroDescs);
    const missing = /^NOT_IN_DUMP\t(\d+) *\t-\t\tLeft out of the input \(written with -d 31\)$/m.exec(
      f.stdout.toString(),
    );
    assert.ok(missing, f.stdout.toString());
    assert.equal(Number(missing[1]), present - kept31 - zeroDescs);
  });

test('--dump-dmesg refuses an existing FILE without -f, in makedumpfile words and exit code', async (t) => {
  const m = await sample('sysrq', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  const oracle = sampleFile(m, 'dmesg', t);
  if (!elf || !oracle) return;
  const file = join(dir, 'existing-log');
  writeFileSync(file, 'keep me\n');
  const mk = spawnSync('makedumpfile', ['--dump-dmesg', elf, file], { encoding: 'latin1', timeout: 60_000 });
  assert.equal(mk.status, 1);
  assert.equal(mk.stderr, `check_dump_file: Can't open the dump file (${file}). File exists\n`);
  const ours = runCli(['--dump-dmesg', elf, file]);
  assert.equal(ours.status, mk.status);
  assert.equal(ours.stderr, mk.stderr);
  assert.equal(ours.stdout.toString('latin1'), mk.stdout.replace('makedumpfile', 'tsmakedumpfile'));
  const TSCRASH = join(ROOT, 'cli/tscrash.ts');
  const tscrash = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', TSCRASH, ...args], { cwd: ROOT, encoding: 'latin1' });
  const ts = tscrash(['--dump-dmesg', elf, file]);
  assert.equal(ts.status, 1);
  assert.equal(ts.stderr, `tscrash: Can't open the dump file (${file}). File exists\n`);
  assert.equal(readFileSync(file, 'latin1'), 'keep me\n');
  // with -f the file is replaced, by each of the three
  const want = readFileSync(oracle, 'latin1');
  assert.equal(spawnSync('makedumpfile', ['-f', '--dump-dmesg', elf, file]).status, 0);
  assert.equal(readFileSync(file, 'latin1'), want);
  writeFileSync(file, 'keep me\n');
  assert.equal(runCli(['-f', '--dump-dmesg', elf, file]).status, 0);
  assert.equal(readFileSync(file, 'latin1'), want);
  writeFileSync(file, 'keep me\n');
  const f = tscrash(['--dump-dmesg', '-f', elf, file]);
  assert.equal(f.status, 0, f.stderr);
  assert.equal(readFileSync(file, 'latin1'), want);
});

test('--check-params: exit 0 or 1, nothing read or written; -b ORDER: the same dump', async (t) => {
  const m = await sample('sysrq', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  if (!elf) return;
  const out = join(dir, 'checked');
  for (const args of [
    ['--check-params', '-c', '-d', '31', elf, out],
    ['--check-params', '--dump-dmesg', '/nonexistent', out],
    ['--check-params', '--mem-usage', elf],
    ['--check-params', '-c', '-E', elf, out],
    ['--check-params', '--partial-dmesg', elf, out],
    ['--check-params', '--config', 'x.conf', elf, out],
    ['--check-params', '-d', '40', elf, out],
    ['--check-params', '--bogus', elf, out],
  ]) {
    const mk: SpawnSyncReturns<string> = spawnSync('makedumpfile', args, { encoding: 'latin1', timeout: 60_000 });
    const ours = runCli(args);
    assert.equal(ours.status, mk.status, `${args.join(' ')}: ${ours.stderr}`);
    if (mk.status === 0) assert.equal(ours.stdout.length + ours.stderr.length, 0, 'nothing printed');
    assert.ok(!ours.stdout.toString().includes('Failed'), 'no "Failed" line under --check-params');
    assert.ok(!existsSync(out));
  }
  // -b: makedumpfile's buffer of 2^ORDER pages; the dump is the same at any order
  const plain = join(dir, 'b-default');
  assert.equal(runCli(['-d', '31', elf, plain]).status, 0);
  for (const order of ['0', '10']) {
    const b = join(dir, `b-${order}`);
    const r = runCli(['-b', order, '-d', '31', elf, b]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(b).equals(readFileSync(plain)), `-b ${order}`);
    rmSync(b);
  }
  const mkOut = join(dir, 'b-makedumpfile');
  assert.equal(spawnSync('makedumpfile', ['-b', '0', '-d', '31', elf, mkOut]).status, 0);
  assert.ok(readFileSync(mkOut).equals(readFileSync(plain)), 'byte-identical to makedumpfile -b 0 -d 31');
});

/** A kdump file's eraseinfo text (offset and size in the sub-header) and where it starts. */
function eraseInfoOf(raw: Buffer): { offset: number; text: string } {
  const offset = Number(raw.readBigUInt64LE(4096 + 64));
  const size = Number(raw.readBigUInt64LE(4096 + 72));
  return { offset, text: raw.subarray(offset, offset + size).toString('latin1') };
}

test("--config: the dump's bytes and eraseinfo equal makedumpfile --config's", async (t) => {
  // makedumpfile --config reads the module list first and fails when no module is loaded: the oops case has one
  const m = await sample('oops', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  if (!elf) return;
  const config = (machine: string) =>
    [
      '## erase and nullify through symbols, members, pointers, sizes and size symbols',
      '[vmlinux]',
      'erase init_uts_ns.name.nodename',
      'erase saved_command_line         # char *: the string',
      'erase linux_banner size 40',
      'erase init_task.comm size init_task.nr_cpus_allowed',
      'erase init_task.stack nullify',
      'erase no_such_symbol_here',
      `erase\t${machine}`,
      'erase modules',
      '# loops: a list_head list, from its head and from its first node, and a chain of pointers',
      'for m in modules.next within module:list',
      '  erase m.name',
      '  erase m.version nullify',
      'endfor',
      'for t in init_task.tasks within task_struct:tasks',
      '  erase t.comm size 4',
      'endfor',
      'for f in file_systems via next',
      '  erase f.name',
      'endfor',
      '[tscrash_crash]',
      'erase tscrash_crash_entry',
    ].join('\n');
  // makedumpfile cannot follow init_task.nsproxy: in the unit of the first task_struct it finds, struct nsproxy
  // is only declared (no size), so it drops the command. The same bytes are named directly for it. (It also finds
  // no elements in `for nd in node_data`: the first node_data it meets is a declaration, an array of no length.)
  const oursConf = join(dir, 'ours.conf');
  const theirsConf = join(dir, 'theirs.conf');
  writeFileSync(oursConf, config('init_task.nsproxy.uts_ns.name.machine'));
  writeFileSync(theirsConf, config('init_uts_ns.name.machine'));
  const theirs = join(dir, 'config-theirs');
  const mk = spawnSync('makedumpfile', ['-x', m.vmlinux, '--config', theirsConf, '-d', '31', elf, theirs], {
    encoding: 'latin1',
    timeout: 300_000,
  });
  assert.equal(mk.status, 0, mk.stderr);
  assert.match(mk.stderr, /Config error at 8: Can't find symbol 'no_such_symbol_here'\./);
  const ours = join(dir, 'config-ours');
  const r = runCli(['-x', m.vmlinux, '--config', oursConf, '-d', '31', elf, ours]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Config error at 8: Can't find symbol 'no_such_symbol_here'\./);
  assert.match(r.stderr, /Skipping module section \[tscrash_crash\]/);

  const a = readFileSync(ours);
  const b = readFileSync(theirs);
  const ea = eraseInfoOf(a);
  const eb = eraseInfoOf(b);
  const lines = eb.text.split('\n');
  assert.deepEqual(lines.slice(0, 9), [
    'erase init_uts_ns.name.nodename size 65',
    `erase saved_command_line size ${eb.text.match(/saved_command_line size (\d+)/)![1]}`,
    'erase linux_banner size 40',
    'erase init_task.comm size 1',
    'erase init_task.stack nullify',
    'erase init_uts_ns.name.machine size 65',
    'erase modules size 16',
    'erase m.name size 56', // the one module
    'erase m.version nullify',
  ]);
  // a line per task and per file system type
  assert.ok(lines.filter((l) => l === 'erase t.comm size 4').length > 20);
  assert.ok(lines.filter((l) => /^erase f\.name size \d+$/.test(l)).length > 10);
  assert.equal(ea.text, eb.text.replace('init_uts_ns.name.machine', 'init_task.nsproxy.uts_ns.name.machine'));
  // everything before the eraseinfo is the same, but for the sub-header's eraseinfo size (the one command's text)
  assert.equal(ea.offset, eb.offset);
  const sizeField = 4096 + 72;
  assert.ok(a.subarray(0, sizeField).equals(b.subarray(0, sizeField)), 'headers');
  assert.ok(a.subarray(sizeField + 8, ea.offset).equals(b.subarray(sizeField + 8, eb.offset)), 'bitmaps and pages');
  // and something was erased: the same dump without --config differs
  const plain = join(dir, 'config-plain');
  assert.equal(runCli(['-d', '31', elf, plain]).status, 0);
  const p = readFileSync(plain);
  let differ = 0;
  for (let i = 8192; i < ea.offset; i++) if (a[i] !== p[i]) differ++;
  assert.ok(differ > 100, `${differ} bytes erased`);
});

test('--config with -E: the ERASEINFO note and the erased bytes as makedumpfile -E --config writes them', async (t) => {
  const m = await sample('oops', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  if (!elf) return;
  const conf = join(dir, 'elf.conf');
  writeFileSync(
    conf,
    [
      'erase init_uts_ns.name.nodename',
      'erase linux_banner size 40',
      'erase init_task.stack nullify',
      'for t in init_task.tasks within task_struct:tasks',
      '  erase t.comm size 4',
      'endfor',
    ].join('\n'),
  );
  const theirs = join(dir, 'elf-config-theirs');
  const mk = spawnSync('makedumpfile', ['-E', '-x', m.vmlinux, '--config', conf, '-d', '31', elf, theirs], {
    encoding: 'latin1',
    timeout: 300_000,
  });
  assert.equal(mk.status, 0, mk.stderr);
  const ours = join(dir, 'elf-config-ours');
  const r = runCli(['-E', '-x', m.vmlinux, '--config', conf, '-d', '31', elf, ours]);
  assert.equal(r.status, 0, r.stderr);
  const plain = join(dir, 'elf-plain');
  assert.equal(runCli(['-E', '-d', '31', elf, plain]).status, 0);
  const a = readFileSync(ours);
  const b = readFileSync(theirs);
  const p = readFileSync(plain);
  assert.equal(a.length, b.length);
  // the headers and the notes, ERASEINFO included, are makedumpfile's
  const phoff = Number(b.readBigUInt64LE(32));
  const noteOff = Number(b.readBigUInt64LE(phoff + 8));
  const noteSize = Number(b.readBigUInt64LE(phoff + 32));
  assert.ok(a.subarray(0, noteOff + noteSize).equals(b.subarray(0, noteOff + noteSize)), 'headers and notes');
  assert.ok(b.subarray(noteOff, noteOff + noteSize).includes(Buffer.from('ERASEINFO\0')));
  assert.ok(b.subarray(noteOff, noteOff + noteSize).includes(Buffer.from('erase linux_banner size 40\n')));
  // the pages: makedumpfile erases a region once, in the first PT_LOAD that holds it, and leaves the kernel
  // image's second copy (the direct map's PT_LOAD) as it was; we erase both copies. Every other byte is the same.
  // (The dump without --config has its pages `shift` bytes earlier: it has no ERASEINFO note.)
  const shift = noteSize - Number(p.readBigUInt64LE(phoff + 32));
  assert.ok(shift > 0);
  let leaked = 0;
  let erased = 0;
  for (let i = noteOff + noteSize; i < a.length; i++) {
    if (b[i] !== p[i - shift]) erased++;
    if (a[i] === b[i]) continue;
    assert.ok(a[i] === 0x58 || a[i] === 0, `offset ${i}: ours 0x${a[i]!.toString(16)} is not an erased byte`);
    assert.equal(b[i], p[i - shift], `offset ${i}: makedumpfile's byte is the original`);
    leaked++;
  }
  assert.ok(leaked > 40 && leaked < 4096, `${leaked} bytes erased in the second copy only by us`);
  assert.ok(erased > 100, `makedumpfile erased ${erased} bytes`);
});

test('--config: a syntax error or a missing file fails with its line and writes nothing', async (t) => {
  const m = await sample('sysrq', t);
  if (!m) return;
  const elf = sampleFile(m, 'elf', t);
  if (!elf) return;
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, 'erase init_uts_ns.name.nodename\nbogus token\n');
  const out = join(dir, 'bad-config-dump');
  const r = runCli(['-x', m.vmlinux, '--config', bad, '-d', '31', elf, out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\nConfig error at 2: Invalid token 'bogus'\.\n/);
  assert.ok(!existsSync(out));
  const missing = runCli(['-x', m.vmlinux, '--config', join(dir, 'none.conf'), '-d', '31', elf, out]);
  assert.equal(missing.status, 1);
  assert.ok(missing.stderr.includes(`Can't open config file(${join(dir, 'none.conf')}). No such file or directory\n`));
  assert.ok(!existsSync(out));
  // without -x there is no debug info to resolve the commands with: a command line error, as makedumpfile's
  const nox = runCli(['--config', bad, '-d', '31', elf, out]);
  assert.equal(nox.status, 1);
  assert.match(nox.stdout.toString(), /Commandline parameter is invalid\./);
});
