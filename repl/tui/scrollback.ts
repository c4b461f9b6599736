/**
 * The TUI's output: a scrollback of display lines (at most `limit`; the oldest are dropped from the top, whole
 * lines, never from the middle), a viewport over them in wrapped rows that follows the end unless scrolled, and
 * search. Kept apart from blessed so that it can be tested alone.
 */
import { StringDecoder } from 'node:string_decoder';

export type LineKind = 'out' | 'error' | 'command' | 'note';

export interface Row {
  /** Index of the logical line in the scrollback (absolute: counts dropped lines too). */
  line: number;
  text: string;
  kind: LineKind;
}

/** Display width of a character: 2 for East Asian wide and full-width forms, 0 for combining marks, else 1. */
export function charWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

export function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Split a line into rows of at most `width` columns. */
export function wrap(s: string, width: number): string[] {
  if (width <= 0) return [s];
  const rows: string[] = [];
  let cur = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > width) {
      rows.push(cur);
      cur = '';
      w = 0;
    }
    cur += ch;
    w += cw;
  }
  rows.push(cur);
  return rows;
}

/** Tabs expanded to 8 columns, other control characters shown as ^X, so that they cannot move the cursor. */
export function displayText(s: string): string {
  let out = '';
  let col = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 9) {
      const n = 8 - (col % 8);
      out += ' '.repeat(n);
      col += n;
    } else if (c < 0x20 || c === 0x7f) {
      out += `^${String.fromCharCode(c === 0x7f ? 63 : c + 64)}`;
      col += 2;
    } else if (c >= 0x80 && c < 0xa0) {
      out += '?';
      col += 1;
    } else {
      out += ch;
      col += charWidth(c);
    }
  }
  return out;
}

export class Scrollback {
  private texts: string[] = [];
  private kinds: LineKind[] = [];
  /** How many lines were dropped from the top (absolute index of texts[0]). */
  private dropped = 0;
  /** The line being written (no newline yet), appended to the last stored line. */
  private open = false;
  private decoder = new StringDecoder('utf8');
  /** The viewport: follows the end, or starts at (topLine, topRow). */
  follow = true;
  private topLine = 0;
  private topRow = 0;

  constructor(readonly limit = 200_000) {}

  get length(): number {
    return this.texts.length;
  }

  /** Absolute index of the first line kept. */
  get first(): number {
    return this.dropped;
  }

  /** Absolute index one past the last line. */
  get end(): number {
    return this.dropped + this.texts.length;
  }

  text(line: number): string {
    return this.texts[line - this.dropped] ?? '';
  }

  kind(line: number): LineKind {
    return this.kinds[line - this.dropped] ?? 'out';
  }

  /** Append command output: a byte string (one character a byte) in UTF-8, decoded across chunk boundaries. */
  appendBytes(s: string, kind: LineKind): void {
    this.append(this.decoder.write(Buffer.from(s, 'latin1')), kind);
  }

