/**
 * The `files` plugin: a task's open files, as crash's `files` shows them: its root and working directory, then
 * each descriptor of its fdtable with the struct file, dentry and inode, the file's type from the inode's mode,
 * and its path (the dentries' names up to their mount's root, then the mount points up to the root mount; a
 * pipe, socket or anonymous inode is named as the kernel's d_path names it: pipe:[INO], socket:[INO],
 * anon_inode:NAME). `--plugin files` loads it; `foreach files` runs it for every task.
 */
import type * as Api from './api.js';

type Tscrash = typeof Api;
type Obj = Api.Obj;

/** One open file descriptor. */
export interface OpenFile {
  fd: number;
  file: Api.Hex;
  dentry: Api.Hex;
  inode: Api.Hex;
  /** crash's type: REG, DIR, CHR, BLK, FIFO, SOCK, LNK, or UNKN. */
  type: string;
  /** The inode's mode (type and permission bits). */
  mode: number;
  ino: Api.Hex;
  path: string;
}

/** One task's files. */
export interface TaskFiles {
  task: Api.TaskRef;
  root?: string;
  cwd?: string;
  files: OpenFile[];
}

export interface FilesResult {
  tasks: TaskFiles[];
}

const S_IFMT = 0o170000;
// (A Map: TypeScript 5.9 emits octal-literal property names wrongly, as if they were base 7.)
const TYPES = new Map<number, string>([
  [0o100000, 'REG'],
  [0o040000, 'DIR'],
  [0o020000, 'CHR'],
  [0o060000, 'BLK'],
  [0o010000, 'FIFO'],
  [0o140000, 'SOCK'],
  [0o120000, 'LNK'],
]);

/** The type crash shows for an inode mode. */
export function fileType(mode: number): string {
  return TYPES.get(mode & S_IFMT) ?? 'UNKN';
}

const hx16 = (v: bigint): string => v.toString(16).padStart(16, '0');

/**
 * A path's name, as the kernel's d_path gives it (prepend_path, and d_dname for the pseudo file systems): up to
 * `root` (the task's root directory, as the kernel stops there) or else the root mount.
 */
export function pathName(path: Obj, root?: { mnt: bigint; dentry: bigint }): string {
  const prog = path.prog;
  const mntAddr = path.member('mnt').value();
  let dentry = path.member('dentry');
  if (mntAddr === 0n || dentry.isNull()) return '';
  const MAX = 4096;
  // Pseudo file systems name their dentries themselves (d_op->d_dname): pipe:[INO], socket:[INO], ...
  const inode = dentry.member('d_inode');
  const fsType = dentry.member('d_sb').member('s_type').member('name').string(64);
  const ino = inode.isNull() ? 0n : inode.member('i_ino').value();
  if (fsType === 'pipefs') return `pipe:[${ino}]`;
  if (fsType === 'sockfs') return `socket:[${ino}]`;
  if (fsType === 'anon_inodefs') return `anon_inode:${dentry.member('d_name').member('name').string(256)}`;
  let mount = prog.object('struct vfsmount', mntAddr).containerOf('struct mount', 'mnt');
  const parts: string[] = [];
  for (let n = 0; n < MAX; n++) {
    const d = dentry.value();
    const mnt = mount.member('mnt');
    if (root && d === root.dentry && mnt.address === root.mnt) break;
    if (d === mnt.member('mnt_root').value()) {
      const parent = mount.member('mnt_parent');
      if (parent.value() === mount.address) break; // the root mount
      dentry = mount.member('mnt_mountpoint');
      mount = parent.deref();
      continue;
    }
    const up = dentry.member('d_parent');
    if (up.value() === d) break; // the root of a file system that is not mounted
    parts.push(dentry.member('d_name').member('name').string(256));
    dentry = up;
  }
  return `/${parts.reverse().join('/')}`;
}

/** A task's open files (none when it has no files_struct: an exited task). */
export function taskFiles(tscrash: Tscrash, task: Obj): TaskFiles {
  const prog = task.prog;
  const out: TaskFiles = { task: tscrash.taskRef(task), files: [] };
  const fs = task.member('fs');
  let root: { mnt: bigint; dentry: bigint } | undefined;
  if (!fs.isNull()) {
    const r = fs.member('root');
    root = { mnt: r.member('mnt').value(), dentry: r.member('dentry').value() };
    out.root = pathName(r);
    out.cwd = pathName(fs.member('pwd'), root);
  }
  const files = task.member('files');
  if (files.isNull()) return out;
  const fdt = files.member('fdt');
  const max = fdt.member('max_fds').num();
  const fdArray = fdt.member('fd').value();
  const words = prog.memory.readVirt(fdArray, max * 8, 'fdtable.fd');
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  for (let fd = 0; fd < max; fd++) {
    const fileAddr = view.getBigUint64(fd * 8, true);
    if (fileAddr === 0n) continue;
    const file = prog.object('struct file', fileAddr);
    const dentry = file.member('f_path').member('dentry').value();
    const inodeObj = file.member('f_inode');
    const mode = inodeObj.isNull() ? 0 : inodeObj.member('i_mode').num();
    out.files.push({
      fd,
      file: fileAddr,
      dentry,
      inode: inodeObj.value(),
      type: fileType(mode),
      mode,
      ino: inodeObj.isNull() ? 0n : inodeObj.member('i_ino').value(),
      path: pathName(file.member('f_path'), root),
    });
  }
  return out;
}

/** crash's layout of one task's files. */
export function filesText(t: TaskFiles): string {
  let s = `${taskHeaderOf(t.task)}\n`;
  if (t.root !== undefined) s += `ROOT: ${t.root}    CWD: ${t.cwd}\n`;
  if (t.files.length === 0) return `${s}No open files\n`;
  s += ' FD       FILE            DENTRY           INODE       TYPE PATH\n';
  for (const f of t.files)
    s += `${String(f.fd).padStart(3)} ${hx16(f.file)} ${hx16(f.dentry)} ${hx16(f.inode)} ${f.type.padEnd(4)} ${f.path}\n`;
  return s;
}

let header: (t: Api.TaskRef) => string = () => '';
const taskHeaderOf = (t: Api.TaskRef): string => header(t);

export default function files(tscrash: Tscrash): void {
  header = tscrash.taskHeader;
  tscrash.registerCommand<FilesResult>({
    name: 'files',
    summary: "a task's open files: descriptors, file, dentry, inode, type and path",
    resultType: 'FilesResult',
    perTask: true,
    help: `NAME
  files - a task's open files (plugin)

SYNOPSIS
  files [pid | taskp]...

DESCRIPTION
  The task's root and current directories, then each open file descriptor of
  its fdtable (task->files->fdt): the struct file, its dentry and inode, the
  type from the inode's mode (REG DIR CHR BLK FIFO SOCK LNK), and the path, from
  the dentries' names up to the mount's root and the mount points up to the root
  mount (pipes, sockets and anonymous inodes as pipe:[INO], socket:[INO],
  anon_inode:NAME). With no argument, the current context's task, as crash's
  files does; foreach files shows every task's.

EXAMPLES
  files
  files 1
  foreach files
`,
    run(ctx, args): FilesResult {
      const prog = ctx.program;
      const tasks = args.length ? args.flatMap((a) => tscrash.resolveTasks(prog, a)) : [tscrash.currentTask(prog)];
      return { tasks: tasks.map((t) => taskFiles(tscrash, t)) };
    },
    text(r, ctx) {
      for (const [i, t] of r.tasks.entries()) ctx.out(`${i ? '\n' : ''}${filesText(t)}`);
    },
  });
}
