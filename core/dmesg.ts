/**
 * The kernel log from a dump, with no vmlinux: the layout of the log comes from
 * VMCOREINFO (or, through the same `PrintkLayout`, from DWARF in program/).
 * Three generations of the kernel's printk buffer are read:
 *  - the lockless ring buffer (5.10+): SYMBOL(prb), printk_ringbuffer,
 *    prb_desc_ring, prb_desc, prb_data_blk_lpos, printk_info, prb_data_ring;
 *  - the structured log_buf (3.5 to 5.9): log_buf, log_buf_len, log_first_idx,
 *    log_next_idx, printk_log records;
 *  - the plain character buffer (before 3.5): log_buf, log_buf_len, log_end.
 * `formatDmesg` renders records exactly as makedumpfile --dump-dmesg does.
 */
import { TscrashError } from './errors.js';
import type { KernelMemory } from './kernel-memory.js';
import type { VmcoreInfo } from './vmcoreinfo.js';

export interface LogRecord {
  seq?: bigint;
  tsNsec: bigint;
  /** Syslog level (0-7) and facility, when the format records them. */
  level?: number;
  facility?: number;
  /** PRINTK_CALLER id (T<pid> or C<cpu> packed: bit 31 set = CPU). */
  callerId?: number;
  text: Uint8Array;
}

/** Where the log lives and how its structures are laid out. */
export type PrintkLayout =
  | {
      kind: 'lockless';
      prb: bigint; // address of the `prb` pointer variable
      sizes: Record<'printk_ringbuffer' | 'prb_desc' | 'printk_info', number>;
      offsets: Record<string, number>; // 'prb_desc_ring.count_bits', ...
    }
  | {
      kind: 'structured';
      logBuf: bigint; // address of the `log_buf` pointer variable
      logBufLen: bigint;
      logFirstIdx: bigint;
      logNextIdx: bigint;
      sizes: Record<'printk_log', number>;
      offsets: Record<string, number>; // 'printk_log.len', 'printk_log.text_len', 'printk_log.ts_nsec', ...
    }
  | { kind: 'plain'; logBuf: bigint; logBufLen: bigint; logEnd: bigint };

const LOCKLESS_OFFSETS = [
  'printk_ringbuffer.desc_ring',
  'printk_ringbuffer.text_data_ring',
  'prb_desc_ring.count_bits',
  'prb_desc_ring.descs',
  'prb_desc_ring.infos',
  'prb_desc_ring.head_id',
  'prb_desc_ring.tail_id',
  'prb_desc.state_var',
  'prb_desc.text_blk_lpos',
  'prb_data_blk_lpos.begin',
  'prb_data_blk_lpos.next',
  'printk_info.seq',
  'printk_info.ts_nsec',
  'printk_info.text_len',
  'prb_data_ring.size_bits',
  'prb_data_ring.data',
  'atomic_long_t.counter',
];
const OPTIONAL_OFFSETS = ['printk_info.caller_id', 'printk_info.level', 'printk_info.facility', 'printk_log.caller_id'];

