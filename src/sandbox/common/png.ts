// Real PNG files (RFC 2083) generated deterministically, so seeded images and their thumbnails
// are valid images of the sizes the providers advertise, without binary fixtures in the repo.
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A truecolor PNG of a diagonal gradient between two colours derived from `seed`. */
export function gradientPng(width: number, height: number, seed: number): Buffer {
  const a = [(seed * 97) % 256, (seed * 57 + 80) % 256, (seed * 31 + 160) % 256];
  const b = [255 - a[0]!, 255 - a[1]!, 255 - a[2]!];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const t = (x / Math.max(1, width - 1) + y / Math.max(1, height - 1)) / 2;
      for (let c = 0; c < 3; c++) raw[o++] = Math.round(a[c]! * (1 - t) + b[c]! * t);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolor
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Scales (w, h) to fit within `box` on its longer side, as thumbnail services do. */
export function fitWithin(w: number, h: number, box: number): { width: number; height: number } {
  const s = Math.min(1, box / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}
