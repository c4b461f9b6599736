/**
 * Which task holds this mutex, and which wait for it: the owner from mutex.owner (a task_struct pointer whose
 * low three bits are the WAITERS, HANDOFF and PICKUP flags, as kernel/locking/mutex.c keeps them since 4.10),
 * the waiters from mutex.wait_list (struct mutex_waiter, each with its task).
 *
 *   tscrash run plugins/examples/mutex-owner.ts VMLINUX VMCORE -- MUTEX...
 *   e.g.  -- module_mutex cgroup_mutex text_mutex
 *
 * MUTEX is a variable, a variable's member path (sb_lock.foo), or a `struct mutex` address in hex.
 */
import type * as Tscrash from '../api.js';

const FLAGS = 0x07n;
const FLAG_NAMES: [bigint, string][] = [
  [0x01n, 'WAITERS'],
  [0x02n, 'HANDOFF'],
  [0x04n, 'PICKUP'],
];

function mutexAt(prog: Tscrash.Program, expr: string): Tscrash.Obj {
  if (/^(0x)?[0-9a-f]{8,16}$/i.test(expr))
    return prog.object('struct mutex', BigInt(expr.startsWith('0x') ? expr : `0x${expr}`));
  const [variable, ...path] = expr.split('.');
  let m = prog.variable(variable!);
  if (path.length) m = m.member(path.join('.'));
  return m;
}

function who(tscrash: typeof Tscrash, task: Tscrash.Obj): string {
  return `PID ${tscrash.helpers.taskPid(task)} "${tscrash.helpers.taskComm(task)}" (task 0x${task.address!.toString(16)})`;
}

export default async function mutexOwner(
  prog: Tscrash.Program,
  args: string[],
  tscrash: typeof Tscrash,
): Promise<number> {
  if (args.length === 0) {
    console.error('usage: mutex-owner MUTEX...   (a variable, VAR.member, or a struct mutex address)');
    return 2;
  }
  if (!prog.hasMember('struct mutex', 'owner')) {
    console.error("mutex-owner: this kernel's struct mutex has no owner member (before 4.10, or PREEMPT_RT)");
    return 1;
  }
  let failed = 0;
  for (const expr of args) {
    try {
      const m = mutexAt(prog, expr);
      const owner = m.member('owner');
      const word = (owner.hasMember('counter') ? owner.member('counter') : owner).value() as bigint;
      const raw = BigInt.asUintN(64, word);
      const taskAddr = raw & ~FLAGS;
      const flags = FLAG_NAMES.filter(([bit]) => raw & bit).map(([, n]) => n);
      const head = `${expr} (struct mutex 0x${m.address!.toString(16)})`;
      if (taskAddr === 0n) console.log(`${head}: not held${flags.length ? ` [${flags.join(' ')}]` : ''}`);
      else
        console.log(
          `${head}: held by ${who(tscrash, tscrash.helpers.taskAt(prog, taskAddr))}${flags.length ? ` [${flags.join(' ')}]` : ''}`,
        );
      let n = 0;
      for (const w of tscrash.helpers.listForEach(m.member('wait_list'), 'struct mutex_waiter', 'list')) {
        console.log(`  waiting: ${who(tscrash, w.member('task').deref())}`);
        n++;
      }
      if (n) console.log(`  ${n} waiting`);
    } catch (e) {
      failed++;
      console.log(`${expr}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failed ? 1 : 0;
}
