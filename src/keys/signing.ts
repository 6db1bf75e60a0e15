import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authentication between Tether and the remote key service: HMAC-SHA256 with the shared secret
 * (`keys.remoteToken`), in both directions, so the secret itself never crosses the wire.
 *
 * - Request:  `Tether-Key-Signature: t=<unix seconds>,v1=<hex HMAC("request\n" t "\n" method "\n" path "\n" sha256(body))>`.
 *   The service refuses a timestamp more than 5 minutes off (a replay window, not a clock test).
 * - Response: `Tether-Key-Signature: v1=<hex HMAC("response\n" requestSignature "\n" status "\n" sha256(body))>`.
 *   Bound to the request's signature, so a recorded answer cannot be replayed to another request,
 *   and a client never uses an answer (a data key!) that the service did not sign.
 *
 * Run the key service behind TLS as well when it is not on the same host: the signatures give
 * authenticity, not secrecy, and unwrap answers carry data keys.
 */
export const SIGNATURE_HEADER = 'tether-key-signature';
export const MAX_CLOCK_SKEW_SECONDS = 300;

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

function bodyHash(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function signRequest(secret: string, method: string, path: string, body: string, now = Date.now()): string {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${hmac(secret, `request\n${t}\n${method.toUpperCase()}\n${path}\n${bodyHash(body)}`)}`;
}

export function verifyRequest(secret: string, header: string | undefined, method: string, path: string, body: string, now = Date.now()): boolean {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const t = Number(match[1]);
  if (Math.abs(now / 1000 - t) > MAX_CLOCK_SKEW_SECONDS) return false;
  return equal(match[2]!, hmac(secret, `request\n${t}\n${method.toUpperCase()}\n${path}\n${bodyHash(body)}`));
}

export function signResponse(secret: string, requestSignature: string, status: number, body: string): string {
  return `v1=${hmac(secret, `response\n${requestSignature}\n${status}\n${bodyHash(body)}`)}`;
}

export function verifyResponse(secret: string, header: string | null, requestSignature: string, status: number, body: string): boolean {
  const match = /^v1=([0-9a-f]{64})$/.exec(header ?? '');
  return match !== null && equal(match[1]!, hmac(secret, `response\n${requestSignature}\n${status}\n${bodyHash(body)}`));
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
