import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Authentication between Tether and the remote key service: HMAC-SHA256 with the shared secret
 * (`keys.remoteToken`), in both directions, so the secret itself never crosses the wire.
 *
 * - Request:  `Tether-Key-Signature: t=<unix seconds>,n=<random nonce>,v1=<hex HMAC("request\n" t "\n" n "\n" method "\n" path "\n" sha256(body))>`.
 *   The service refuses a timestamp more than 5 minutes off, and a nonce it has seen within that
 *   window (ReplayGuard), so a recorded request — a rotation, say — cannot be played again.
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
  const n = randomBytes(16).toString('hex');
  return `t=${t},n=${n},v1=${hmac(secret, `request\n${t}\n${n}\n${method.toUpperCase()}\n${path}\n${bodyHash(body)}`)}`;
}

/** The request's nonce when its signature is valid and fresh; undefined otherwise. */
export function verifyRequest(secret: string, header: string | undefined, method: string, path: string, body: string, now = Date.now()): string | undefined {
  const match = /^t=(\d{1,12}),n=([0-9a-f]{32}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return undefined;
  const t = Number(match[1]);
  if (Math.abs(now / 1000 - t) > MAX_CLOCK_SKEW_SECONDS) return undefined;
  const ok = equal(match[3]!, hmac(secret, `request\n${t}\n${match[2]}\n${method.toUpperCase()}\n${path}\n${bodyHash(body)}`));
  return ok ? match[2]! : undefined;
}

/** Remembers the nonces of accepted requests for as long as their timestamps are acceptable. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** True the first time a nonce is offered within the window. */
  firstUse(nonce: string, now = Date.now()): boolean {
    // Insertion order is expiry order: drop expired nonces from the front.
    for (const [old, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(old);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + 2 * MAX_CLOCK_SKEW_SECONDS * 1000);
    return true;
  }
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
