import sharp from 'sharp';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './bitmap-font.js';
import { asciiFold } from './camera-identity.js';

export const SNAPSHOT_WIDTH = 320;
export const SNAPSHOT_HEIGHT = 180;

/** `2026-11-22 07:00:05` in Vietnam time (UTC+7, no DST), as camera overlays show local time. */
export function overlayTime(nowMs: number): string {
  return new Date(nowMs + 7 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A JPEG a technician can recognise: a seeded backdrop that pans with time, the camera's name and
 * its clock burnt in, so two snapshots taken at different times always differ. Encoded by sharp
 * (libvips) on libuv's thread pool: a pure-JavaScript encoder spent 20 ms and a burst of garbage
 * per image on the simulator's event loop, which made a thousand simulated cameras slower to
 * sweep than the platform sweeping them.
 */
export function renderSnapshot(name: string, nowMs: number, seed: number): Promise<Buffer> {
  const width = SNAPSHOT_WIDTH;
  const height = SNAPSHOT_HEIGHT;
  const data = Buffer.alloc(width * height * 4);
  const shift = Math.floor(nowMs / 1000) % width;
  const hue = seed % 97;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = ((x + shift) * 255) / width;
      data[i] = (40 + hue + band / 3) & 0xff;
      data[i + 1] = (60 + y / 2 + hue / 2) & 0xff;
      data[i + 2] = (90 + band / 4) & 0xff;
      data[i + 3] = 0xff;
    }
  }
  fillRect(data, width, 0, 0, width, 44, [0, 0, 0]);
  drawText(data, width, asciiFold(name).toUpperCase(), 6, 6, 2);
  drawText(data, width, overlayTime(nowMs), 6, 26, 2);
  return sharp(data, { raw: { width, height, channels: 4 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

function fillRect(
  data: Buffer,
  width: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  rgb: readonly [number, number, number],
): void {
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const i = (y * width + x) * 4;
      data[i] = rgb[0];
      data[i + 1] = rgb[1];
      data[i + 2] = rgb[2];
    }
  }
}

function drawText(data: Buffer, width: number, text: string, x0: number, y0: number, scale: number): void {
  const height = data.length / 4 / width;
  let x = x0;
  for (const char of text) {
    if (x + GLYPH_WIDTH * scale > width) break;
    glyph(char).forEach((column, cx) => {
      for (let cy = 0; cy < GLYPH_HEIGHT; cy++) {
        if (((column >> cy) & 1) === 0) continue;
        const px = x + cx * scale;
        const py = y0 + cy * scale;
        if (py + scale <= height) fillRect(data, width, px, py, scale, scale, [255, 255, 255]);
      }
    });
    x += (GLYPH_WIDTH + 1) * scale;
  }
}
