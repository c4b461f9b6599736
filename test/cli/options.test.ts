/**
 * crash's everyday options in tscrash (-h COMMAND, -v, --minimal, --kaslr, --no_modules), drgn's `-c VMCORE
 * [-s VMLINUX]`, `!CMD` and `eval` in a session, the one-line error messages and the exit codes: against crash run
 * live on the samples where crash has the same thing, and each error message exactly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { crashLive } from '../lib/crash-live.js';
import { loadSample, oracleText } from '../lib/samples.js';
import { run, sampleProgram } from '../lib/session.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const MDF = new URL('../../bin/tsmakedumpfile', import.meta.url).pathname;
const README = new URL('../../README.md', import.meta.url).pathname;

function tscrash(
  args: string[],
  opts: { input?: string; uid?: number } = {},
): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(BIN, args, {
    encoding: 'latin1',
    input: opts.input ?? '',
    maxBuffer: 1 << 28,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid, env: { ...process.env, HOME: tmpdir() } } : {}),
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

const dir = mkdtempSync(join(tmpdir(), 'tscrash-options-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Values, units, signs, the options, every operator, symbols, and what crash calls invalid. (Not `#`, crash's
// power operator, which crash 8.0.2 never returns from, nor a division by zero, which crash takes a SIGFPE on.)
const EVALS = [
  'eval 128m',
  'eval 128 * 1m',
  'eval (1 << 27)',
  'eval (1 << 32)',
  'eval -b 41dc065',
  'eval -lb 64g',
  'eval -l -b 3',
  'eval -b -l 0x10',
  'eval -b 0xffffffffffffffff',
  'eval -b',
  'eval -5',
  'eval 5 - 7',
  'eval ~0',
  'eval 0x10k',
  'eval 3g',
  'eval 1K',
  'eval 2M',
  'eval 1x2',
  'eval ff',
  'eval 10',
  'eval 10 % 3',
  'eval 100 / 7',
  'eval (0xf0 | 0x0f)',
  'eval 0xff & 0x0f',
  'eval 0xf0 ^ 0xff',
  'eval (1 << 70)',
  'eval (256 >> 4)',
  'eval 123456789012345678901234',
  'eval 1 + (5)',
  'eval jiffies',
  'eval jiffies + 1',
  'eval ~jiffies',
  'eval (jiffies & 0xfff)',
  'eval zz',
  'eval (1 + (2))',
  'eval 1ffffffffffffffff',
];

describe('eval, as crash evaluates', () => {
  test('every expression: the same four lines (and bits), or the same invalid-expression line', async (t) => {
    const s = await sampleProgram('sysrq', t);
    if (!s) return;
    const want = crashLive(s.m.vmlinux, s.m.files['kdump-c-d31']!.path, EVALS);
    for (const [i, line] of EVALS.entries()) {
      const got = await run(s.prog, line);
      const crash = want[i]!;
      // crash says why a number is bad (too many digits) on a line of its own before "invalid expression".
      if (/invalid expression/.test(crash)) assert.equal(got, `${crash.trimEnd().split('\n').pop()}\n`, line);
      else assert.equal(got, crash, line);
    }
    assert.equal(await run(s.prog, 'eval 1 / 0'), 'eval: division by zero: (1 / 0)\n');
    assert.equal(await run(s.prog, 'eval'), 'eval: usage: eval [-b][-l] (expression) | value\n');
  });

  test('--json: the value and the bits as data', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const r = tscrash([m.files['kdump-c-d31']!.path, '--json', '-c', 'eval -b 0x11']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      command: 'eval -b 0x11',
      ok: true,
      result: { value: '0x11', bits: [4, 0] },
    });
  });
});

describe('tscrash -h, -v', () => {
  test('-h COMMAND is help COMMAND, with no dump; its synopsis is crash’s', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    for (const name of ['eval', 'bt', 'log']) {
      const h = tscrash(['-h', name]);
      assert.equal(h.status, 0, h.stderr);
      assert.equal(tscrash(['--help', name]).stdout, h.stdout);
      const inSession = tscrash([m.files['kdump-c-d31']!.path, '-c', `help ${name}`]);
      assert.equal(h.stdout, inSession.stdout, name);
    }
    const crash = spawnSync('crash', ['-h', 'eval'], { encoding: 'latin1' }).stdout;
    const synopsis = (s: string): string => s.split('\n')[s.split('\n').indexOf('SYNOPSIS') + 1]!.trim();
    assert.equal(synopsis(tscrash(['-h', 'eval']).stdout), synopsis(crash));
    assert.equal(synopsis(crash), 'eval [-b][-l] (expression) | value');
  });

  test('-h alone is the usage, on stdout, exit 0; every option it names is in the README', () => {
    const h = tscrash(['-h']);
    assert.equal(h.status, 0);
    assert.equal(tscrash(['--help']).stdout, h.stdout);
    const readme = readFileSync(README, 'utf8');
    const options = new Set(h.stdout.match(/(?<![\w-])--?[a-z][\w-]*/g));
    for (const o of ['--minimal', '--kaslr', '--no_modules', '--core', '--symbols', '-h', '-v'])
      assert.ok(options.has(o), o);
    for (const o of options) assert.ok(readme.includes(o), `README names ${o}`);
    assert.match(h.stdout, /exit status: 0 ok, 1 a failure .*, 2 a usage error/);
  });

  test('-v and --version, first or among the session’s arguments', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const v = tscrash(['-v']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^tscrash \d+\.\d+\.\d+\n$/);
    assert.equal(tscrash(['--version']).stdout, v.stdout);
    assert.equal(tscrash([m.files['kdump-c-d31']!.path, '-v']).stdout, v.stdout);
  });
});

