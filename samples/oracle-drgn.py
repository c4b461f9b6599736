# drgn oracle for the samples: run as  python3 oracle-drgn.py VMLINUX VMCORE OUTDIR [MODULE.ko ...]
# Writes drgn-tasks.json, drgn-stacks.json, drgn-dmesg.txt, drgn-facts.json, drgn-modules.json.
import json
import os
import sys

import drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
from drgn.helpers.linux.printk import get_dmesg

vmlinux, vmcore, out = sys.argv[1:4]
prog = drgn.Program()
prog.set_core_dump(vmcore)
# The loaded modules' debug objects too: without them drgn cannot unwind past a module's frame.
modules_error = None
try:
    prog.load_debug_info([vmlinux, *sys.argv[4:]])
except drgn.MissingDebugInfoError as e:
    # drgn 0.0.22 cannot list a 6.12 kernel's modules ('struct module' has no member 'core_size'): the vmlinux alone.
    # Any other missing debug info is an error of the build.
    if "could not find loaded kernel modules" not in str(e):
        raise
    modules_error = str(e)
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    prog.load_debug_info([vmlinux])


def task_cpu(t):
    try:
        from drgn.helpers.linux.sched import task_cpu as tc
        return int(tc(t))
    except Exception:
        return int(t.thread_info.cpu)


tasks, stacks = [], []
for t in for_each_task(prog):
    entry = {
        "pid": int(t.pid),
        "ppid": int(t.real_parent.pid) if t.real_parent else 0,
        "state": task_state_to_char(t),
        "cpu": task_cpu(t),
        "task": hex(t.value_()),
        "comm": t.comm.string_().decode("latin-1"),
    }
    tasks.append(entry)
    frames = []
    try:
        for f in prog.stack_trace(t):
            name = f.name
            if name is None:
                try:
                    name = f.symbol().name
                except LookupError:
                    name = None
            frames.append({"name": name, "pc": hex(f.pc) if not f.interrupted or True else None,
                           "interrupted": bool(f.interrupted)})
        err = None
    except Exception as e:  # noqa: BLE001 - record why drgn could not unwind
        err = str(e)
    stacks.append({"pid": entry["pid"], "task": entry["task"], "frames": frames, "error": err})

with open(os.path.join(out, "drgn-tasks.json"), "w") as f:
    json.dump(tasks, f, indent=1)
with open(os.path.join(out, "drgn-stacks.json"), "w") as f:
    json.dump(stacks, f, indent=1)
with open(os.path.join(out, "drgn-dmesg.txt"), "wb") as f:
    f.write(get_dmesg(prog))

facts = {}
try:
    from drgn.helpers.linux.boot import kaslr_offset, pgtable_l5_enabled
    facts["kaslr_offset"] = hex(kaslr_offset(prog))
    facts["pgtable_l5_enabled"] = bool(pgtable_l5_enabled(prog))
except Exception as e:  # noqa: BLE001
    facts["kaslr_error"] = str(e)
for name in ["page_offset_base", "vmalloc_base", "vmemmap_base", "jiffies_64"]:
    try:
        facts[name] = hex(prog[name].value_())
    except Exception as e:  # noqa: BLE001
        facts[name + "_error"] = str(e)
import re
with open(vmcore, "rb") as f:
    head = f.read(8 << 20)
m = re.search(rb"NUMBER\(phys_base\)=(-?[0-9a-fA-Fx]+)", head)
if m:
    facts["phys_base"] = hex((int(m.group(1), 0) if m.group(1).startswith(b"0x") else int(m.group(1))) & 0xFFFFFFFFFFFFFFFF)
facts["init_uts_ns"] = hex(prog["init_uts_ns"].address_of_().value_())
try:
    facts["vmap_stack"] = hex([t for t in for_each_task(prog) if int(t.pid) == 1][0].stack.value_())
except Exception as e:  # noqa: BLE001
    facts["vmap_stack_error"] = str(e)
facts["init_uts_release"] = prog["init_uts_ns"].name.release.string_().decode()
facts["ntasks"] = len(tasks)
if modules_error:
    facts["modules_error"] = modules_error
# The task that crashed the kernel, as drgn finds it (the crashing CPU's registers in the core).
try:
    crashed = prog.crashed_thread()
    facts["crashed_pid"] = int(crashed.tid)
    facts["crashed_cpu"] = task_cpu(crashed.object)
    facts["crashed_task"] = hex(crashed.object.value_())
except Exception as e:  # noqa: BLE001
    facts["crashed_error"] = str(e)
with open(os.path.join(out, "drgn-facts.json"), "w") as f:
    json.dump(facts, f, indent=1)

mods = []
try:
    from drgn.helpers.linux.list import list_for_each_entry
    for m in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
        try:
            base = m.core_layout.base.value_()
            size = int(m.core_layout.size)
        except AttributeError:
            base = m.mem[0].base.value_()
            size = int(m.mem[0].size)
        mods.append({"name": m.name.string_().decode(), "module": hex(m.value_()), "base": hex(base), "size": size})
except Exception as e:  # noqa: BLE001
    mods = {"error": str(e)}
with open(os.path.join(out, "drgn-modules.json"), "w") as f:
    json.dump(mods, f, indent=1)
