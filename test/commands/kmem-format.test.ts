/** crash's column justification (tools.c mkstring) as kmem's headers use it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { justify } from '../../commands/kmem.js';

describe('justify like crash mkstring', () => {
  test('centring puts the odd space on the right (LJUST) or on the left (RJUST)', () => {
    assert.equal(justify('PAGE', 16, 'center-l'), '      PAGE      ');
    assert.equal(justify('MAPPING', 16, 'center-r'), '     MAPPING    ');
    assert.equal(justify('VMAP_AREA', 16, 'center-l'), '   VMAP_AREA    ');
    assert.equal(justify('1000', 11, 'center-r'), '    1000   ');
    assert.equal(justify('0', 11, 'center-r'), '     0     ');
  });
  test('left, right, and strings already wider than the field', () => {
    assert.equal(justify('ab', 5, 'left'), 'ab   ');
    assert.equal(justify('ab', 5, 'right'), '   ab');
    assert.equal(justify('abcdef', 3, 'center-l'), 'abcdef');
  });
  test("the page table header equals crash's", () => {
    const hdr = `${justify('PAGE', 16, 'center-l')} ${justify('PHYSICAL', 8, 'right')} ${justify('MAPPING', 16, 'center-r')} ${justify('INDEX', 8, 'center-r')}CNT FLAGS`;
    assert.equal(hdr, '      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS');
  });
});
