/**
 * The TUI's scrollback: lines split at newlines across chunks (UTF-8 sequences split between chunks too), the
 * limit drops whole lines from the top and never from the middle, wrapping at the width (wide characters take
 * two columns), a viewport that follows the end until scrolled and follows again at the end, and search.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayText, Scrollback, textWidth, wrap } from '../../repl/tui/scrollback.js';

describe('the scrollback', () => {
  test('chunks become lines; a UTF-8 character split across chunks is whole', () => {
    const sb = new Scrollback();
    const bytes = Buffer.from('ab\ncdé\nfg', 'utf8').toString('latin1');
    sb.appendBytes(bytes.slice(0, 6), 'out'); // cut inside é
    sb.appendBytes(bytes.slice(6), 'out');
    sb.endLine();
    assert.deepEqual(
      [0, 1, 2].map((i) => sb.text(i)),
      ['ab', 'cdé', 'fg'],
    );
    sb.append('error\n', 'error');
    assert.equal(sb.kind(3), 'error');
  });

  test('200,000 lines kept; beyond, whole lines leave from the top, in order, none from the middle', () => {
    const sb = new Scrollback(200_000);
    for (let i = 0; i < 250_000; i += 1000) {
      let chunk = '';
      for (let j = i; j < i + 1000; j++) chunk += `line ${j}\n`;
      sb.append(chunk, 'out');
    }
    assert.ok(sb.length >= 200_000 && sb.length <= 205_000, `${sb.length} lines kept`);
    assert.equal(sb.end, 250_000);
    for (let l = sb.first; l < sb.end; l += 997) assert.equal(sb.text(l), `line ${l}`);
    assert.equal(sb.text(sb.end - 1), 'line 249999');
  });

  test('wrapping, wide characters, control characters', () => {
    assert.deepEqual(wrap('abcdefgh', 3), ['abc', 'def', 'gh']);
    assert.deepEqual(wrap('漢字漢字', 5), ['漢字', '漢字']);
    assert.equal(textWidth('漢a'), 3);
    assert.equal(displayText('a\tb\x1b[31m'), 'a       b^[[31m');
  });

  test('the viewport follows the end; scrolling up stays; scrolling back down follows again', () => {
    const sb = new Scrollback();
    for (let i = 0; i < 100; i++) sb.append(`${i}\n`, 'out');
    const w = 20;
    const h = 10;
    assert.deepEqual(
      sb.view(w, h).map((r) => r.text),
      Array.from({ length: 10 }, (_, i) => `${90 + i}`),
    );
    sb.scroll(-25, w, h);
    assert.equal(sb.view(w, h)[0]!.text, '65');
    sb.append('100\n', 'out');
    assert.equal(sb.view(w, h)[0]!.text, '65', 'new output does not move a scrolled view');
    sb.scroll(1000, w, h);
    assert.equal(sb.follow, true);
    assert.equal(sb.view(w, h).at(-1)!.text, '100');
    sb.home();
    assert.equal(sb.view(w, h)[0]!.text, '0');
    // A long line wraps into rows; scrolling moves by rows.
    sb.toEnd();
    sb.append(`${'x'.repeat(45)}\n`, 'out');
    const rows = sb.view(w, h);
    assert.deepEqual(
      rows.slice(-3).map((r) => r.text.length),
      [20, 20, 5],
    );
  });

  test('search: older and newer matches, case-insensitive', () => {
    const sb = new Scrollback();
    sb.append('alpha\nBeta\ngamma\nbeta two\n', 'out');
    assert.equal(sb.search('beta', sb.end - 1, true), 3);
    assert.equal(sb.search('beta', 2, true), 1);
    assert.equal(sb.search('beta', 2, false), 3);
    assert.equal(sb.search('delta', sb.end - 1, true), undefined);
  });
});
