# Every task's open files as drgn sees them: python3 files.py VMLINUX VMCORE
import json
import stat
import sys

import drgn
from drgn.helpers.linux.fs import d_path, for_each_file
from drgn.helpers.linux.pid import for_each_task

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
TYPES = [(stat.S_ISREG, "REG"), (stat.S_ISDIR, "DIR"), (stat.S_ISCHR, "CHR"), (stat.S_ISBLK, "BLK"),
         (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "SOCK"), (stat.S_ISLNK, "LNK")]
out = []
for t in for_each_task(prog):
    entry = {"pid": int(t.pid), "task": hex(t.value_())}
    try:
        files = []
        for fd, f in for_each_file(t):
            mode = int(f.f_inode.i_mode)
            files.append({
                "fd": fd,
                "file": hex(f.value_()),
                "dentry": hex(f.f_path.dentry.value_()),
                "inode": hex(f.f_inode.value_()),
                "type": next((n for test, n in TYPES if test(mode)), "UNKN"),
                "ino": int(f.f_inode.i_ino),
                "fstype": f.f_inode.i_sb.s_type.name.string_().decode(),
                "path": d_path(f.f_path).decode("latin-1"),
            })
        entry["files"] = files
        entry["root"] = d_path(t.fs.root).decode("latin-1")
        entry["cwd"] = d_path(t.fs.pwd).decode("latin-1")
    except drgn.FaultError as e:
        entry["error"] = str(e)
    out.append(entry)
json.dump(out, sys.stdout)