  /** Append text; lines end at '\n'. */
  append(s: string, kind: LineKind): void {
    if (!s) return;
    const parts = s.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const last = i === parts.length - 1;
      if (last && p === '') break; // the text ended with a newline
      if (this.open) {
        const at = this.texts.length - 1;
        this.texts[at] += p;
        if (kind === 'error') this.kinds[at] = kind;
      } else {
        this.texts.push(p);
        this.kinds.push(kind);
      }
      this.open = last;
    }
    if (s.endsWith('\n')) this.open = false;
    this.trim();
  }

  /** End the current line (a command's output ended without a newline). */
  endLine(): void {
    const rest = this.decoder.end();
    if (rest) this.append(rest, 'out');
    this.decoder = new StringDecoder('utf8');
    this.open = false;
  }

  private trim(): void {
    const excess = this.texts.length - this.limit;
    if (excess < Math.max(1000, this.limit / 50)) return;
    this.texts.splice(0, excess);
    this.kinds.splice(0, excess);
    this.dropped += excess;
    if (this.topLine < this.dropped) {
      this.topLine = this.dropped;
      this.topRow = 0;
    }
  }

  private rowsOf(line: number, width: number): string[] {
    return wrap(displayText(this.text(line)), width);
  }

  /** The `height` rows the viewport shows at `width` columns. */
  view(width: number, height: number): Row[] {
    if (this.follow) {
      const rows: Row[] = [];
      for (let l = this.end - 1; l >= this.first && rows.length < height; l--) {
        const rs = this.rowsOf(l, width);
        for (let r = rs.length - 1; r >= 0 && rows.length < height; r--) {
          rows.push({ line: l, text: rs[r]!, kind: this.kind(l) });
          this.topLine = l;
          this.topRow = r;
        }
      }
      return rows.reverse();
    }
    const rows: Row[] = [];
    for (let l = Math.max(this.topLine, this.first); l < this.end && rows.length < height; l++) {
      const rs = this.rowsOf(l, width);
      for (
        let r = l === this.topLine ? Math.min(this.topRow, rs.length - 1) : 0;
        r < rs.length && rows.length < height;
        r++
      )
        rows.push({ line: l, text: rs[r]!, kind: this.kind(l) });
    }
    return rows;
  }

  /** Scroll by `n` rows (negative: up, toward older output). Scrolling down to the end follows it again. */
  scroll(n: number, width: number, height: number): void {
    if (n === 0) return;
    if (this.follow) this.view(width, height); // fixes topLine/topRow at the end
    this.follow = false;
    let line = Math.max(this.topLine, this.first);
    let row = this.topRow;
    if (n < 0) {
      for (let k = 0; k < -n; k++) {
        if (row > 0) row--;
        else if (line > this.first) {
          line--;
          row = this.rowsOf(line, width).length - 1;
        } else break;
      }
      this.topLine = line;
      this.topRow = row;
      return;
    }
    for (let k = 0; k < n; k++) {
      if (row < this.rowsOf(line, width).length - 1) row++;
      else if (line < this.end - 1) {
        line++;
        row = 0;
      } else break;
    }
    this.topLine = line;
    this.topRow = row;
    // At (or past) the end: follow again.
    if (this.atEnd(width, height)) this.follow = true;
  }

  /** Whether the rows from the top of the viewport to the end fit in it. */
  private atEnd(width: number, height: number): boolean {
    let rows = 0;
    for (let l = Math.max(this.topLine, this.first); l < this.end; l++) {
      rows += this.rowsOf(l, width).length - (l === this.topLine ? this.topRow : 0);
      if (rows > height) return false;
    }
    return true;
  }

  home(): void {
    this.follow = false;
    this.topLine = this.first;
    this.topRow = 0;
  }

  toEnd(): void {
    this.follow = true;
  }

  /** Show `line` about a third of the way down. */
  reveal(line: number, width: number, height: number): void {
    this.follow = false;
    this.topLine = Math.max(this.first, line);
    this.topRow = 0;
    this.scroll(-Math.floor(height / 3), width, height);
    if (this.follow) return;
    // Keep the line in view if scrolling back up to it hit the end.
    if (!this.view(width, height).some((r) => r.line === line)) {
      this.topLine = line;
      this.topRow = 0;
      this.follow = false;
    }
  }

  /** The top line shown (absolute). */
  get top(): number {
    return this.topLine;
  }

  /**
   * The nearest line containing `needle` (case-insensitive), searching from `from` toward older lines
   * (`older`) or newer ones; undefined when none.
   */
  search(needle: string, from: number, older: boolean): number | undefined {
    if (!needle) return undefined;
    const n = needle.toLowerCase();
    if (older) {
      for (let l = Math.min(from, this.end - 1); l >= this.first; l--)
        if (this.text(l).toLowerCase().includes(n)) return l;
    } else {
      for (let l = Math.max(from, this.first); l < this.end; l++) if (this.text(l).toLowerCase().includes(n)) return l;
    }
    return undefined;
  }
}