describe('--minimal, as crash’s', () => {
  test('log, sym, rd, eval as crash --minimal prints them; the others are not available; set and help say so', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const cmds = ['log', 'sym jiffies', 'rd jiffies', 'eval jiffies'];
    const want = crashLive(m.vmlinux, dump, cmds, {}, ['--minimal']);
    for (const [i, c] of cmds.entries()) {
      const r = tscrash(['--minimal', m.vmlinux, dump, '-c', c]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, want[i], c);
    }
    assert.equal(want[0], oracleText(m, 'crash-log'));
    const r = tscrash(['--minimal', m.vmlinux, dump, '-c', 'ps', '-c', 'bt', '-c', 'set', '-c', 'set 1', '-c', 'help']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'NOTE: minimal mode commands: log, dis, rd, sym, eval, set, help and exit\n');
    const lines = r.stdout.split('\n');
    const na = (c: string): string =>
      `${c}: command not available in minimal mode (minimal mode commands: log, dis, rd, sym, eval, set, help, exit)`;
    assert.deepEqual(lines.slice(0, 4), [na('ps'), na('bt'), 'output: text', 'set: invalid argument in minimal mode']);
    assert.deepEqual(
      lines
        .slice(4)
        .filter((l) => l)
        .map((l) => l.split(' ')[0]),
      ['dis', 'eval', 'help', 'log', 'rd', 'set', 'sym', 'q'],
    );
  });
});

describe('--kaslr, as crash’s', () => {
  test('OFFSET moves the vmlinux’s symbols as crash --kaslr OFFSET does; auto and the dump’s own offset are the default', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const cmds = ['sym jiffies', 'eval jiffies', 'sym _stext'];
    // crash reads page_offset_base at start even in minimal mode: with a wrong offset that read may fall outside
    // the dump (it depends on the boot's phys_base), and then crash stops. Where it does, `sym` is checked against
    // the vmlinux's own symbol (nm) moved by the offset.
    const nm = spawnSync('nm', [m.vmlinux], { encoding: 'latin1', maxBuffer: 1 << 28 }).stdout;
    const linked = (name: string): bigint => BigInt(`0x${new RegExp(`^([0-9a-f]+) \\S ${name}$`, 'm').exec(nm)![1]}`);
    let compared = 0;
    for (const k of ['0', '0x1000000', '1c00000']) {
      let want: string[] | undefined;
      try {
        want = crashLive(m.vmlinux, dump, cmds, {}, ['--minimal', '--kaslr', k]);
      } catch (e) {
        assert.match((e as Error).message, /crash wrote no output/);
      }
      for (const [i, c] of cmds.entries()) {
        const r = tscrash(['--minimal', '--kaslr', k, m.vmlinux, dump, '-c', c]);
        assert.equal(r.status, 0, r.stderr);
        if (want) assert.equal(r.stdout, want[i], `--kaslr ${k}: ${c}`);
        else if (c.startsWith('sym ')) {
          const name = c.slice(4);
          const moved = linked(name) + BigInt(k.startsWith('0x') ? k : `0x${k}`);
          assert.match(
            r.stdout,
            new RegExp(`^${moved.toString(16)} \\(\\w\\) ${name}( \\S+: \\d+)?\n$`),
            `--kaslr ${k}: ${c}`,
          );
        }
      }
      if (want) compared++;
    }
    if (compared === 0) t.diagnostic('crash refused every wrong offset on this boot: checked against nm only');
    for (const k of ['auto', m.facts.kaslrOffset!, BigInt(m.facts.kaslrOffset!).toString()]) {
      const r = tscrash(['--kaslr', k, m.vmlinux, dump, '-c', 'sym jiffies']);
      assert.equal(r.stdout, oracleText(m, 'crash-sym-jiffies'), `--kaslr ${k}`);
    }
    const bad = tscrash(['--kaslr', 'zz', m.vmlinux, dump, '-c', 'sym jiffies']);
    assert.equal(bad.status, 2);
    assert.equal(
      bad.stderr,
      'tscrash: invalid --kaslr argument: zz (auto, or the offset: 0x1c000000, 1c000000) (tscrash --help)\n',
    );
  });
});

