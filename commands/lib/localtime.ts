/**
 * Local time as the C library gives it (localtime + strftime), for the dates crash prints: `sys` DATE and `log -T`
 * use strftime("%a %b %e %T %Z %Y") in the zone of the process. Node's ICU knows the offsets but not libc's zone
 * abbreviations (it says GMT+1 where glibc says CET), so the zone is read here as glibc reads it:
 *
 * - TZ unset: /etc/localtime; TZ empty: UTC.
 * - TZ=[:]NAME: the TZif file NAME (absolute) or $TZDIR/NAME (default /usr/share/zoneinfo): RFC 8536 versions 1-4,
 *   the 64-bit data of version 2 and later, and its footer (a POSIX TZ string) past the last transition.
 * - Otherwise TZ itself is a POSIX TZ string: `std offset [dst [offset] [,rule[/time],rule[/time]]]`. As glibc: a
 *   name shorter than 3 characters makes the whole string invalid (UTC, abbreviation ""); a valid name with no
 *   offset is UTC under that name.
 */
import { readFileSync } from 'node:fs';

interface LocalType {
  utoff: number;
  isDst: boolean;
  abbr: string;
}

type RuleDay =
  | { kind: 'julian1'; day: number }
  | { kind: 'julian0'; day: number }
  | { kind: 'month'; month: number; week: number; weekday: number };

interface PosixZone {
  std: LocalType;
  dst?: LocalType & { start: RuleDay; startTime: number; end: RuleDay; endTime: number };
}

interface Zone {
  /** Transition times (seconds since the epoch), ascending, and the local type each starts. */
  times: number[];
  typeIndex: number[];
  types: LocalType[];
  /** The rule for times at and after the last transition (the TZif footer), or the whole zone. */
  rule?: PosixZone;
}

const UTC_ZONE: Zone = { times: [], typeIndex: [], types: [{ utoff: 0, isDst: false, abbr: 'UTC' }] };
const INVALID_ZONE: Zone = { times: [], typeIndex: [], types: [{ utoff: 0, isDst: false, abbr: '' }] };

let cache: { key: string | undefined; zone: Zone } | undefined;

/** The zone of the process's TZ (re-read when TZ changes). */
function currentZone(): Zone {
  const tz = process.env.TZ;
  if (cache && cache.key === tz) return cache.zone;
  const zone = loadZone(tz);
  cache = { key: tz, zone };
  return zone;
}

function loadZone(tz: string | undefined): Zone {
  if (tz === undefined) return readTzif('/etc/localtime') ?? UTC_ZONE;
  if (tz === '') return UTC_ZONE;
  const name = tz.startsWith(':') ? tz.slice(1) : tz;
  const file = name.startsWith('/') ? name : `${process.env.TZDIR || '/usr/share/zoneinfo'}/${name}`;
  if (name && !name.split('/').includes('..')) {
    const z = readTzif(file);
    if (z) return z;
  }
  const rule = parsePosixTz(name);
  return rule ? { times: [], typeIndex: [], types: [rule.std], rule } : INVALID_ZONE;
}

/** A TZif file (RFC 8536), or undefined when it is missing or not sound. */
function readTzif(path: string): Zone | undefined {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return undefined;
  }
  try {
    return decodeTzif(b);
  } catch {
    return undefined;
  }
}

