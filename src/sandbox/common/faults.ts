// Fault knobs: everything a test needs to make a provider misbehave the way real ones do.
// Settable in-process (`sb.faults.*`) and through the admin endpoint (see admin.ts), which maps
// one JSON action onto the same methods.
import type { ProviderId } from './http.ts';

export interface FaultScope {
  provider?: ProviderId;
  method?: string;
  /** Matches when the request path starts with this prefix. */
  pathPrefix?: string;
}

export type QueuedFault =
  | { kind: 'status'; status: number; retryAfter?: number | string; reason?: string }
  | { kind: 'reset' }
  | { kind: 'malformed' };

interface Queued {
  fault: QueuedFault;
  remaining: number;
  scope: FaultScope;
}

export interface TokenEndpointFault {
  down: boolean;
  delayMs: number;
}

/** One armed hold on a provider's token endpoint (see `holdNextTokenResponse`). */
export interface TokenResponseHold {
  /** Resolves once the held answer is produced: tokens issued, a rotated refresh token retired. */
  issued: Promise<void>;
  /** Sends the held answer (to a client that may be gone by now). Idempotent. */
  release(): void;
}

interface ArmedHold {
  provider: ProviderId;
  state: 'armed' | 'holding' | 'released';
  issued: () => void;
  gate: Promise<void>;
  open: () => void;
}

const DEFAULT_ROTATION: Record<ProviderId, boolean> = { microsoft: true, google: false, webex: false };

function scopeMatches(scope: FaultScope, provider: ProviderId, method: string, path: string): boolean {
  if (scope.provider && scope.provider !== provider) return false;
  if (scope.method && scope.method.toUpperCase() !== method) return false;
  if (scope.pathPrefix && !path.startsWith(scope.pathPrefix)) return false;
  return true;
}

export class Faults {
  #latency: { ms: number; scope: FaultScope } | undefined;
  #queue: Queued[] = [];
  #tokenEndpoint = new Map<ProviderId, TokenEndpointFault>();
  #revokedAt = new Map<string, number>();
  #epoch = 0;
  #rotation: Record<ProviderId, boolean> = { ...DEFAULT_ROTATION };
  #clockOffsetMs = 0;
  #holds: ArmedHold[] = [];

  /** Adds `ms` of latency before every matching request is answered. `0` removes it. */
  setLatency(ms: number, scope: FaultScope = {}): void {
    this.#latency = ms > 0 ? { ms, scope } : undefined;
  }

  /**
   * The next `count` matching requests answer `status` in the provider's error format. For 429 and
   * 503, `retryAfter` becomes the Retry-After header: a number of seconds, a Date or an HTTP-date
   * string (RFC 9110 §10.2.3). `reason` picks a provider-specific variant, e.g. Google's
   * `userRateLimitExceeded` (403).
   */
  failNext(count: number, fault: { status: number; retryAfter?: number | Date | string; reason?: string }, scope: FaultScope = {}): void {
    const retryAfter = fault.retryAfter instanceof Date ? fault.retryAfter.toUTCString() : fault.retryAfter;
    this.#queue.push({ fault: { kind: 'status', status: fault.status, ...(retryAfter !== undefined ? { retryAfter } : {}), ...(fault.reason ? { reason: fault.reason } : {}) }, remaining: count, scope });
  }

  /** The next `count` matching requests have their TCP connection destroyed without an answer. */
  resetNext(count: number, scope: FaultScope = {}): void {
    this.#queue.push({ fault: { kind: 'reset' }, remaining: count, scope });
  }

  /** The next `count` matching requests get their real answer with the JSON body cut short. */
  malformedNext(count: number, scope: FaultScope = {}): void {
    this.#queue.push({ fault: { kind: 'malformed' }, remaining: count, scope });
  }

  /** Token endpoint outage (`down` → 503) and/or added delay, per provider. */
  setTokenEndpoint(provider: ProviderId, fault: Partial<TokenEndpointFault>): void {
    const cur = this.#tokenEndpoint.get(provider) ?? { down: false, delayMs: 0 };
    this.#tokenEndpoint.set(provider, { ...cur, ...fault });
  }

  tokenEndpoint(provider: ProviderId): TokenEndpointFault {
    return this.#tokenEndpoint.get(provider) ?? { down: false, delayMs: 0 };
  }