/** Build the printk layout from VMCOREINFO. */
export function printkLayoutFromVmcoreinfo(vi: VmcoreInfo): PrintkLayout {
  const offsets: Record<string, number> = {};
  const take = (names: string[], optional: boolean): void => {
    for (const n of names) {
      const v = vi.offsets.get(n);
      if (v !== undefined) offsets[n] = v;
      else if (!optional) throw new TscrashError(`VMCOREINFO lacks OFFSET(${n}), needed to read the kernel log`);
    }
  };
  if (vi.symbols.has('prb')) {
    take(LOCKLESS_OFFSETS, false);
    take(OPTIONAL_OFFSETS, true);
    return {
      kind: 'lockless',
      prb: vi.symbol('prb'),
      sizes: {
        printk_ringbuffer: vi.size('printk_ringbuffer'),
        prb_desc: vi.size('prb_desc'),
        printk_info: vi.size('printk_info'),
      },
      offsets,
    };
  }
  if (!vi.symbols.has('log_buf') || !vi.symbols.has('log_buf_len')) {
    throw new TscrashError('VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_buf): cannot find the kernel log');
  }
  if (vi.symbols.has('log_end')) {
    return {
      kind: 'plain',
      logBuf: vi.symbol('log_buf'),
      logBufLen: vi.symbol('log_buf_len'),
      logEnd: vi.symbol('log_end'),
    };
  }
  const struct = vi.sizes.has('printk_log') ? 'printk_log' : 'log';
  for (const f of ['len', 'text_len', 'ts_nsec']) {
    const v = vi.offsets.get(`${struct}.${f}`);
    if (v === undefined)
      throw new TscrashError(`VMCOREINFO lacks OFFSET(${struct}.${f}), needed to read the kernel log`);
    offsets[`printk_log.${f}`] = v;
  }
  for (const f of ['caller_id', 'dict_len']) {
    const v = vi.offsets.get(`${struct}.${f}`);
    if (v !== undefined) offsets[`printk_log.${f}`] = v;
  }
  return {
    kind: 'structured',
    logBuf: vi.symbol('log_buf'),
    logBufLen: vi.symbol('log_buf_len'),
    logFirstIdx: vi.symbol('log_first_idx'),
    logNextIdx: vi.symbol('log_next_idx'),
    sizes: { printk_log: vi.size(struct) },
    offsets,
  };
}

/** The kernel log as read: its records (structured printk) or the plain bytes (older log buffers). */
export type DmesgResult = { kind: 'records'; records: LogRecord[] } | { kind: 'plain'; bytes: Uint8Array };

const DESC_FLAGS_SHIFT = 62n;
const DESC_ID_MASK = (1n << 62n) - 1n;
const MAX_RING = 1 << 30;

