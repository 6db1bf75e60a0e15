// Provider-neutral OAuth 2.0 state: registered apps, pending sign-ins, single-use authorization
// codes, grants, access and refresh tokens. Each emulator wraps this with its own URLs, error
// bodies and refresh behaviour; nothing here decides what an error looks like on the wire.
import { createHash, randomBytes } from 'node:crypto';
import type { Faults } from './faults.ts';
import type { ProviderId } from './http.ts';
import { recordSecret } from './ledger.ts';

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  name: string;
}

export interface PendingAuthorization {
  id: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  loginHint?: string;
  /** Provider-specific extras, e.g. Microsoft tenant or Google access_type. */
  extra: Record<string, string>;
  createdAt: number;
}

export interface Grant {
  id: string;
  userId: string;
  clientId: string;
  scopes: string[];
  createdAt: number;
  /** Faults.nextGrantEpoch() at creation; compared with revocations. */
  epoch: number;
  extra: Record<string, string>;
}

export interface AuthorizationCode {
  code: string;
  grant: Grant;
  redirectUri: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  expiresAt: number;
  redeemed: boolean;
}

export interface AccessToken {
  token: string;
  grant: Grant;
  expiresAt: number;
}

export interface RefreshToken {
  token: string;
  grant: Grant;
  expiresAt: number;
  active: boolean;
  /** Set when retired by a revocation (as opposed to rotation). */
  revoked?: boolean;
}

export type TokenCheck = { ok: true; token: AccessToken } | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'revoked' };

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 §4.6. Returns false for a missing verifier when a challenge was sent. */
export function pkceMatches(challenge: string, method: 'S256' | 'plain', verifier: string | null | undefined): boolean {
  if (!verifier) return false;
  recordSecret(verifier);
  if (method === 'plain') return verifier === challenge;
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

export class OAuthStore {
  readonly provider: ProviderId;
  readonly apps = new Map<string, OAuthApp>();
  readonly #faults: Faults;
  readonly #pending = new Map<string, PendingAuthorization>();
  readonly #codes = new Map<string, AuthorizationCode>();
  readonly #access = new Map<string, AccessToken>();
  readonly #refresh = new Map<string, RefreshToken>();
  readonly #tokenPrefix: string;

  constructor(provider: ProviderId, faults: Faults, tokenPrefix = '') {
    this.provider = provider;
    this.#faults = faults;
    this.#tokenPrefix = tokenPrefix;
  }

  registerApp(app: OAuthApp): OAuthApp {
    this.apps.set(app.clientId, app);
    recordSecret(app.clientSecret);
    return app;
  }

  addPending(p: Omit<PendingAuthorization, 'id' | 'createdAt'>): PendingAuthorization {
    const full = { ...p, id: randomToken(18), createdAt: this.#faults.now() };
    this.#pending.set(full.id, full);
    return full;
  }

  /** Pending sign-ins are single-use too: a form can be submitted once. */
  takePending(id: string): PendingAuthorization | undefined {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    if (p && this.#faults.now() - p.createdAt > 60 * 60_000) return undefined;
    return p;
  }

  issueCode(p: PendingAuthorization, userId: string, lifetimeSeconds = 600): AuthorizationCode {
    const grant: Grant = { id: randomToken(12), userId, clientId: p.clientId, scopes: p.scopes, createdAt: this.#faults.now(), epoch: this.#faults.nextGrantEpoch(), extra: p.extra };
    const code: AuthorizationCode = {
      code: randomToken(32),
      grant,
      redirectUri: p.redirectUri,
      ...(p.nonce ? { nonce: p.nonce } : {}),
      ...(p.codeChallenge ? { codeChallenge: p.codeChallenge, codeChallengeMethod: p.codeChallengeMethod ?? 'plain' } : {}),
      expiresAt: this.#faults.now() + lifetimeSeconds * 1000,
      redeemed: false,
    };
    this.#codes.set(code.code, code);
    recordSecret(code.code);
    return code;
  }

  /**
   * A grant as if `userId` had signed in and consented through `clientId` (benchmarks and tests that
   * need many grants without as many sign-ins): its tokens are issued by the caller.
   */
  newGrant(clientId: string, userId: string, scopes: string[], extra: Record<string, string> = {}): Grant {
    return { id: randomToken(12), userId, clientId, scopes, createdAt: this.#faults.now(), epoch: this.#faults.nextGrantEpoch(), extra };
  }

  findCode(code: string): AuthorizationCode | undefined {
    return this.#codes.get(code);
  }

  grantRevoked(grant: Grant): boolean {
    return this.#faults.isGrantRevoked(this.provider, grant.userId, grant.epoch);
  }

  issueAccessToken(grant: Grant, lifetimeSeconds: number): AccessToken {
    const t: AccessToken = { token: this.#tokenPrefix + randomToken(48), grant, expiresAt: this.#faults.now() + lifetimeSeconds * 1000 };
    this.#access.set(t.token, t);
    recordSecret(t.token);
    return t;
  }

  issueRefreshToken(grant: Grant, lifetimeSeconds: number): RefreshToken {
    const t: RefreshToken = { token: randomToken(64), grant, expiresAt: this.#faults.now() + lifetimeSeconds * 1000, active: true };
    this.#refresh.set(t.token, t);
    recordSecret(t.token);
    return t;
  }

  findRefreshToken(token: string): RefreshToken | undefined {
    return this.#refresh.get(token);
  }

  /** Revokes one token (either kind) and, as RFC 7009 §2.1 allows, every token of the same grant. */
  revokeToken(token: string): boolean {
    const grant = this.#access.get(token)?.grant ?? this.#refresh.get(token)?.grant;
    if (!grant) return false;
    for (const [k, v] of this.#access) if (v.grant.id === grant.id) this.#access.delete(k);
    for (const [k, v] of this.#refresh) if (v.grant.id === grant.id) this.#refresh.delete(k);
    return true;
  }

  checkAccessToken(token: string | undefined): TokenCheck {
    if (!token) return { ok: false, reason: 'missing' };
    const t = this.#access.get(token);
    if (!t) return { ok: false, reason: 'invalid' };
    if (this.grantRevoked(t.grant)) return { ok: false, reason: 'revoked' };
    if (t.expiresAt <= this.#faults.now()) return { ok: false, reason: 'expired' };
    return { ok: true, token: t };
  }

  /** Retires every refresh token of a user (access tokens live on until they expire). */
  retireRefreshTokens(userId: string): number {
    let n = 0;
    for (const t of this.#refresh.values()) {
      if (t.grant.userId === userId && t.active) {
        t.active = false;
        t.revoked = true;
        n++;
      }
    }
    return n;
  }

  /** Expires every access token of a user now (tests use it to force a refresh). */
  expireAccessTokens(userId?: string): void {
    for (const t of this.#access.values()) if (!userId || t.grant.userId === userId) t.expiresAt = this.#faults.now() - 1;
  }
}
