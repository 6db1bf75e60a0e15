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

const cache = new Map<string, Buffer>();

/** A truecolor PNG of a diagonal gradient between two colours derived from `seed` (memoised). */
export function gradientPng(width: number, height: number, seed: number): Buffer {
  const key = `${width}x${height}:${seed}`;
  let png = cache.get(key);
  if (!png) {
    png = encodeGradient(width, height, seed);
    if (cache.size > 256) cache.clear();
    cache.set(key, png);
  }
  return png;
}

function encodeGradient(width: number, height: number, seed: number): Buffer {
  const a = [(seed * 97) % 256, (seed * 57 + 80) % 256, (seed * 31 + 160) % 256];
  const d = [255 - 2 * a[0]!, 255 - 2 * a[1]!, 255 - 2 * a[2]!]; // b - a, with b = 255 - a
  const stride = width * 3 + 1;
  const raw = new Uint8Array(stride * height);
  const fx = 0.5 / Math.max(1, width - 1);
  const fy = 0.5 / Math.max(1, height - 1);
  for (let y = 0; y < height; y++) {
    let o = y * stride + 1; // byte 0 of each row: filter type 0 (none)
    const ty = y * fy;
    for (let x = 0; x < width; x++) {
      const t = x * fx + ty;
      raw[o++] = (a[0]! + d[0]! * t + 0.5) | 0;
      raw[o++] = (a[1]! + d[1]! * t + 0.5) | 0;
      raw[o++] = (a[2]! + d[2]! * t + 0.5) | 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolor
  // Fast compression: these are test fixtures, generated on every start.
  const idat = deflateSync(raw, { level: 1 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Scales (w, h) to fit within `box` on its longer side, as thumbnail services do. */
export function fitWithin(w: number, h: number, box: number): { width: number; height: number } {
  const s = Math.min(1, box / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}