function decodeTzif(b: Buffer): Zone | undefined {
  const header = (at: number): number[] | undefined => {
    if (at + 44 > b.length || b.toString('latin1', at, at + 4) !== 'TZif') return undefined;
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    return [0, 1, 2, 3, 4, 5].map((i) => b.readUInt32BE(at + 20 + i * 4));
  };
  const h1 = header(0);
  if (!h1) return undefined;
  const version = b[4]!;
  const blockSize = (h: number[], timeSize: number): number =>
    h[3]! * timeSize + h[3]! + h[4]! * 6 + h[5]! + h[2]! * (timeSize + 4) + h[1]! + h[0]!;
  let at = 44;
  let h = h1;
  let timeSize = 4;
  if (version >= 0x32) {
    // Version 2+: skip the 32-bit block; the second header and 64-bit data follow.
    at += blockSize(h1, 4);
    const h2 = header(at);
    if (!h2) return undefined;
    h = h2;
    at += 44;
    timeSize = 8;
  }
  const [, , , timecnt, typecnt, charcnt] = h as [number, number, number, number, number, number];
  if (typecnt === 0 || at + blockSize(h, timeSize) > b.length) return undefined;
  const blockEnd = at + blockSize(h, timeSize);
  const times: number[] = [];
  for (let i = 0; i < timecnt; i++) {
    times.push(timeSize === 8 ? Number(b.readBigInt64BE(at + i * 8)) : b.readInt32BE(at + i * 4));
  }
  at += timecnt * timeSize;
  const typeIndex: number[] = [];
  for (let i = 0; i < timecnt; i++) {
    const t = b[at + i]!;
    if (t >= typecnt) return undefined;
    typeIndex.push(t);
  }
  at += timecnt;
  const charsAt = at + typecnt * 6;
  const types: LocalType[] = [];
  for (let i = 0; i < typecnt; i++) {
    const o = at + i * 6;
    const idx = b[o + 5]!;
    if (idx >= charcnt) return undefined;
    const end = b.indexOf(0, charsAt + idx);
    types.push({
      utoff: b.readInt32BE(o),
      isDst: b[o + 4] !== 0,
      abbr: b.toString('latin1', charsAt + idx, end < 0 || end > charsAt + charcnt ? charsAt + charcnt : end),
    });
  }
  at = blockEnd;
  let rule: PosixZone | undefined;
  if (timeSize === 8 && b[at] === 0x0a) {
    const end = b.indexOf(0x0a, at + 1);
    if (end > at + 1) rule = parsePosixTz(b.toString('latin1', at + 1, end));
  }
  return { times, typeIndex, types, rule };
}

/* ---------------------------------------------------------- POSIX TZ strings */

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? '';
  }
  done(): boolean {
    return this.i >= this.s.length;
  }
}

function parseName(c: Cursor): string | undefined {
  let name: string;
  if (c.peek() === '<') {
    const end = c.s.indexOf('>', c.i);
    if (end < 0) return undefined;
    name = c.s.slice(c.i + 1, end);
    if (!/^[A-Za-z0-9+-]*$/.test(name)) return undefined;
    c.i = end + 1;
  } else {
    const m = /^[A-Za-z]*/.exec(c.s.slice(c.i))!;
    name = m[0];
    c.i += name.length;
  }
  return name.length >= 3 ? name : undefined;
}

