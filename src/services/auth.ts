import type { Db } from '../db/database.ts';
import { isUuid } from '../db/uuid.ts';
import type { Connection, ProviderApp, User } from '../db/schema.ts';
import { errors } from '../errors.ts';
import { apiKeysRepository } from '../repositories/apiKeys.ts';
import { connectionsRepository, type StatementRunner } from '../repositories/connections.ts';
import { orgsRepository } from '../repositories/orgs.ts';
import { connectSessionsRepository } from '../repositories/connectSessions.ts';
import { rateLimitsRepository } from '../repositories/rateLimits.ts';
import { sessionsRepository } from '../repositories/sessions.ts';
import { usersRepository } from '../repositories/users.ts';
import { dummyPasswordHash, verifyPassword } from '../security/passwords.ts';
import { API_KEY_PREFIX, constantTimeEqual, randomToken, sha256 } from '../security/tokens.ts';
import { audit } from './audit.ts';
import type { CallContext, UserPrincipal } from './context.ts';

export interface AuthSettings {
  operatorToken: string;
  sessionTtlHours: number;
  loginMaxFailures: number;
  loginWindowMinutes: number;
}

export interface NewSession {
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  user: User;
}

/** Sign-in, browser sessions, API keys and the operator token. */
export class AuthService {
  private readonly db: Db;
  private readonly settings: AuthSettings;
  /** The pool itself, for the prepared statement of the API-key fast path (fromApiKeyWithConnection). */
  private readonly statements: StatementRunner;

  constructor(db: Db, settings: AuthSettings, statements: StatementRunner) {
    this.db = db;
    this.settings = settings;
    this.statements = statements;
  }

  isOperatorToken(presented: string): boolean {
    return constantTimeEqual(presented, this.settings.operatorToken);
  }

