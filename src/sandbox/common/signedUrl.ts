// Short-lived, pre-authenticated URLs (download, thumbnail and upload URLs), as providers hand out:
// an HMAC over the resource and expiry, with a per-process key.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

// A KeyObject, created once: HMACs are computed for every item of every listing.
const key = createSecretKey(randomBytes(32));

export function signResource(resource: string, expiresAtMs: number): string {
  const exp = Math.floor(expiresAtMs / 1000).toString(36);
  const mac = createHmac('sha256', key).update(`${resource}|${exp}`).digest('base64url').slice(0, 32);
  return `${exp}.${mac}`;
}

export function verifyResource(resource: string, token: string | null, nowMs: number): boolean {
  if (!token) return false;
  const [exp, mac] = token.split('.');
  if (!exp || !mac) return false;
  const expected = createHmac('sha256', key).update(`${resource}|${exp}`).digest('base64url').slice(0, 32);
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return false;
  return parseInt(exp, 36) * 1000 > nowMs;
}