/** [+-]hh[:mm[:ss]] as seconds; hours up to 167 (RFC 8536's extension for rule times). */
function parseHms(c: Cursor, signed: boolean): number | undefined {
  const m = (
    signed ? /^([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/ : /^()(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?/
  ).exec(c.s.slice(c.i));
  if (!m) return undefined;
  c.i += m[0].length;
  const v = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -v : v;
}

function parseRuleDay(c: Cursor): RuleDay | undefined {
  const rest = c.s.slice(c.i);
  let m = /^J(\d{1,3})/.exec(rest);
  if (m) {
    c.i += m[0].length;
    const day = Number(m[1]);
    return day >= 1 && day <= 365 ? { kind: 'julian1', day } : undefined;
  }
  m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(rest);
  if (m) {
    c.i += m[0].length;
    const [month, week, weekday] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return month >= 1 && month <= 12 && week >= 1 && week <= 5 && weekday <= 6
      ? { kind: 'month', month, week, weekday }
      : undefined;
  }
  m = /^(\d{1,3})/.exec(rest);
  if (m) {
    c.i += m[0].length;
    const day = Number(m[1]);
    return day <= 365 ? { kind: 'julian0', day } : undefined;
  }
  return undefined;
}

/** A POSIX TZ string; undefined when its standard-time name is not valid (glibc then uses UTC, named ""). */
export function parsePosixTz(s: string): PosixZone | undefined {
  const c = new Cursor(s);
  const stdName = parseName(c);
  if (stdName === undefined) return undefined;
  const stdOff = parseHms(c, true);
  // POSIX offsets are west of Greenwich: EST5 is UTC-5.
  const std: LocalType = { utoff: stdOff === undefined ? 0 : -stdOff, isDst: false, abbr: stdName };
  if (stdOff === undefined || c.done()) return { std };
  const save = c.i;
  const dstName = parseName(c);
  if (dstName === undefined) {
    c.i = save;
    return { std };
  }
  let dstOff = std.utoff + 3600;
  if (c.peek() !== ',' && !c.done()) {
    const o = parseHms(c, true);
    if (o !== undefined) dstOff = -o;
  }
  // With no rule, the US rules POSIX names as the default.
  let start: RuleDay = { kind: 'month', month: 3, week: 2, weekday: 0 };
  let end: RuleDay = { kind: 'month', month: 11, week: 1, weekday: 0 };
  let startTime = 7200;
  let endTime = 7200;
  if (c.peek() === ',') {
    c.i++;
    const a = parseRuleDay(c);
    if (!a) return { std };
    start = a;
    if (c.peek() === '/') {
      c.i++;
      startTime = parseHms(c, true) ?? 7200;
    }
    if (c.peek() !== ',') return { std };
    c.i++;
    const b = parseRuleDay(c);
    if (!b) return { std };
    end = b;
    if (c.peek() === '/') {
      c.i++;
      endTime = parseHms(c, true) ?? 7200;
    }
  }
  return { std, dst: { utoff: dstOff, isDst: true, abbr: dstName, start, startTime, end, endTime } };
}

const DAY = 86400;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Seconds from the epoch to 00:00 (in the zone's own clock) of the rule's day in year y. */
function ruleDayStart(y: number, d: RuleDay): number {
  const jan1 = Date.UTC(y, 0, 1) / 1000;
  switch (d.kind) {
    case 'julian1':
      // Day 1..365, February 29 never counted.
      return jan1 + (d.day - 1 + (isLeap(y) && d.day >= 60 ? 1 : 0)) * DAY;
    case 'julian0':
      return jan1 + d.day * DAY;
    case 'month': {
      const first = Date.UTC(y, d.month - 1, 1) / 1000;
      const firstWeekday = new Date(first * 1000).getUTCDay();
      let day = ((d.weekday - firstWeekday + 7) % 7) + (d.week - 1) * 7;
      const days = new Date(Date.UTC(y, d.month, 0)).getUTCDate();
      while (day >= days) day -= 7;
      return first + day * DAY;
    }
  }
}

function posixType(z: PosixZone, t: number): LocalType {
  const dst = z.dst;
  if (!dst) return z.std;
  // As glibc's __tz_compute: the rules of the UTC year of t, and for years up to 1970 the days of that year
  // counted from 1970-01-01 (its compute_change starts no earlier than the epoch).
  const year = new Date(t * 1000).getUTCFullYear();
  const base = year > 1970 ? Date.UTC(year, 0, 1) / 1000 : 0;
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  const starts = base + ruleDayStart(year, dst.start) - jan1 + dst.startTime - z.std.utoff;
  const ends = base + ruleDayStart(year, dst.end) - jan1 + dst.endTime - dst.utoff;
  const inDst = starts < ends ? t >= starts && t < ends : !(t >= ends && t < starts);
  return inDst ? dst : z.std;
}

function zoneType(z: Zone, t: number): LocalType {
  const n = z.times.length;
  if (n === 0 || t < z.times[0]!) {
    if (n === 0 && z.rule) return posixType(z.rule, t);
    // Before the first transition: the first standard-time type, as glibc picks it.
    return z.types.find((x) => !x.isDst) ?? z.types[0]!;
  }
  if (t >= z.times[n - 1]! && z.rule) return posixType(z.rule, t);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (z.times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return z.types[z.typeIndex[lo]!]!;
}

export interface LocalTime {
  year: number;
  /** 0-11 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
  utoff: number;
  isDst: boolean;
  abbr: string;
}

/** localtime(3) of seconds since the epoch, in the process's zone. */
export function localTime(epochSeconds: number | bigint): LocalTime {
  const t = Number(epochSeconds);
  const type = zoneType(currentZone(), t);
  const d = new Date((t + type.utoff) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    utoff: type.utoff,
    isDst: type.isDst,
    abbr: type.abbr,
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** crash's date (its ctime_tz): strftime "%a %b %e %T %Z %Y" of localtime, e.g. `Wed Dec  2 15:13:59 UTC 2026`. */
export function crashDate(epochSeconds: number | bigint): string {
  const l = localTime(epochSeconds);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[l.weekday]} ${MONTHS[l.month]} ${String(l.day).padStart(2, ' ')} ${p(l.hour)}:${p(l.minute)}:${p(l.second)} ${l.abbr} ${l.year}`;
}
