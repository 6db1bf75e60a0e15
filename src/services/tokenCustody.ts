import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db, Tx } from '../db/database.ts';
import type { Connection, ProviderApp } from '../db/schema.ts';
import { TetherError } from '../errors.ts';
import { isDecryptionFailure, type Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import { OAuthError } from '../oauth/errors.ts';
import { refreshTokens, type OAuthClient, type TokenSet } from '../oauth/flow.ts';
import { connectionsRepository } from '../repositories/connections.ts';
import { providerAppsRepository } from '../repositories/providerApps.ts';
import { audit } from './audit.ts';
import { tokenContext } from './connections.ts';
import type { CallContext } from './context.ts';
import type { OAuthClients } from './oauthClients.ts';
import type { WebhooksService } from './webhooks.ts';

/** Token requests that meet a transient failure (unreachable, 5xx, 429) are made this many times at most. */
const REFRESH_ATTEMPTS = 3;
/** Full-jitter backoff between those attempts: up to 400 ms, then up to 800 ms. */
const REFRESH_BACKOFF_MS = 400;

export interface RefreshRun {
  due: number;
  refreshed: number;
  needsReauth: number;
  failed: number;
}

export function needsReauth(): TetherError {
  return new TetherError(409, 'needs_reauth', 'The provider no longer accepts this connection; the user must connect again.');
}

/**
 * The provider app's stored client secret does not decrypt (altered, or swapped with another row's):
 * an org admin must set it again. The connection is left as it is — its tokens are fine, and
 * connecting again could not help, since the code exchange needs the same secret.
 */
export function clientSecretUnreadable(providerAppId: string): TetherError {
  return new TetherError(409, 'client_secret_unreadable', "The provider app's stored client secret cannot be decrypted; an org admin must set it again (POST /api/v1/provider-apps/{id}/reconfigure). The connection itself is unchanged.", {
    details: { providerAppId },
  });
}

interface Cached {
  token: string;
  /** When to stop using it: the token's expiry less the refresh margin. */
  useUntil: number;
  version: number;
}

/**
 * Token custody: access tokens are decrypted just in time and kept briefly in a bounded memory
 * cache (access tokens only; refresh tokens never leave the database unencrypted for longer than a
 * refresh). Refreshes happen ahead of expiry (margin, default 5 minutes) and once after a provider
 * 401, and never race:
 * - within a process, one refresh per connection is in flight (single-flight promise);
 * - across processes, the refresh runs under the connection row's lock (SELECT … FOR UPDATE) and
 *   re-reads the row after acquiring it: if another process refreshed meanwhile, its token is used
 *   (Outline's refreshTokenIfNeeded: "another process might have refreshed it").
 * A rotated refresh token is committed before the new access token is handed out. `invalid_grant`
 * or an undecryptable token marks the connection `needs-reauth`, fires the webhook, writes audit,
 * and is not retried.
 */
export class TokenCustody {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly clients: OAuthClients;
  private readonly webhooks: WebhooksService;
  private readonly logger: Logger;
  private readonly marginMs: number;
  private readonly maxCached: number;
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<Cached>>();

  /** `maxCached`: access tokens kept in memory (config `tokens.cacheSize`); 0 turns the cache off. */
  constructor(deps: { db: Db; vault: Vault; clients: OAuthClients; webhooks: WebhooksService; logger: Logger; refreshMarginSeconds: number; maxCached?: number }) {
    this.db = deps.db;
    this.vault = deps.vault;
    this.clients = deps.clients;
    this.webhooks = deps.webhooks;
    this.logger = deps.logger;
    this.marginMs = deps.refreshMarginSeconds * 1000;
    this.maxCached = deps.maxCached ?? 10_000;
  }

  /** A usable access token: from memory, from the row, or refreshed. */
  async accessToken(connection: Connection, app: ProviderApp): Promise<string> {
    if (connection.status === 'needs-reauth' || connection.status === 'revoked') throw needsReauth();
    const cached = this.cache.get(connection.id);
    if (cached && cached.version >= connection.version && Date.now() < cached.useUntil) return cached.token;
    if (connection.access_token && this.fresh(connection)) {
      let token: string;
      try {
        token = await this.decrypt(connection, 'access_token');
      } catch (err) {
        // Tampered, swapped or orphaned ciphertext: fail closed, never use or log anything of it.
        if (!isDecryptionFailure(err)) throw err;
        await this.db.transaction().execute((tx) => this.markNeedsReauth(tx, connection, 'a stored token could not be decrypted'));
        this.cache.delete(connection.id);
        throw needsReauth();
      }
      return this.remember(connection.id, { token, useUntil: this.useUntil(connection.access_token_expires_at), version: connection.version }).token;
    }
    return (await this.refresh(connection, app, undefined)).token;
  }

  /**
   * The provider answered 401 to `failedToken`: refresh once — unless another caller already
   * replaced that token, in which case the newer one is returned. Undefined: nothing newer exists.
   */
  async afterUnauthorized(connection: Connection, app: ProviderApp, failedToken: string): Promise<string | undefined> {
    const cached = this.cache.get(connection.id);
    if (cached && cached.token !== failedToken && Date.now() < cached.useUntil) return cached.token;
    this.cache.delete(connection.id);
    try {
      const next = await this.refresh(connection, app, failedToken);
      return next.token === failedToken ? undefined : next.token;
    } catch (err) {
      if (err instanceof TetherError && err.code === 'needs_reauth') return undefined;
      throw err;
    }
  }

  forget(connectionId: string): void {
    this.cache.delete(connectionId);
  }

  /**
   * Flags connections `needs-reauth` inside the caller's transaction (which holds their row locks),
   * each with the `connection.needs_reauth` webhook and an audit event, as a failed refresh does.
   * Used when the provider app itself changed (reconfigure), so every grant must be made again.
   */
  async flagNeedsReauth(tx: Tx, connections: readonly Connection[], reason: string, ctx: CallContext): Promise<void> {
    for (const connection of connections) {
      await this.markNeedsReauth(tx, connection, reason, ctx);
      this.cache.delete(connection.id);
    }
  }

  private fresh(connection: Pick<Connection, 'access_token_expires_at'>): boolean {
    return this.validFor(connection, this.marginMs);
  }

  private validFor(connection: Pick<Connection, 'access_token_expires_at'>, ms: number): boolean {
    const expires = connection.access_token_expires_at;
    return expires === null || expires.getTime() - ms > Date.now();
  }

  /**
   * The refresh grant, retried with full-jitter backoff when the token endpoint is unreachable or
   * answers 5xx/429 (still under the row lock, so other instances wait rather than race). Anything
   * else — invalid_grant above all — is not retried.
   */
  private async refreshWithBackoff(client: OAuthClient, refreshToken: string, row: Connection): Promise<TokenSet> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await refreshTokens(client, refreshToken);
      } catch (err) {
        if (!(err instanceof OAuthError && err.failure === 'provider_unreachable') || attempt >= REFRESH_ATTEMPTS) throw err;
        const waitMs = Math.random() * REFRESH_BACKOFF_MS * 2 ** (attempt - 1);
        this.logger.info({ connectionId: row.id, attempt, waitMs: Math.round(waitMs) }, 'token endpoint unavailable; retrying the refresh');
        await sleep(waitMs);
      }
    }
  }

  /**
   * Long-running work (scheduled messages) will use the connection until `until`: the background
   * refresh task keeps its access token fresh until then. Extends, never shortens.
   */
  async keepFresh(orgId: string, connectionId: string, until: Date): Promise<void> {
    if (!(await connectionsRepository.keepFresh(this.db, orgId, connectionId, until))) throw new TetherError(404, 'not_found', 'The connection was not found.');
  }

  /**
   * The background refresh (job `refresh_due_connections`): refreshes, one at a time, the
   * connections whose access token expires within `horizonMs` while work needs them, and those whose
   * refresh token expires within `refreshTokenHorizonMs` (refreshing renews it where the provider
   * allows, e.g. Webex). The same single-flight and row lock as API calls, so it never races them.
   * invalid_grant marks needs-reauth (webhook, audit) as usual; transient failures wait for the next run.
   */
  async refreshDue(options: { horizonMs: number; refreshTokenHorizonMs: number; limit: number }): Promise<RefreshRun> {
    const now = Date.now();
    const due = await connectionsRepository.dueForRefresh(this.db, { accessBefore: new Date(now + options.horizonMs), refreshBefore: new Date(now + options.refreshTokenHorizonMs), limit: options.limit });
    const run: RefreshRun = { due: due.length, refreshed: 0, needsReauth: 0, failed: 0 };
    for (const connection of due) {
      const app = await providerAppsRepository.findById(this.db, connection.org_id, connection.provider_app_id);
      if (!app) continue;
      const renewRefreshToken = connection.refresh_token_expires_at !== null && connection.refresh_token_expires_at.getTime() < now + options.refreshTokenHorizonMs;
      try {
        await this.refresh(connection, app, undefined, renewRefreshToken ? Number.POSITIVE_INFINITY : options.horizonMs);
        run.refreshed++;
      } catch (err) {
        if (err instanceof TetherError && err.code === 'needs_reauth') run.needsReauth++;
        else {
          run.failed++;
          this.logger.warn({ connectionId: connection.id, code: err instanceof TetherError ? err.code : 'internal' }, 'background refresh failed; the next run tries again');
        }
      }
    }
    return run;
  }

  private useUntil(expires: Date | null): number {
    // Tokens without a stated lifetime are re-read from the row after a minute.
    return expires === null ? Date.now() + 60_000 : expires.getTime() - this.marginMs;
  }

  private remember(id: string, entry: Cached): Cached {
    // A cache of size 0 is off: every call decrypts the token from its row.
    if (this.maxCached === 0) return entry;
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, entry);
    return entry;
  }

  /** `tx`: inside the refresh's transaction, so that a data key is read on its connection (vault.ts). */
  private decrypt(connection: Connection, field: 'access_token' | 'refresh_token', tx?: Tx): Promise<string> {
    return this.vault.decryptText(tokenContext(connection.org_id, connection.id, field), connection[field]!, tx);
  }

  /**
   * `requiredValidityMs`: a stored token that stays valid at least this long is used as it is (the
   * background task asks for more than the usual margin, or for a refresh whatever the token).
   */
  private refresh(connection: Connection, app: ProviderApp, failedToken: string | undefined, requiredValidityMs = this.marginMs): Promise<Cached> {
    let flight = this.inflight.get(connection.id);
    if (!flight) {
      flight = this.refreshLocked(connection, app, failedToken, requiredValidityMs).finally(() => this.inflight.delete(connection.id));
      this.inflight.set(connection.id, flight);
    }
    return flight;
  }

  /**
   * The transaction holds a pool connection while the provider answers: nothing in it may wait for
   * another pool connection (data keys are read on `tx`; the audit of an unreadable client secret is
   * written after the rollback), or a burst of refreshes larger than the pool stalls it.
   */
  private async refreshLocked(connection: Connection, app: ProviderApp, failedToken: string | undefined, requiredValidityMs: number): Promise<Cached> {
    try {
      return await this.refreshInTransaction(connection, app, failedToken, requiredValidityMs);
    } catch (err) {
      if (!(err instanceof SecretUnreadable)) throw err;
      this.logger.warn({ providerAppId: app.id, connectionId: connection.id }, 'provider app client secret could not be decrypted; refresh refused');
      // After the refresh's transaction rolled back, which leaves the connection untouched.
      await audit(this.db, { principal: undefined, requestId: null, ip: null }, { orgId: app.org_id, action: 'provider_app.secret_unreadable', target: { type: 'provider_app', id: app.id }, outcome: 'failure', details: { connectionId: connection.id } });
      throw clientSecretUnreadable(app.id);
    }
  }

  private async refreshInTransaction(connection: Connection, app: ProviderApp, failedToken: string | undefined, requiredValidityMs: number): Promise<Cached> {
    const result = await this.db.transaction().execute(async (tx): Promise<Cached | undefined> => {
      await sql`set local lock_timeout = '30s'`.execute(tx);
      const row = await tx.selectFrom('connections').selectAll().where('org_id', '=', connection.org_id).where('id', '=', connection.id).forUpdate().executeTakeFirst();
      if (!row) throw new TetherError(404, 'not_found', 'The connection was not found.');
      if (row.status === 'needs-reauth' || row.status === 'revoked') throw needsReauth();
      try {
        // Re-read after the lock: another process may have refreshed while we waited.
        if (row.access_token && this.validFor(row, requiredValidityMs)) {
          const current = await this.decrypt(row, 'access_token', tx);
          if (current !== failedToken) return { token: current, useUntil: this.useUntil(row.access_token_expires_at), version: row.version };
        }
        if (!row.refresh_token) {
          await this.markNeedsReauth(tx, row, 'no refresh token');
          return undefined;
        }
        const refreshToken = await this.decrypt(row, 'refresh_token', tx);
        const client = await this.clientWithSecret(app, tx);
        const tokens = await this.refreshWithBackoff(client, refreshToken, row);
        const updated = (await connectionsRepository.update(tx, row.org_id, row.id, {
          access_token: await this.vault.encryptField(tokenContext(row.org_id, row.id, 'access_token'), tokens.accessToken, tx),
          // A provider that sends no new refresh token (Google) keeps the old one valid.
          refresh_token: await this.vault.encryptField(tokenContext(row.org_id, row.id, 'refresh_token'), tokens.refreshToken ?? refreshToken, tx),
          access_token_expires_at: tokens.expiresAt,
          ...(tokens.refreshTokenExpiresAt && { refresh_token_expires_at: tokens.refreshTokenExpiresAt }),
          status: 'active',
          status_reason: null,
        }))!;
        return { token: tokens.accessToken, useUntil: this.useUntil(tokens.expiresAt), version: updated.version };
      } catch (err) {
        let reason: string;
        if (err instanceof OAuthError && err.failure === 'invalid_grant') reason = 'the provider refused the refresh token (invalid_grant)';
        else if (isDecryptionFailure(err)) reason = 'a stored token could not be decrypted';
        else throw err;
        // Still under the row lock: the next process to take it sees needs-reauth and does not retry.
        await this.markNeedsReauth(tx, row, reason);
        return undefined;
      }
    });
    if (result) return this.remember(connection.id, result);
    this.cache.delete(connection.id);
    throw needsReauth();
  }

  /** The app's OAuth client with its decrypted secret; an undecryptable secret is the app's problem, not the connection's. */
  private async clientWithSecret(app: ProviderApp, tx: Tx): Promise<OAuthClient> {
    try {
      return await this.clients.withSecret(app, tx);
    } catch (err) {
      if (!isDecryptionFailure(err)) throw err;
      throw new SecretUnreadable();
    }
  }

  private async markNeedsReauth(tx: Tx, connection: Connection, reason: string, ctx: CallContext = { principal: undefined, requestId: null, ip: null }): Promise<void> {
    this.logger.warn({ connectionId: connection.id, reason }, 'connection needs reauthorization');
    const row = await connectionsRepository.update(tx, connection.org_id, connection.id, { status: 'needs-reauth', status_reason: reason, access_token: null });
    if (!row) return;
    await this.webhooks.emit(tx, { orgId: row.org_id, type: 'connection.needs_reauth', data: { connectionId: row.id, reason } });
    await audit(tx, ctx, { orgId: row.org_id, action: 'connection.needs_reauth', target: { type: 'connection', id: row.id }, outcome: 'failure', details: { reason } });
  }
}

/** Thrown out of the refresh's transaction (rolling it back) when the app's client secret does not decrypt. */
class SecretUnreadable extends Error {}
