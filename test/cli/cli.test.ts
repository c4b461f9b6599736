import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Btf } from '../../symbols/btf/format.js';
import { ElfFile } from '../../symbols/elf.js';
import { loadSample, oracleText, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;

function tscrash(args: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(BIN, args, { encoding: 'latin1', input, maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** crash sys lines as KEY -> value. */
function sysFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const x = /^\s*([A-Z ]+): (.*)$/.exec(line);
    if (x) m.set(x[1]!.trim(), x[2]!.trim());
  }
  return m;
}

for (const name of SAMPLE_NAMES) {
  describe(`tscrash CLI on the ${name} sample`, () => {
    test('--dump-dmesg to a file: identical to makedumpfile, mode 0600; to stdout the same', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const dir = mkdtempSync(join(tmpdir(), 'tscrash-cli-'));
      const out = join(dir, 'dmesg.txt');
      const r = tscrash(['--dump-dmesg', m.files['flat-c-d31']!.path, out]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(readFileSync(out).equals(readFileSync(m.files.dmesg!.path)));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const s = execFileSync(BIN, ['--dump-dmesg', m.files['kdump-l-d31']!.path], { maxBuffer: 1 << 28 });
      assert.ok(s.equals(readFileSync(m.files.dmesg!.path)));
    });

    test('info --json names the format, kernel, KASLR and panic', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const r = tscrash(['info', '--json', m.files['kdump-c-d31']!.path, m.files.elf!.path]);
      assert.equal(r.status, 0, r.stderr);
      const [k, e] = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(k.format, 'kdump');
      assert.deepEqual(k.compression, ['zlib']);
      assert.equal(k.dumpLevel, 31);
      assert.equal(k.release, m.release);
      assert.equal(k.kaslrOffset, m.facts.kaslrOffset);
      assert.equal(k.panic, m.facts.panic);
      assert.equal(e.format, 'elf');
      assert.equal(e.panic, m.facts.panic);
      // The debug data the dump carries: the vmlinux's .BTF and ORC tables, the kernel's own kallsyms.
      const elf = ElfFile.open(m.vmlinux);
      const btfSize = elf.section('.BTF')!.size;
      const orcIp = elf.section('.orc_unwind_ip')!.size;
      const btfTypes = new Btf(elf.sectionData('.BTF'), m.vmlinux).count;
      elf.close();
      for (const f of [k, e]) {
        assert.equal(f.debugData.vmcoreinfo, true);
        assert.ok(f.debugData.kallsyms.symbols > 50_000);
        assert.equal(f.debugData.orc.entries, orcIp / 4);
        assert.equal(f.debugData.btf.size, btfSize);
        assert.equal(f.debugData.btf.types, btfTypes);
      }
      const human = tscrash(['info', m.files['kdump-l-d31']!.path]);
      assert.match(human.stdout, /COMPRESSION: lzo/);
      assert.match(human.stdout, new RegExp(`PANIC: "${m.facts.panic}"`));
      assert.match(
        human.stdout,
        /DEBUG DATA: VMCOREINFO, kallsyms \(\d+ symbols\), ORC \(\d+ entries\), BTF \(\d+ bytes, \d+ types\)/,
      );
    });

    test('a session without a vmlinux: log, sys, rd -p agree with crash; errors do not end the session', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const log = tscrash([m.files['kdump-c-d31']!.path, '-c', 'log']);
      assert.equal(log.stdout, oracleText(m, 'crash-log'));
      const rd = tscrash([m.files.elf!.path, '-c', 'rd -p 0x1000 8']);
      assert.equal(rd.stdout, oracleText(m, 'crash-rd-p'));
      const sys = sysFields(tscrash([m.files.elf!.path, '-c', 'sys']).stdout);
      const want = sysFields(oracleText(m, 'crash-sys'));
      for (const k of ['DUMPFILE', 'CPUS', 'DATE', 'NODENAME', 'RELEASE', 'VERSION', 'PANIC'])
        assert.equal(sys.get(k), want.get(k), k);
      // With the BTF the kernel carries, the CPU's speed too (cpu_khz), as crash prints it with the vmlinux.
      assert.equal(sys.get('MACHINE'), want.get('MACHINE'));
      // A bad command, then a good one, from a pipe.
      const piped = tscrash([m.files['flat-c-d31']!.path], 'nosuchcommand\nrd -p 0x1000 2\n');
      assert.match(piped.stdout, /nosuchcommand: command not found/);
      assert.match(piped.stdout, / {12}1000: {2}0{16} 0{16}/);
      // Redirection to a file.
      const dir = mkdtempSync(join(tmpdir(), 'tscrash-redir-'));
      const f = join(dir, 'log.txt');
      tscrash([m.files['flat-c-d31']!.path, '-c', `log > ${f}`]);
      assert.equal(readFileSync(f, 'latin1'), oracleText(m, 'crash-log'));
      assert.equal(statSync(f).mode & 0o777, 0o600);
      // Pipes.
      const tail = tscrash([m.files['flat-c-d31']!.path, '-c', 'log | tail -1']);
      assert.equal(tail.stdout, `${oracleText(m, 'crash-log').trimEnd().split('\n').pop()}\n`);
      // A reader that stops early: tscrash ends quietly (no EPIPE trace), as a Unix filter does.
      const head = spawnSync(
        'sh',
        ['-c', `"$0" "$1" -c log -c log -c log | head -1`, BIN, m.files['kdump-c-d31']!.path],
        {
          encoding: 'latin1',
        },
      );
      assert.equal(head.stdout, `${oracleText(m, 'crash-log').split('\n')[0]}\n`);
      assert.equal(head.stderr, '');
    });

    test('a vmlinux that does not match the dump is refused unless forced; the matching one is accepted', (t) => {
      const m = loadSample(name, t);
      const other = loadSample(name === 'sysrq' ? 'mce' : 'sysrq', t);
      if (!m || !other) return;
      const bad = tscrash([other.vmlinux, m.files.elf!.path, '-c', 'sys']);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /does not match the dump/);
      const forced = tscrash([m.files.elf!.path, other.vmlinux, '--force', '-c', 'sys']);
      assert.equal(forced.status, 0, forced.stderr);
      assert.match(forced.stderr, /WARNING/);
      const good = tscrash([m.files.elf!.path, m.vmlinux, '-c', 'sys']);
      assert.equal(good.status, 0, good.stderr);
      assert.match(good.stdout, new RegExp(`KERNEL: ${m.vmlinux}`));
    });

    test('with no vmlinux given, the matching one is found in the debug-info tree by release and build-id', (t) => {
      const m = loadSample(name, t);
      const other = loadSample(name === 'sysrq' ? 'mce' : 'sysrq', t);
      if (!m || !other) return;
      const root = mkdtempSync(join(tmpdir(), 'tscrash-debug-'));
      execFileSync('mkdir', ['-p', join(root, 'boot'), join(root, 'lib/modules', m.release)]);
      // A wrong vmlinux under the right release name is not taken; the right one is.
      execFileSync('ln', ['-s', other.vmlinux, join(root, 'boot', `vmlinux-${m.release}`)]);
      execFileSync('ln', ['-s', m.vmlinux, join(root, 'lib/modules', m.release, 'vmlinux')]);
      const r = spawnSync(BIN, [m.files['kdump-c-d31']!.path, '-c', 'sym jiffies'], {
        encoding: 'latin1',
        env: { ...process.env, TSCRASH_DEBUG_ROOT: root },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, oracleText(m, 'crash-sym-jiffies'));
      const none = spawnSync(BIN, [m.files['kdump-c-d31']!.path, '-c', 'sym jiffies'], {
        encoding: 'latin1',
        env: { ...process.env, TSCRASH_DEBUG_ROOT: join(root, 'nothing') },
      });
      // No vmlinux found: the symbol comes from the kernel's kallsyms in the dump, as crash prints it.
      assert.equal(none.stdout, oracleText(m, 'crash-sym-jiffies'));
      // Types from the BTF the kernel carries in the dump: what crash prints with the vmlinux.
      assert.equal(
        spawnSync(BIN, [m.files['kdump-c-d31']!.path, '-c', 'struct list_head'], {
          encoding: 'latin1',
          env: { ...process.env, TSCRASH_DEBUG_ROOT: join(root, 'nothing') },
        }).stdout,
        oracleText(m, 'crash-struct-list_head'),
      );
    });

    test('tscrash index builds the name index into the cache (0600); a session then starts from it', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const cache = mkdtempSync(join(tmpdir(), 'tscrash-index-cli-'));
      try {
        const env = { ...process.env, TSCRASH_CACHE: cache };
        const r = spawnSync(BIN, ['index', m.vmlinux], { encoding: 'latin1', env });
        assert.equal(r.status, 0, r.stderr);
        const file = join(cache, `${m.buildId}-${/-(\d+)\.idx/.exec(r.stdout)![1]}.idx`);
        assert.match(r.stdout, new RegExp(`cached as ${file.replace(/[.]/g, '\\.')}`));
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const w = spawnSync(BIN, [m.vmlinux, m.files['kdump-c-d31']!.path, '-c', 'struct -o list_head'], {
          encoding: 'latin1',
          env,
        });
        assert.equal(w.stdout, oracleText(m, 'crash-struct-o-list_head'));
        const bad = spawnSync(BIN, ['index', '/nonexistent/vmlinux'], { encoding: 'latin1', env });
        assert.equal(bad.status, 1);
        assert.match(bad.stderr, /nonexistent\/vmlinux/);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    });

    test('vtop walks the page tables as crash shows them (direct map, kernel data, vmalloc stack)', (t) => {
      const m = loadSample(name, t);
      if (!m) return;
      const keys = ['crash-vtop-directmap', 'crash-vtop-init_uts_ns', 'crash-vtop-stack'];
      for (const key of keys) {
        const want: string[] = oracleText(m, key).split('\n');
        const addr = want[1]!.slice(0, 16).trim();
        const got = tscrash([m.files['kdump-c-d31']!.path, '-c', `vtop ${addr}`]);
        assert.equal(got.status, 0, got.stderr);
        // crash goes on with the struct page line, which needs the vmlinux's types.
        const pteLine = want.findIndex((l: string) => l.startsWith('      PTE')) + 1;
        assert.equal(
          got.stdout
            .split('\n')
            .slice(0, pteLine + 1)
            .join('\n'),
          want.slice(0, pteLine + 1).join('\n'),
          key,
        );
      }
    });
  });
}

describe('tscrash CLI errors', () => {
  test('a missing file and a non-dump are named', () => {
    const r = tscrash(['--dump-dmesg', '/nonexistent/vmcore']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nonexistent\/vmcore/);
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-bad-'));
    const bad = join(dir, 'bad');
    require_write(bad);
    const i = tscrash(['info', bad]);
    assert.equal(i.status, 1);
    assert.match(i.stderr, /not a vmcore/);
  });
});

function require_write(p: string): void {
  execFileSync('sh', ['-c', `printf 'this is not a dump' > '${p}'`]);
}
