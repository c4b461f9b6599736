/**
 * The files plugin on the real samples: every task's descriptors, files, dentries, inodes, types and paths
 * against drgn's for_each_file and d_path (run live), and crash's own `files` for the tasks crash 8.0.2 can
 * enumerate on 6.1 (the active ones and the idle tasks), byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import * as tscrash from 'tscrash';
import files, { type FilesResult, taskFiles } from '../../plugins/files.js';
import { crashLive } from '../lib/crash-live.js';
import { drgnLive } from '../lib/drgn-live.js';
import { loadSample, SAMPLE_NAMES } from '../lib/samples.js';

const BIN = new URL('../../bin/tscrash', import.meta.url).pathname;
const DRGN = new URL('./drgn/files.py', import.meta.url).pathname;
const hx = (v: bigint): string => `0x${v.toString(16)}`;

interface DrgnTask {
  pid: number;
  task: string;
  error?: string;
  root?: string;
  cwd?: string;
  files?: {
    fd: number;
    file: string;
    dentry: string;
    inode: string;
    type: string;
    ino: number;
    fstype: string;
    path: string;
  }[];
}

/** drgn's d_path names a pseudo file system's file by its mount ("[pipefs]"); the kernel's d_path asks d_dname. */
function kernelPath(f: NonNullable<DrgnTask['files']>[number]): string {
  if (f.fstype === 'pipefs') return `pipe:[${f.ino}]`;
  if (f.fstype === 'sockfs') return `socket:[${f.ino}]`;
  return f.path;
}

for (const name of SAMPLE_NAMES) {
  test(`files on ${name}: every task's open files as drgn sees them, and crash's layout`, async (t) => {
    const m = loadSample(name, t);
    if (!m) return;
    const vmcore = m.files['kdump-c-d31']!.path;
    const prog = await tscrash.open({ vmcore, vmlinux: m.vmlinux });
    try {
      // The plugin's functions on every task drgn lists.
      const drgn = drgnLive(m.vmlinux, vmcore, DRGN) as DrgnTask[];
      let withFiles = 0;
      let faults = 0;
      for (const d of drgn) {
        const task = prog.object('struct task_struct', BigInt(d.task));
        if (d.error) {
          if (task.member('files').isNull()) {
            // An exited task (a zombie) has no files_struct and no fs_struct: drgn reads through the NULL pointer.
            assert.match(d.error, / 0x(20|0)$/);
            assert.deepEqual(taskFiles(tscrash, task), { task: tscrash.taskRef(task), files: [] });
            continue;
          }
          // drgn could not read this task's files (its memory is not in the dump): neither can we.
          assert.throws(() => taskFiles(tscrash, task), tscrash.FaultError, `pid ${d.pid}`);
          faults++;
          continue;
        }
        const ours = taskFiles(tscrash, task);
        assert.equal(ours.root, d.root, `pid ${d.pid} root`);
        assert.equal(ours.cwd, d.cwd, `pid ${d.pid} cwd`);
        assert.deepEqual(
          ours.files.map((f) => [f.fd, hx(f.file), hx(f.dentry), hx(f.inode), f.type, Number(f.ino), f.path]),
          d.files!.map((f) => [f.fd, f.file, f.dentry, f.inode, f.type, f.ino, kernelPath(f)]),
          `pid ${d.pid}`,
        );
        if (d.files!.length) withFiles++;
      }
      assert.ok(withFiles >= 10, `${withFiles} tasks with open files`);
      assert.ok(faults <= 2, `${faults} tasks unreadable`);
      // In a session: crash's own files, for the tasks it lists (foreach files), byte for byte.
      const session = (args: string[]) =>
        spawnSync(process.execPath, [BIN, m.vmlinux, vmcore, '--plugin', 'files', ...args], { encoding: 'latin1' });
      const ours = session(['-c', 'foreach files']);
      assert.equal(ours.stderr, '');
      const blocks = (s: string): Map<string, string> =>
        new Map(
          s
            .trim()
            .split('\n\n')
            .map((b) => [b.split('\n')[0]!, b]),
        );
      const mine = blocks(ours.stdout);
      // Every task crash's ps shows (drgn's and the idle tasks), each once.
      const all = tscrash.helpers.allTasks(prog);
      assert.equal(mine.size, all.length);
      const heads = [...mine.keys()].join('\n');
      for (const d of drgn) assert.ok(heads.includes(`TASK: ${d.task.slice(2)} `), `pid ${d.pid}`);
      const crash = blocks(crashLive(m.vmlinux, vmcore, ['foreach files'])[0]!);
      assert.ok(crash.size >= 3, `crash listed ${crash.size} tasks`);
      for (const [head, block] of crash) assert.equal(mine.get(head), block, head);
      // The current context (the panic task), and --json: the typed result.
      const [one] = crashLive(m.vmlinux, vmcore, ['files']);
      const j = session(['--json', '-c', 'files', '-c', 'files']);
      const [doc, again] = j.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { ok: boolean; result: FilesResult });
      assert.equal(doc!.ok, true);
      assert.deepEqual(doc, again);
      const validate = new Ajv({ strict: false }).compile(
        JSON.parse(readFileSync(new URL('../../schemas/FilesResult.json', import.meta.url), 'utf8')) as object,
      );
      assert.ok(validate(doc!.result), JSON.stringify(validate.errors));
      const r = doc!.result.tasks[0]!;
      const text = session(['-c', 'files']).stdout;
      assert.equal(text, one);
      assert.match(text, new RegExp(`^PID: ${r.task.pid} .*\\nROOT: ${r.root} {4}CWD: ${r.cwd}\\n`));
      assert.equal(text.split('\n').filter((l) => /^ *\d+ [0-9a-f]{16} /.test(l)).length, r.files.length);
    } finally {
      prog.close();
    }
  });
}

test('files through the API: a plugin module registers its command, which runs as a built-in does', async (t) => {
  const m = loadSample('sysrq', t);
  if (!m) return;
  const prog = await tscrash.open({ vmcore: m.files['kdump-c-d31']!.path, vmlinux: m.vmlinux });
  try {
    files(tscrash);
    const { text, ok } = await tscrash.runCommand(prog, 'files 1');
    assert.equal(ok, true);
    assert.match(text, /^PID: 1 +TASK: [0-9a-f]+ +CPU: \d+ +COMMAND: "init"\nROOT: \/ {4}CWD: \/\n FD {7}FILE/);
    const help = await tscrash.runCommand(prog, 'help');
    // Registered outside the loader (a script's own command), it has no plugin origin to show.
    assert.match(help.text, /\nfiles {6}a task's open files: descriptors, file, dentry, inode, type and path\n/);
  } finally {
    prog.close();
  }
});
