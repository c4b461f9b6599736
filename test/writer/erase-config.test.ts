/**
 * --config's file format (makedumpfile.conf(5), read as makedumpfile's get_config_token() reads it) and the erase
 * map's application to pages: 'X' or zeros over the regions, each byte once, and the eraseinfo text of what was
 * erased. The resolution against a real vmlinux and the bytes of a real dump are tested against makedumpfile
 * --config in options-samples.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EraseMap } from '../../core/filter/erase.js';
import { ConfigError, parseEraseConfig } from '../../core/filter/erase-config.js';

test('erase commands, sections, comments, sizes and loops parse as makedumpfile reads them', () => {
  const e = parseEraseConfig(
    [
      '## a comment',
      'erase modules',
      '[vmlinux]  # the section name stops at ]',
      'erase\tcred_jar.name size 10',
      'erase cred_jar.array size 2K',
      'erase big size 1m',
      'erase vmlist.addr nullify',
      'erase a.b size other.len',
      'erase',
      '  split.over.lines',
      '[z90crypt]',
      'for ap_dev in ap_device_list.next within ap_device:list',
      '  erase ap_dev.reply.message size ap_dev.reply.length',
      'endfor',
      'for cj in cred_jar via slabp_cache',
      '  erase cj.name',
      'endfor',
    ].join('\n'),
  );
  const cmds = e.flatMap((x) => (x.kind === 'erase' ? [x.cmd] : []));
  assert.deepEqual(
    cmds.map((c) => [c.module, c.line, c.text, c.path, c.nullify, c.size]),
    [
      ['vmlinux', 2, 'modules', ['modules'], false, undefined],
      ['vmlinux', 4, 'cred_jar.name', ['cred_jar', 'name'], false, { bytes: 10 }],
      ['vmlinux', 5, 'cred_jar.array', ['cred_jar', 'array'], false, { bytes: 2048 }],
      ['vmlinux', 6, 'big', ['big'], false, { bytes: 1 << 20 }],
      ['vmlinux', 7, 'vmlist.addr', ['vmlist', 'addr'], true, undefined],
      ['vmlinux', 8, 'a.b', ['a', 'b'], false, { expr: ['other', 'len'] }],
      ['vmlinux', 9, 'split.over.lines', ['split', 'over', 'lines'], false, undefined],
    ],
  );
  const loops = e.flatMap((x) => (x.kind === 'for' ? [x.loop] : []));
  assert.equal(loops.length, 2);
  assert.equal(loops[0]!.module, 'z90crypt');
  assert.deepEqual(loops[0]!.within, { struct: 'ap_device', member: 'list' });
  assert.deepEqual(loops[0]!.list, ['ap_device_list', 'next']);
  assert.deepEqual(loops[0]!.body[0]!.size, { expr: ['ap_dev', 'reply', 'length'] });
  assert.equal(loops[1]!.via, 'slabp_cache');
  assert.equal(loops[1]!.body[0]!.text, 'cj.name');
});

test('bad configurations are errors with the line, in makedumpfile words', () => {
  const bad: [string, RegExp][] = [
    ['erase', /expected kernel symbol after 'erase' command/],
    ['erase x size', /expected size symbol after 'size' keyword/],
    ['erase x size -4', /size value must be positive/],
    ['bogus x', /Config error at 1: Invalid token 'bogus'/],
    ['[vmlinux\nerase x', /Invalid module section entry/],
    ['for i in arr\n erase i.x\n', /No matching 'endfor' found/],
    ['for i in arr\n erase j.x\nendfor', /Config error at 2: unused iteration variable 'i'/],
    ['for i arr\nendfor', /expected token 'in'/],
    ['for i in s within x:\nendfor', /expected list_head member after ':'/],
  ];
  for (const [text, re] of bad)
    assert.throws(
      () => parseEraseConfig(text),
      (e) => e instanceof ConfigError && re.test(e.message),
      text,
    );
});

test("the erase map writes 'X' or zeros over its regions, once, and records what it erased", () => {
  const warnings: string[] = [];
  const map = new EraseMap(
    [
      { vaddr: 0x1000n, size: 10, nullify: false, command: 0, text: 'a' },
      { vaddr: 0x1ffcn, size: 8, nullify: true, command: 1, text: 'p' }, // crosses a page boundary
      { vaddr: 0x1000n, size: 20, nullify: false, command: 2, text: 'same.start' }, // merged into 'a', larger
      { vaddr: 0x9000n, size: 4, nullify: false, command: 3, text: 'unmapped' },
      { vaddr: 0x5000n, size: 4, nullify: false, command: 4, text: 'not.dumped' },
    ],
    (va) => {
      if (va === 0x9000n) throw new Error('no page');
      return Number(va) + 0x10000; // a linear map
    },
    (m) => warnings.push(m),
  );
  assert.equal(map.size, 3);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^unmapped: 0x9000 is not mapped/);
  const ps = 4096;
  const pages = new Uint8Array(2 * ps).fill(0x11);
  map.applyPages(pages, Int32Array.from([0x11, 0x12]), 2, ps);
  assert.ok(
    pages.subarray(0, 20).every((b) => b === 0x58),
    "'X' over the merged region",
  );
  assert.equal(pages[20], 0x11);
  assert.ok(
    pages.subarray(ps - 4, ps + 4).every((b) => b === 0),
    'nullify: zeros across the page boundary',
  );
  assert.equal(pages[ps + 4], 0x11);
  // applying the same page again changes nothing in the record
  map.applyPages(pages, Int32Array.from([0x11]), 1, ps);
  assert.equal(Buffer.from(map.eraseInfo()).toString('latin1'), 'erase a size 20\nerase p nullify\n');
});
