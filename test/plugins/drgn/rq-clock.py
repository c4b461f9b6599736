# The latest run-queue clock of the online CPUs (rq->clock, sched_clock nanoseconds): the oracle of the lockup
# plugin's "now". argv: VMLINUX VMCORE. Prints {"now": N, "clocks": {cpu: N}}.
import json
import sys

import drgn
from drgn.helpers.linux.cpumask import for_each_online_cpu
from drgn.helpers.linux.percpu import per_cpu

prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
clocks = {cpu: int(per_cpu(prog["runqueues"], cpu).clock) for cpu in for_each_online_cpu(prog)}
print(json.dumps({"now": max(clocks.values()), "clocks": clocks}))