describe('--no_modules, as crash’s', () => {
  test('no module list, no module symbols; the kernel’s frames of bt as crash --no_modules prints them', (t) => {
    const m = loadSample('oops', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const [bt] = crashLive(m.vmlinux, dump, ['bt'], {}, ['--no_modules']);
    const r = tscrash(['--no_modules', m.vmlinux, dump, '-c', 'bt', '-c', 'mod', '-c', 'sym tscrash_null_deref']);
    assert.equal(r.stderr, 'WARNING: no kernel module access (--no_modules)\n');
    assert.equal(r.status, 1);
    // Down to the exception frame, which is in the module.
    const head = (s: string): string => s.slice(0, s.indexOf('    [exception RIP:'));
    assert.ok(head(bt!).length > 100);
    assert.equal(head(r.stdout), head(bt!));
    assert.match(r.stdout, /^mod: no kernel module access: tscrash was started with --no_modules$/m);
    assert.match(r.stdout, /^sym: tscrash_null_deref: symbol not found$/m);
    // Without it, the module is there.
    const w = tscrash([m.vmlinux, dump, '-c', 'sym tscrash_null_deref']);
    assert.equal(w.status, 0, w.stdout);
    assert.match(w.stdout, /^ffffffffc[0-9a-f]+ \([tT]\) tscrash_null_deref \[tscrash_crash\]/);
  });
});

describe('drgn’s spelling: -c VMCORE [-s VMLINUX]', () => {
  test('-c’s argument is the dump when no other argument is one; --core and --symbols too', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const want = oracleText(m, 'crash-sym-jiffies');
    for (const args of [
      ['-c', dump, '-s', m.vmlinux, '-c', 'sym jiffies'],
      ['-s', m.vmlinux, '-c', dump, '-c', 'sym jiffies'],
      ['--core', dump, '--symbols', m.vmlinux, '-c', 'sym jiffies'],
    ]) {
      const r = tscrash(args);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, want, args.join(' '));
    }
    // No command: the commands come from stdin (here a pipe), as with a positional dump.
    assert.equal(tscrash(['-c', dump, '-s', m.vmlinux], { input: 'sym jiffies\n' }).stdout, want);
    // With a dump among the other arguments, -c is a command, even when it names a file.
    const cmd = tscrash([dump, '-c', dump]);
    assert.equal(cmd.stdout, `${dump}: command not found (help lists the commands)\n`);
    // A -c that is not a dump is a command: then there is no dump.
    const none = tscrash(['-c', m.vmlinux]);
    assert.equal(none.status, 2);
  });
});

describe('!CMD in a session', () => {
  test('the shell’s output is the command’s; a failing shell command fails; ! alone needs a terminal', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const dump = m.files['kdump-c-d31']!.path;
    const r = tscrash([dump, '-c', '!echo hi | tr h H', '-c', '! printf "%s\\n" a b | cat', '-c', 'eval 1k']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n').slice(0, 4).join('\n'), 'Hi\na\nb\nhexadecimal: 400  (1KB)');
    const f = tscrash([dump, '-c', '!exit 3', '-c', '!']);
    assert.equal(f.status, 1);
    assert.equal(f.stdout, '!: an interactive shell needs the line mode on a terminal; give a command: !CMD\n');
    const j = tscrash([dump, '--json', '-c', '!echo x']);
    assert.deepEqual(JSON.parse(j.stdout), { command: '!echo x', ok: true, result: { text: 'x\n' } });
  });
});

