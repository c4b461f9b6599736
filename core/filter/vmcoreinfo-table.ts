/**
 * The KEY=value lines of VMCOREINFO as typed lookups for the page filter:
 * SYMBOL(x) (hex address), SIZE(t) / OFFSET(t.m) / LENGTH(x) / NUMBER(x)
 * (decimal, NUMBER may be negative). Absent keys are `undefined`, so features
 * are detected by presence, never by kernel version.
 */

export class VmcoreinfoTable {
  private readonly map = new Map<string, string>();

  constructor(readonly text: string) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const k = line.slice(0, eq);
      if (!this.map.has(k)) this.map.set(k, line.slice(eq + 1));
    }
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  raw(key: string): string | undefined {
    return this.map.get(key);
  }

  symbol(name: string): bigint | undefined {
    const v = this.map.get(`SYMBOL(${name})`);
    if (v === undefined || !/^[0-9a-fA-F]+$/.test(v)) return undefined;
    return BigInt(`0x${v}`);
  }

  private dec(key: string): number | undefined {
    const v = this.map.get(key);
    if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
    return Number(v);
  }

  size(type: string): number | undefined {
    return this.dec(`SIZE(${type})`);
  }

  offset(member: string): number | undefined {
    return this.dec(`OFFSET(${member})`);
  }

  length(name: string): number | undefined {
    return this.dec(`LENGTH(${name})`);
  }

  number(name: string): number | undefined {
    return this.dec(`NUMBER(${name})`);
  }

  /** NUMBER(x) or the hex-valued keys some kernels use (KERNELOFFSET). */
  hex(key: string): bigint | undefined {
    const v = this.map.get(key);
    if (v === undefined || !/^[0-9a-fA-F]+$/.test(v)) return undefined;
    return BigInt(`0x${v}`);
  }
}
