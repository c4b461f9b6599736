/** The built-in commands, registered in one explicit list. */
import { bt } from './bt.js';
import { dis } from './dis.js';
import { foreach } from './foreach.js';
import { help } from './help.js';
import { kmem } from './kmem.js';
import { log } from './log.js';
import { mce } from './mce.js';
import { mod } from './mod.js';
import { p } from './p.js';
import { ps } from './ps.js';
import { ptype } from './ptype.js';
import { rd } from './rd.js';
import { registerCommand } from './registry.js';
import { runq } from './runq.js';
import { set } from './set.js';
import { pointerTo, struct, union } from './struct.js';
import { sym } from './sym.js';
import { sys } from './sys.js';
import { task } from './task.js';
import { vtop } from './vtop.js';
import { whatis } from './whatis.js';

let done = false;
export function registerBuiltins(): void {
  if (done) return;
  done = true;
  for (const c of [
    help,
    log,
    mce,
    rd,
    sym,
    sys,
    vtop,
    kmem,
    ps,
    runq,
    set,
    foreach,
    struct,
    union,
    pointerTo,
    whatis,
    ptype,
    p,
    mod,
    bt,
    task,
    dis,
  ])
    registerCommand(c);
}

export { getCommand, listCommands, registerCommand } from './registry.js';
export { runLine } from './runner.js';
