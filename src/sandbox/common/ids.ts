// Deterministic identifiers, so seeded data (and the 10,000-item folders) are identical on every
// start and tests can name things by id.
import { createHash } from 'node:crypto';

export function digest(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** A GUID-shaped id derived from `seed` (version nibble 4, RFC 4122 variant). */
export function guid(seed: string): string {
  const h = digest(seed);
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32(seed: string, length: number): string {
  const h = digest(seed);
  let out = '';
  for (let i = 0; out.length < length; i++) out += BASE32[h[i % h.length]! % 32]!;
  return out;
}

export function alnum(seed: string, length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    for (const b of digest(`${seed}#${round}`)) {
      if (out.length >= length) break;
      out += alphabet[b % alphabet.length]!;
    }
  }
  return out;
}
