/**
 * VMCOREINFO: the KEY=value lines the kernel leaves for dump tools
 * (kernel/vmcore_info.c, arch/x86/kernel/crash_core_64.c): OSRELEASE,
 * BUILD-ID, PAGESIZE, CRASHTIME, KERNELOFFSET, SYMBOL(x), SIZE(t),
 * OFFSET(t.m), LENGTH(x), NUMBER(x).
 */
import { BadDataError, LookupError } from './errors.js';

export class VmcoreInfo {
  readonly raw: Map<string, string> = new Map();
  readonly symbols: Map<string, bigint> = new Map();
  readonly sizes: Map<string, number> = new Map();
  readonly offsets: Map<string, number> = new Map();
  readonly lengths: Map<string, number> = new Map();
  readonly numbers: Map<string, bigint> = new Map();

  /**
   * `file` and `textOffset` (the file offset of the text) let a malformed value's error say where it is; the
   * values that tscrash cannot do without (KERNELOFFSET) are checked, the others left out when malformed.
   */
  constructor(
    readonly text: string,
    readonly file = 'VMCOREINFO',
    readonly textOffset = 0,
  ) {
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1).trim();
      this.raw.set(key, value);
      const m = /^(SYMBOL|SIZE|OFFSET|LENGTH|NUMBER)\((.+)\)$/.exec(key);
      if (!m) continue;
      const name = m[2]!;
      try {
        switch (m[1]) {
          case 'SYMBOL':
            this.symbols.set(name, BigInt(`0x${value}`));
            break;
          case 'SIZE':
            this.sizes.set(name, Number.parseInt(value, 10));
            break;
          case 'OFFSET':
            this.offsets.set(name, Number.parseInt(value, 10));
            break;
          case 'LENGTH':
            this.lengths.set(name, Number.parseInt(value, 10));
            break;
          case 'NUMBER':
            this.numbers.set(name, BigInt(value));
            break;
        }
      } catch {
        // A malformed value is left out; lookups then say it is missing.
      }
    }
  }

  get osrelease(): string | undefined {
    return this.raw.get('OSRELEASE');
  }
  get buildId(): string | undefined {
    return this.raw.get('BUILD-ID');
  }
  get pageSize(): number | undefined {
    const v = this.raw.get('PAGESIZE');
    return v ? Number.parseInt(v, 10) : undefined;
  }
  get crashTime(): number | undefined {
    const v = this.raw.get('CRASHTIME');
    return v ? Number.parseInt(v, 10) : undefined;
  }
  /** KASLR offset (KERNELOFFSET, hex), 0 when absent; a value that is not hex digits is a BadDataError. */
  get kernelOffset(): bigint {
    const v = this.raw.get('KERNELOFFSET');
    if (!v) return 0n;
    if (!/^[0-9a-fA-F]{1,16}$/.test(v)) {
      throw new BadDataError(
        `VMCOREINFO's KERNELOFFSET=${JSON.stringify(v).slice(1, -1)} is not a hexadecimal number`,
        this.file,
        this.offsetOf('KERNELOFFSET='),
      );
    }
    return BigInt(`0x${v}`);
  }

  /** Where a line starts, as an offset into the file: the text's own offset plus the line's. */
  private offsetOf(prefix: string): number {
    const i = this.text.startsWith(prefix) ? 0 : this.text.indexOf(`\n${prefix}`) + 1;
    return this.textOffset + Math.max(0, i);
  }

  private need<T>(map: Map<string, T>, kind: string, name: string): T {
    const v = map.get(name);
    if (v === undefined) throw new LookupError(`VMCOREINFO has no ${kind}(${name})`);
    return v;
  }
  symbol(name: string): bigint {
    return this.need(this.symbols, 'SYMBOL', name);
  }
  size(name: string): number {
    return this.need(this.sizes, 'SIZE', name);
  }
  offset(name: string): number {
    return this.need(this.offsets, 'OFFSET', name);
  }
  length(name: string): number {
    return this.need(this.lengths, 'LENGTH', name);
  }
  number(name: string): bigint {
    return this.need(this.numbers, 'NUMBER', name);
  }
}