/** Read the kernel log records (or, for pre-3.5 kernels, the raw character buffer). */
export function readDmesg(mem: KernelMemory, layout: PrintkLayout): DmesgResult {
  if (layout.kind === 'lockless') return { kind: 'records', records: readLockless(mem, layout) };
  if (layout.kind === 'structured') return { kind: 'records', records: readStructured(mem, layout) };
  return { kind: 'plain', bytes: readPlain(mem, layout) };
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function readLockless(mem: KernelMemory, l: Extract<PrintkLayout, { kind: 'lockless' }>): LogRecord[] {
  const o = l.offsets;
  const off = (n: string): number => o[n]!;
  const prbAddr = mem.readU64(l.prb, 'prb');
  const prb = dv(mem.readVirt(prbAddr, l.sizes.printk_ringbuffer, 'printk_ringbuffer'));
  const ring = off('printk_ringbuffer.desc_ring');
  const countBits = prb.getUint32(ring + off('prb_desc_ring.count_bits'), true);
  if (countBits > 24) throw new TscrashError(`printk ring: count_bits ${countBits} is implausible`);
  const count = 1 << countBits;
  const descsAddr = prb.getBigUint64(ring + off('prb_desc_ring.descs'), true);
  const infosAddr = prb.getBigUint64(ring + off('prb_desc_ring.infos'), true);
  const counter = off('atomic_long_t.counter');
  const headId = prb.getBigUint64(ring + off('prb_desc_ring.head_id') + counter, true);
  const tailId = prb.getBigUint64(ring + off('prb_desc_ring.tail_id') + counter, true);
  const data = off('printk_ringbuffer.text_data_ring');
  const sizeBits = prb.getUint32(data + off('prb_data_ring.size_bits'), true);
  if (sizeBits > 30) throw new TscrashError(`printk ring: size_bits ${sizeBits} is implausible`);
  const dataSize = 1 << sizeBits;
  if (dataSize > MAX_RING) throw new TscrashError('printk text ring too large');
  const dataAddr = prb.getBigUint64(data + off('prb_data_ring.data'), true);
  const descs = dv(mem.readVirt(descsAddr, l.sizes.prb_desc * count, 'printk descriptor ring'));
  const infos = dv(mem.readVirt(infosAddr, l.sizes.printk_info * count, 'printk info ring'));
  const text = mem.readVirt(dataAddr, dataSize, 'printk text ring');
  const records: LogRecord[] = [];
  const callerOff = o['printk_info.caller_id'];
  const levelOff = o['printk_info.level'];
  const facOff = o['printk_info.facility'];
  const record = (id: bigint): void => {
    const slot = Number(id % BigInt(count));
    const d = slot * l.sizes.prb_desc;
    const sv = descs.getBigUint64(d + off('prb_desc.state_var') + counter, true);
    if ((sv & DESC_ID_MASK) !== id) return;
    const state = Number(sv >> DESC_FLAGS_SHIFT);
    if (state !== 1 && state !== 2) return; // committed or finalized only
    const lpos = d + off('prb_desc.text_blk_lpos');
    let begin = Number(descs.getBigUint64(lpos + off('prb_data_blk_lpos.begin'), true) % BigInt(dataSize));
    const next = Number(descs.getBigUint64(lpos + off('prb_data_blk_lpos.next'), true) % BigInt(dataSize));
    if (begin === next) return;
    const inf = slot * l.sizes.printk_info;
    let textLen = infos.getUint16(inf + off('printk_info.text_len'), true);
    if (begin > next) begin = 0;
    begin += 8; // the block starts with its descriptor id
    if (next - begin < textLen) textLen = Math.max(0, next - begin);
    const rec: LogRecord = {
      seq: infos.getBigUint64(inf + off('printk_info.seq'), true),
      tsNsec: infos.getBigUint64(inf + off('printk_info.ts_nsec'), true),
      text: text.subarray(begin, begin + textLen),
    };
    if (callerOff !== undefined) rec.callerId = infos.getUint32(inf + callerOff, true);
    if (levelOff !== undefined) {
      // u8 facility; u8 flags:5, level:3 (printk_info in kernel/printk/printk_ringbuffer.h)
      rec.level = infos.getUint8(inf + levelOff) >> 5;
    }
    if (facOff !== undefined) rec.facility = infos.getUint8(inf + facOff);
    records.push(rec);
  };
  // From tail to head inclusive; ids wrap within DESC_ID_MASK. Bounded by the ring size.
  let id = tailId & DESC_ID_MASK;
  const head = headId & DESC_ID_MASK;
  for (let n = 0; id !== head && n <= count * 2; n++) {
    record(id);
    id = (id + 1n) & DESC_ID_MASK;
  }
  record(id);
  return records;
}

function readStructured(mem: KernelMemory, l: Extract<PrintkLayout, { kind: 'structured' }>): LogRecord[] {
  const bufAddr = mem.readU64(l.logBuf, 'log_buf');
  const len = mem.readU32(l.logBufLen, 'log_buf_len');
  if (len === 0 || len > MAX_RING) throw new TscrashError(`log_buf_len ${len} is implausible`);
  const first = mem.readU32(l.logFirstIdx, 'log_first_idx');
  const nextIdx = mem.readU32(l.logNextIdx, 'log_next_idx');
  const buf = mem.readVirt(bufAddr, len, 'log_buf');
  const b = dv(buf);
  const o = l.offsets;
  const hdr = l.sizes.printk_log;
  const lenAt = (p: number): number => (p + 2 <= len ? b.getUint16(p + o['printk_log.len']!, true) : 0);
  const records: LogRecord[] = [];
  let p = first;
  // Each record is at least a header long: that bounds the walk even on a corrupt (cyclic) buffer.
  for (let n = 0; p !== nextIdx && n <= len / Math.max(hdr, 1) + 1; n++) {
    if (p + hdr > len) break;
    let rec = p;
    if (lenAt(p) === 0) rec = 0; // end-of-buffer marker: the record is at the start
    const textLen = b.getUint16(rec + o['printk_log.text_len']!, true);
    const start = rec + hdr;
    const r: LogRecord = {
      tsNsec: b.getBigUint64(rec + o['printk_log.ts_nsec']!, true),
      text: buf.subarray(start, Math.min(start + textLen, len)),
    };
    if (o['printk_log.caller_id'] !== undefined) r.callerId = b.getUint32(rec + o['printk_log.caller_id']!, true);
    records.push(r);
    const msgLen = lenAt(p);
    p = msgLen === 0 ? lenAt(0) : p + msgLen;
    if (msgLen === 0 && lenAt(0) === 0) break;
  }
  return records;
}

function readPlain(mem: KernelMemory, l: Extract<PrintkLayout, { kind: 'plain' }>): Uint8Array {
  const bufAddr = mem.readU64(l.logBuf, 'log_buf');
  const len = mem.readU32(l.logBufLen, 'log_buf_len');
  if (len === 0 || len > MAX_RING) throw new TscrashError(`log_buf_len ${len} is implausible`);
  const end = mem.readU32(l.logEnd, 'log_end');
  if (end < len) return mem.readVirt(bufAddr, end, 'log_buf');
  const index = end & (len - 1);
  const out = new Uint8Array(len);
  out.set(mem.readVirt(bufAddr + BigInt(index), len - index, 'log_buf'), 0);
  out.set(mem.readVirt(bufAddr, index, 'log_buf'), len - index);
  return out;
}

const ISPRINT_OR_SPACE = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) ISPRINT_OR_SPACE[c] = 1;
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d]) ISPRINT_OR_SPACE[c] = 1;

