/**
 * A PNG's pixels, for tests that look at a browser's screenshot: 8-bit RGB or RGBA, not interlaced (what Chromium
 * writes), inflated with node:zlib and unfiltered (PNG filters 0-4).
 */
import { inflateSync } from 'node:zlib';

export interface Png {
  width: number;
  height: number;
  /** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
  channels: number;
  /** Rows of width * channels bytes, top to bottom. */
  pixels: Buffer;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function decodePng(file: Buffer): Png {
  if (!file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off + 8 <= file.length) {
    const len = file.readUInt32BE(off);
    const type = file.toString('latin1', off + 4, off + 8);
    const data = file.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colourType = data[9];
      if (depth !== 8 || (colourType !== 2 && colourType !== 6) || data[12] !== 0)
        throw new Error(`PNG: depth ${depth}, colour type ${colourType}, interlace ${data[12]}: not handled`);
      channels = colourType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const up = y ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0;
      const bb = up[i]!;
      const c = i >= channels ? up[i - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = bb;
      else if (filter === 3) pred = (a + bb) >> 1;
      else if (filter === 4) {
        const p = a + bb - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - bb);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? bb : c;
      } else if (filter !== 0) throw new Error(`PNG: filter ${filter} on row ${y}`);
      row[i] = (src[i]! + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels have this colour ("#rrggbb"), within `tolerance` on each channel (antialiased edges aside). */
export function countColour(png: Png, hex: string, tolerance = 6): number {
  const r = Number.parseInt(hex.slice(1, 3), 16);
  const g = Number.parseInt(hex.slice(3, 5), 16);
  const bl = Number.parseInt(hex.slice(5, 7), 16);
  let n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const px = png.pixels;
    if (
      Math.abs(px[i]! - r) <= tolerance &&
      Math.abs(px[i + 1]! - g) <= tolerance &&
      Math.abs(px[i + 2]! - bl) <= tolerance
    )
      n++;
  }
  return n;
}