describe('errors: one line, the path once, the cause in words; exit codes', () => {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const locked = join(dir, 'locked');
  writeFileSync(locked, 'x');
  chmodSync(locked, 0);

  test('no such file, is a directory, not a vmcore: for a session, info and --dump-dmesg; exit 1', () => {
    for (const pre of [[], ['info'], ['--dump-dmesg']]) {
      for (const [file, why] of [
        ['/nonexistent/vmcore', 'no such file'],
        [sub, 'is a directory'],
        [empty, 'not a vmcore: only 0 bytes'],
      ]) {
        const r = tscrash([...pre, file!]);
        assert.equal(r.stderr, `tscrash: ${file}: ${why}\n`, `${pre.join(' ')} ${file}`);
        assert.equal(r.status, 1);
      }
    }
  });

  test('triage names an unreadable dump once, the cause in words', () => {
    const r = tscrash(['triage', '/nonexistent/vmcore', empty]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^DUMP: {6}\/nonexistent\/vmcore\nERROR: {5}no such file$/m);
    assert.match(r.stdout, new RegExp(`^DUMP: {6}${empty}\nERROR: {5}not a vmcore: only 0 bytes$`, 'm'));
  });

  test('permission denied', () => {
    // root reads anything: the file is tried as nobody then.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    for (const pre of [[], ['info'], ['--dump-dmesg']]) {
      const r = tscrash([...pre, locked], { uid });
      assert.equal(r.stderr, `tscrash: ${locked}: permission denied\n`);
      assert.equal(r.status, 1);
    }
  });

  test('a command’s error names the command once', (t) => {
    const m = loadSample('sysrq', t);
    if (!m) return;
    const r = tscrash([
      m.vmlinux,
      m.files['kdump-c-d31']!.path,
      '-c',
      'bt -Z',
      '-c',
      'kmem -s nonesuch',
      '-c',
      'ps -Z',
      '-c',
      'struct -Q list_head',
      '-c',
      'mod -s nosuch',
      '-c',
      'rd -u 0',
    ]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stdout,
      'bt: unsupported option -Z\n' +
        'kmem: nonesuch: no such kmem_cache\n' +
        'ps: unsupported option -Z\n' +
        'struct: unsupported option -Q\n' +
        'mod: nosuch: not loaded\n' +
        'rd: -u: user virtual addresses need a task context, which is not supported yet\n',
    );
  });

  test('usage errors: one line to stderr, exit 2; no arguments: the usage to stderr, exit 2', () => {
    for (const [args, line] of [
      [['--bogus', empty], 'unknown option --bogus'],
      [[empty, '-c'], '-c needs a command'],
      [['-h', 'nosuch'], 'no such command: nosuch'],
      [['info'], 'info needs at least one VMCORE'],
      [['--dump-dmesg'], '--dump-dmesg needs VMCORE [FILE]'],
      [[empty, empty, empty], 'give a VMCORE, and optionally the VMLINUX'],
    ] as [string[], string][]) {
      const r = tscrash(args);
      assert.equal(r.stderr, `tscrash: ${line} (tscrash --help)\n`, args.join(' '));
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
    }
    const none = tscrash([]);
    assert.equal(none.status, 2);
    assert.equal(none.stdout, '');
    assert.equal(none.stderr, tscrash(['--help']).stdout);
  });

  test('tsmakedumpfile keeps makedumpfile’s codes: a bad command line and an unreadable dump are 1', () => {
    for (const args of [['--bogus'], ['-d', '31', '/nonexistent/vmcore', join(dir, 'out')]]) {
      const want = spawnSync('makedumpfile', args, { encoding: 'latin1' });
      if (want.error) throw want.error;
      const got = spawnSync(MDF, args, { encoding: 'latin1' });
      assert.equal(got.status, want.status, args.join(' '));
      assert.equal(got.status, 1);
    }
  });
});