/** How to render the log: the caller id, no timestamps or which kind, the levels. */
export interface FormatOptions {
  /** Print the PRINTK_CALLER id like newer makedumpfile (`[    T1] `); Debian's 1.7.2 does not. */
  callerId?: boolean;
  /** Leave out the timestamps (crash's log -t). */
  noTimestamp?: boolean;
  /** Another timestamp text for a record (crash's log -T: the wall-clock time), in the brackets. */
  timestamp?: (r: LogRecord) => string;
  /** Show each record's level as `<N>` after the timestamp (crash's log -m). */
  level?: boolean;
}

/** Render records as makedumpfile --dump-dmesg does, as bytes. */
export function formatDmesg(result: DmesgResult, opts: FormatOptions = {}): Uint8Array {
  if (result.kind === 'plain') return result.bytes;
  // Bytes straight into one growing buffer: the log can be megabytes, and a first run (no JIT yet) must be quick.
  let out = new Uint8Array(1 << 16);
  let n = 0;
  const room = (k: number): void => {
    if (n + k <= out.length) return;
    let size = out.length * 2;
    while (size < n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(out.subarray(0, n));
    out = next;
  };
  const ascii = (str: string): void => {
    room(str.length);
    for (let i = 0; i < str.length; i++) out[n++] = str.charCodeAt(i);
  };
  for (const r of result.records) {
    const sec = r.tsNsec / 1_000_000_000n;
    const usec = (r.tsNsec % 1_000_000_000n) / 1000n;
    let prefix = opts.noTimestamp
      ? ''
      : opts.timestamp
        ? `[${opts.timestamp(r)}] `
        : `[${sec.toString().padStart(5)}.${usec.toString().padStart(6, '0')}] `;
    if (opts.callerId && r.callerId !== undefined) {
      const cid = r.callerId >>> 0;
      const s = `${cid & 0x80000000 ? 'C' : 'T'}${(cid & 0x7fffffff) >>> 0}`;
      prefix += `[${s.padStart(6)}] `;
    }
    if (opts.level && r.level !== undefined) prefix += `<${r.level}>`;
    ascii(prefix);
    const text = r.text;
    // At most 11 bytes a byte (\xffffffXX), plus the newline.
    room(text.length * 11 + 1);
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (c === 0x0a) {
        out[n++] = 0x0a;
        room(prefix.length + (text.length - i) * 11 + 1);
        out.fill(0x20, n, n + prefix.length);
        n += prefix.length;
      } else if (ISPRINT_OR_SPACE[c]) out[n++] = c;
      // makedumpfile prints a signed char: bytes >= 0x80 come out as \xffffffXX.
      else ascii(c >= 0x80 ? `\\x${((0xffffff00 | c) >>> 0).toString(16)}` : `\\x${c.toString(16).padStart(2, '0')}`);
    }
    out[n++] = 0x0a;
  }
  return out.subarray(0, n);
}

/** The whole `--dump-dmesg` job for a dump: layout from VMCOREINFO, read, format. */
export function dumpDmesg(mem: KernelMemory, opts: FormatOptions = {}): Uint8Array {
  return formatDmesg(readDmesg(mem, printkLayoutFromVmcoreinfo(mem.vmcoreinfo)), opts);
}
