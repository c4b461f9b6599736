/** struct new_utsname of init_uts_ns (include/linux/utsname.h): the kernel's identity. */
import type { Program } from '../program/program.js';

/** The fields of a utsname. */
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

const FIELDS: (keyof Utsname)[] = ['sysname', 'nodename', 'release', 'version', 'machine', 'domainname'];
/** __NEW_UTS_LEN + 1 */
const LEN = 65;

/** The kernel's utsname (init_uts_ns): sysname, nodename, release, version, machine. */
export function utsname(prog: Program): Utsname {
  const vi = prog.vmcoreinfo;
  const base = vi.symbol('init_uts_ns') + BigInt(vi.offsets.get('uts_namespace.name') ?? 0);
  const raw = prog.memory.readVirt(base, LEN * FIELDS.length, 'init_uts_ns.name');
  const out = {} as Utsname;
  FIELDS.forEach((f, i) => {
    const s = raw.subarray(i * LEN, (i + 1) * LEN);
    const nul = s.indexOf(0);
    out[f] = Buffer.from(s.subarray(0, nul < 0 ? LEN : nul)).toString('latin1');
  });
  return out;
}