  /**
   * Password sign-in. Failures are counted per (org, email, client address) and per client address;
   * past the limit, sign-in is refused before the password is even checked. Every attempt is audited.
   *
   * The attempt is counted atomically *before* the password is checked, and given back on success:
   * counting only after a failed check let a burst of concurrent guesses all pass the limit check
   * together, each getting its password verified.
   */
  async login(ctx: CallContext, input: { org: string; email: string; password: string }): Promise<NewSession> {
    const windowSeconds = this.settings.loginWindowMinutes * 60;
    const accountKey = `login:${input.org}:${input.email.toLowerCase()}:${ctx.ip ?? '-'}`;
    const addressKey = `login-ip:${ctx.ip ?? '-'}`;
    const org = await orgsRepository.findBySlug(this.db, input.org);
    const auditOrgId = org?.id ?? null;
    for (const [key, max] of [[accountKey, this.settings.loginMaxFailures], [addressKey, this.settings.loginMaxFailures * 10]] as const) {
      const used = await rateLimitsRepository.hit(this.db, key, windowSeconds);
      if (used.count > max) {
        await audit(this.db, ctx, { orgId: auditOrgId, action: 'auth.login', outcome: 'denied', details: { email: input.email, reason: 'rate_limited' } });
        throw errors.rateLimited(Math.max(1, Math.ceil((used.resetsAt.getTime() - Date.now()) / 1000)));
      }
    }
    const user = org ? await usersRepository.findByEmail(this.db, org.id, input.email) : undefined;
    // Compare against a dummy hash when there is no such user, so timing does not reveal accounts.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!ok || !user?.password_hash) {
      await audit(this.db, ctx, {
        orgId: auditOrgId,
        action: 'auth.login',
        outcome: 'failure',
        target: user ? { type: 'user', id: user.id } : undefined,
        details: { email: input.email },
      });
      throw errors.invalidCredentials();
    }
    const sessionId = randomToken();
    const csrfToken = randomToken();
    const expiresAt = new Date(Date.now() + this.settings.sessionTtlHours * 3_600_000);
    await this.db.transaction().execute(async (tx) => {
      await sessionsRepository.create(tx, {
        id_hash: sha256(sessionId),
        org_id: user.org_id,
        user_id: user.id,
        csrf_hash: sha256(csrfToken),
        expires_at: expiresAt,
        ip: ctx.ip,
        user_agent: null,
      });
      await rateLimitsRepository.clear(tx, accountKey);
      await rateLimitsRepository.release(tx, addressKey);
      await audit(tx, { ...ctx, principal: { kind: 'user', orgId: user.org_id, user, via: 'session' } }, {
        orgId: user.org_id,
        action: 'auth.login',
        target: { type: 'user', id: user.id },
      });
    });
    return { sessionId, csrfToken, expiresAt, user };
  }

  async logout(ctx: CallContext, principal: UserPrincipal): Promise<void> {
    if (!principal.sessionIdHash) return;
    await this.db.transaction().execute(async (tx) => {
      await sessionsRepository.delete(tx, principal.sessionIdHash!);
      await audit(tx, ctx, { orgId: principal.orgId, action: 'auth.logout', target: { type: 'user', id: principal.user.id } });
    });
  }

  /** The user behind a session cookie, and the CSRF hash that state-changing requests must match. */
  async fromSession(sessionId: string): Promise<{ principal: UserPrincipal; csrfHash: Buffer } | undefined> {
    const idHash = sha256(sessionId);
    const session = await sessionsRepository.findLive(this.db, idHash);
    if (!session) return undefined;
    const user = await usersRepository.findById(this.db, session.org_id, session.user_id);
    if (!user) return undefined;
    return { principal: { kind: 'user', orgId: user.org_id, user, via: 'session', sessionIdHash: idHash }, csrfHash: session.csrf_hash };
  }

  /**
   * A host app's call: API key plus the Tether-User header naming the user it acts for in the key's
   * org. Returns undefined for an unknown or revoked key.
   */
  async fromApiKey(key: string, tetherUser: string | undefined): Promise<UserPrincipal | undefined> {
    if (!key.startsWith(API_KEY_PREFIX)) return undefined;
    const ref = tetherUser !== undefined && tetherUser.length <= 256 ? tetherUser : '';
    const found = await apiKeysRepository.findActiveWithUser(this.db, sha256(key), ref);
    if (!found) return undefined;
    if (tetherUser === undefined || tetherUser === '') throw errors.tetherUserRequired();
    if (!found.user) throw errors.unknownUser();
    this.touchApiKey(found.apiKey.id);
    return apiKeyPrincipal(found.apiKey, found.user);
  }

  /**
   * The fast path of an API-key call on a connection (documents, proxy): principal, connection and
   * provider app in one round trip. Undefined when that finds nothing; the caller then takes the
   * step-by-step path (fromApiKey, then the connection), which gives the precise error.
   */
  async fromApiKeyWithConnection(key: string, tetherUser: string | undefined, connectionId: string): Promise<{ principal: UserPrincipal; connection: Connection; app: ProviderApp } | undefined> {
    if (!key.startsWith(API_KEY_PREFIX) || tetherUser === undefined || tetherUser === '' || tetherUser.length > 256 || !isUuid(connectionId)) return undefined;
    const found = await connectionsRepository.findVisibleWithAppForApiKey(this.statements, { hash: sha256(key), userRef: tetherUser, connectionId });
    if (!found) return undefined;
    this.touchApiKey(found.apiKey.id);
    return { principal: apiKeyPrincipal(found.apiKey, found.user), connection: found.connection, app: found.app };
  }

  /**
   * Last-used time, to the minute, without a write per request: each process writes at most once a
   * minute per key, fire and forget (a failed update must not fail the caller's request).
   */
  private readonly lastTouched = new Map<string, number>();
  private touchApiKey(id: string): void {
    const now = Date.now();
    if (now - (this.lastTouched.get(id) ?? 0) < 60_000) return;
    this.lastTouched.set(id, now);
    if (this.lastTouched.size > 10_000) this.lastTouched.clear();
    apiKeysRepository.touch(this.db, id).catch(() => this.lastTouched.delete(id));
  }

  async purgeExpiredSessions(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await sessionsRepository.purgeExpired(this.db);
      total += n;
      if (n < 10_000) break;
    }
    await rateLimitsRepository.purgeOlderThan(this.db, 24 * 3600);
    // Connect sessions (10 minutes) are kept a day after expiry, to answer a late callback clearly.
    await connectSessionsRepository.purgeExpired(this.db, new Date(Date.now() - 24 * 3600 * 1000));
    return total;
  }
}

/** A host app's caller: the user an API key acts for. */
function apiKeyPrincipal(apiKey: { id: string; org_id: string }, user: User): UserPrincipal {
  return { kind: 'user', orgId: apiKey.org_id, user, via: 'api_key', apiKeyId: apiKey.id };
}
