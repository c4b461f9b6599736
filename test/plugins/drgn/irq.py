# Every IRQ's descriptor, actions and per-CPU counts as drgn sees them: python3 irq.py VMLINUX VMCORE
import json
import sys

import drgn
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu_ptr
from drgn.helpers.linux.radixtree import radix_tree_lookup

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
cpus = list(for_each_online_cpu(prog))
out = []
for irq in range(int(prog["nr_irqs"])):
    p = radix_tree_lookup(prog["irq_desc_tree"].address_of_(), irq)
    if not p:
        continue
    desc = drgn.cast("struct irq_desc *", p)
    actions = []
    a = desc.action
    while a:
        actions.append({"action": hex(a.value_()), "name": a.name.string_().decode(), "handler": hex(a.handler.value_())})
        a = a.next
    out.append({
        "irq": irq,
        "desc": hex(desc.value_()),
        "actions": actions,
        "counts": [int(per_cpu_ptr(desc.kstat_irqs, c)[0]) for c in cpus],
    })
json.dump({"cpus": cpus, "irqs": out}, sys.stdout)
