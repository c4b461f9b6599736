/**
 * crash's date format (`sys` DATE, `log -T`) against the C library itself: GNU date prints
 * "%a %b %e %T %Z %Y" of the same instants in the same TZ, as crash's ctime_tz does with strftime.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crashDate } from '../../commands/lib/localtime.js';

function libcDates(times: number[], tz: string | undefined): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tscrash-date-'));
  try {
    writeFileSync(join(dir, 'in'), times.map((t) => `@${t}\n`).join(''));
    const env = { ...process.env };
    if (tz === undefined) delete env.TZ;
    else env.TZ = tz;
    const r = spawnSync('date', ['-f', join(dir, 'in'), '+%a %b %e %T %Z %Y'], { encoding: 'latin1', env });
    if (r.error) throw r.error;
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').slice(0, times.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function withTz<T>(tz: string | undefined, f: () => T): T {
  const saved = process.env.TZ;
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

/** Every day of 2026 at 15:13:59 UTC (days 1-9 and 10-31 of every month), other years, and around DST changes. */
function instants(): number[] {
  const out: number[] = [];
  for (let d = 0; d < 365; d++) out.push(Date.UTC(2026, 0, 1, 15, 13, 59) / 1000 + d * 86400);
  for (const y of [1970, 1971, 1999, 2000, 2024, 2037, 2038, 2039, 2100, 2200]) {
    for (const m of [0, 1, 2, 5, 9, 11]) out.push(Date.UTC(y, m, (y % 9) + 1, 3, 4, 5) / 1000);
  }
  out.push(0, 1, -1, 2147483647, 2147483648, -2147483648, -5000000000, 4102444800);
  // Each half hour through the days of the year's DST changes in the northern and southern zones tested.
  for (const [y, m, d] of [
    [2026, 2, 8],
    [2026, 2, 29],
    [2026, 3, 5],
    [2026, 3, 12],
    [2026, 8, 27],
    [2026, 9, 4],
    [2026, 9, 25],
    [2026, 10, 1],
    [2045, 2, 12],
    [2045, 9, 29],
  ] as [number, number, number][]) {
    const start = Date.UTC(y, m, d - 1) / 1000;
    for (let s = 0; s < 3 * 86400; s += 1800) out.push(start + s, start + s + 1799);
  }
  return out;
}

const ZONES: (string | undefined)[] = [
  undefined,
  'UTC',
  '',
  'America/New_York',
  'Europe/Paris',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'America/Sao_Paulo',
  'Pacific/Chatham',
  ':Europe/London',
  '/usr/share/zoneinfo/Asia/Tokyo',
  'Etc/GMT+5',
  'EST5EDT,M3.2.0,M11.1.0',
  'EST5EDT',
  'CET-1CEST,M3.5.0,M10.5.0/3',
  '<+0330>-3:30',
  '<-03>3<-02>,M3.5.0/-2,M10.5.0/-1',
  'JST-9',
  'AAA3BBB,J60/2,J300/2',
  'AAA3BBB,59/2,299/2',
  'garbage',
  'Nonsense/Zone',
  'ab',
];

describe("crash's date format equals the C library's localtime + strftime", () => {
  const times = instants();
  for (const tz of ZONES) {
    test(`TZ=${tz === undefined ? '(unset)' : JSON.stringify(tz)}: ${times.length} instants`, () => {
      const want = libcDates(times, tz);
      withTz(tz, () => {
        for (const [i, t] of times.entries()) assert.equal(crashDate(t), want[i], `@${t}`);
      });
    });
  }

  test('a damaged zone file gives what the C library gives, without an exception', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tscrash-tz-'));
    try {
      const real = readFileSync('/usr/share/zoneinfo/Europe/Paris');
      const cases: Buffer[] = [
        real.subarray(0, 100),
        real.subarray(0, 44),
        Buffer.from('TZif2'),
        real.subarray(0, real.length - 10),
      ];
      const corrupt = Buffer.from(real);
      corrupt.writeUInt32BE(0xffffff, 32); // an impossible transition count
      cases.push(corrupt);
      cases.forEach((b, i) => {
        const path = join(dir, `zone${i}`);
        writeFileSync(path, b);
        const want = libcDates([1700000000, 1690000000], path);
        withTz(path, () => {
          assert.equal(crashDate(1700000000), want[0], `${path}`);
          assert.equal(crashDate(1690000000), want[1], `${path}`);
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
