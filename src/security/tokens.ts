import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of randomness, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * High-entropy secrets (API keys, session ids) are stored as SHA-256: unlike passwords they cannot
 * be guessed, so a slow hash buys nothing and would cost every request.
 */
export function sha256(value: string): Buffer {
  // One-shot hashing (no Hash object): this runs on every API-key request.
  return hash('sha256', value, 'buffer');
}

export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export const API_KEY_PREFIX = 'tk_';

/** `tk_<8-char id>_<secret>`: the prefix identifies a key in listings and in secret scanners. */
export function newApiKey(): { key: string; prefix: string } {
  const id = randomBytes(6).toString('base64url');
  const key = `${API_KEY_PREFIX}${id}_${randomToken(32)}`;
  return { key, prefix: `${API_KEY_PREFIX}${id}` };
}