  /**
   * The next answer of `provider`'s token endpoint is produced as usual — a code redeemed, tokens
   * issued, a used refresh token retired when rotation is on — and then held back until
   * `release()`. `issued` resolves at that moment: a test can kill the client after the provider
   * issued a rotated refresh token but before the client could store it.
   */
  holdNextTokenResponse(provider: ProviderId): TokenResponseHold {
    let issued!: () => void;
    let open!: () => void;
    const issuedPromise = new Promise<void>((resolve) => (issued = resolve));
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hold: ArmedHold = { provider, state: 'armed', issued, gate, open };
    this.#holds.push(hold);
    return {
      issued: issuedPromise,
      release: () => {
        this.#holds = this.#holds.filter((h) => h !== hold);
        hold.state = 'released';
        hold.open();
      },
    };
  }

  /** Releases every held or armed token answer. */
  releaseTokenResponses(): void {
    for (const hold of this.#holds) {
      hold.state = 'released';
      hold.open();
    }
    this.#holds = [];
  }

  /** Called by the dispatcher with a token endpoint's produced answer: waits while a hold applies. */
  async holdTokenResponse(provider: ProviderId): Promise<void> {
    const hold = this.#holds.find((h) => h.provider === provider && h.state === 'armed');
    if (!hold) return;
    hold.state = 'holding';
    hold.issued();
    await hold.gate;
    this.#holds = this.#holds.filter((h) => h !== hold);
  }

  /**
   * Revokes every grant the user gave before now (as when they remove the app's access): all access
   * and refresh tokens issued so far stop working. A later sign-in creates a fresh, valid grant.
   */
  revokeGrant(provider: ProviderId, userId: string): void {
    this.#revokedAt.set(`${provider}:${userId}`, ++this.#epoch);
  }

  /**
   * A strictly increasing stamp for new grants. Revocation compares stamps rather than clock
   * times, so a sign-in right after a revocation (same millisecond, or with the clock knob moved
   * backwards) is never mistaken for a revoked grant.
   */
  nextGrantEpoch(): number {
    return ++this.#epoch;
  }

  isGrantRevoked(provider: ProviderId, userId: string, grantEpoch: number): boolean {
    const at = this.#revokedAt.get(`${provider}:${userId}`);
    return at !== undefined && grantEpoch < at;
  }

  /** Whether refresh_token grants return a new refresh token (and invalidate the old one). */
  setRefreshRotation(provider: ProviderId, rotate: boolean): void {
    this.#rotation[provider] = rotate;
  }

  refreshRotation(provider: ProviderId): boolean {
    return this.#rotation[provider];
  }

  /** Shifts the sandbox's clock: token lifetimes, ID token iat/exp and Date headers all use it. */
  setClockOffset(seconds: number): void {
    this.#clockOffsetMs = seconds * 1000;
  }

  now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  latencyFor(provider: ProviderId, method: string, path: string): number {
    const l = this.#latency;
    return l && scopeMatches(l.scope, provider, method, path) ? l.ms : 0;
  }

  /** Takes the first queued fault matching this request, if any. */
  take(provider: ProviderId, method: string, path: string): QueuedFault | undefined {
    const i = this.#queue.findIndex((q) => scopeMatches(q.scope, provider, method, path));
    if (i < 0) return undefined;
    const q = this.#queue[i]!;
    q.remaining -= 1;
    if (q.remaining <= 0) this.#queue.splice(i, 1);
    return q.fault;
  }

  /** Clears every knob back to the defaults. */
  reset(): void {
    this.#latency = undefined;
    this.#queue = [];
    this.#tokenEndpoint.clear();
    this.#revokedAt.clear();
    this.#rotation = { ...DEFAULT_ROTATION };
    this.#clockOffsetMs = 0;
    this.releaseTokenResponses();
  }

  snapshot(): unknown {
    return {
      latency: this.#latency ?? null,
      queued: this.#queue.map((q) => ({ ...q.fault, remaining: q.remaining, scope: q.scope })),
      tokenEndpoint: Object.fromEntries(this.#tokenEndpoint),
      revokedGrants: [...this.#revokedAt.keys()],
      refreshRotation: this.#rotation,
      clockOffsetSeconds: this.#clockOffsetMs / 1000,
      heldTokenResponses: this.#holds.map((h) => ({ provider: h.provider, state: h.state })),
    };
  }
}
