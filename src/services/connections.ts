import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database.ts';
import type { ConnectSession, Connection, ProviderApp } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import type { Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import { revokeToken, type ExternalAccount, type TokenSet } from '../oauth/flow.ts';
import { providerDefinition } from '../providers/registry.ts';
import { connectionsRepository, type Viewer } from '../repositories/connections.ts';
import { groupsRepository } from '../repositories/groups.ts';
import { providerAppsRepository } from '../repositories/providerApps.ts';
import { randomToken } from '../security/tokens.ts';
import { audit } from './audit.ts';
import type { CallContext, UserPrincipal } from './context.ts';
import type { OAuthClients } from './oauthClients.ts';
import type { WebhooksService } from './webhooks.ts';

/** What DELETE did at the provider. */
export interface Revocation {
  status: 'revoked' | 'not_supported' | 'failed';
  message: string;
}

type TokenField = 'access_token' | 'refresh_token';

export function tokenContext(orgId: string, connectionId: string, field: TokenField) {
  return { orgId, table: 'connections', rowId: connectionId, field, purpose: 'tokens' } as const;
}

/**
 * Connections: a user's (or a shared) authorization at a provider. Tokens are stored only as Vault
 * ciphertexts and never leave this service in a view. Visibility: the owner; members of the groups
 * of a shared connection; org admins (all of the org, to manage them). Changing or deleting: the
 * owner or an org admin; only admins change a shared connection's groups.
 */
export class ConnectionsService {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly clients: OAuthClients;
  private readonly webhooks: WebhooksService;
  private readonly logger: Logger;

  constructor(deps: { db: Db; vault: Vault; clients: OAuthClients; webhooks: WebhooksService; logger: Logger }) {
    this.db = deps.db;
    this.vault = deps.vault;
    this.clients = deps.clients;
    this.webhooks = deps.webhooks;
    this.logger = deps.logger;
  }

  /**
   * Stores the result of a completed authorization: a new connection, or — when the same account
   * (issuer/tenant + immutable subject, never email) reconnects through the same app for the same
   * owner — the existing one, with fresh tokens and status `active`.
   */
  async saveAuthorization(ctx: CallContext, session: ConnectSession, app: ProviderApp, tokens: TokenSet, account: ExternalAccount): Promise<{ connection: Connection; created: boolean }> {
    const orgId = session.org_id;
    const key = { orgId, providerAppId: app.id, ownerUserId: session.user_id, issuer: account.issuer, subject: account.subject };
    // Two attempts: a concurrent callback for the same account may insert between our read and write.
    for (let attempt = 0; attempt < 2; attempt++) {
      const existing = await connectionsRepository.findAccountForUpdate(this.db, key);
      const id = existing?.id ?? randomUUID();
      const accessToken = await this.vault.encryptField(tokenContext(orgId, id, 'access_token'), tokens.accessToken);
      const refreshToken = tokens.refreshToken === null ? null : await this.vault.encryptField(tokenContext(orgId, id, 'refresh_token'), tokens.refreshToken);
      const fresh = {
        account_tenant: account.tenantId,
        account_email: account.email,
        account_display_name: account.displayName,
        scopes: tokens.scopes,
        access_token: accessToken,
        access_token_expires_at: tokens.expiresAt,
        status: 'active' as const,
        status_reason: null,
      };
      const result = await this.db.transaction().execute(async (tx) => {
        if (existing) {
          const updated = await connectionsRepository.update(tx, orgId, id, {
            ...fresh,
            // No refresh token in this answer: the one we hold stays valid (Google on re-consent without prompt).
            ...(refreshToken && { refresh_token: refreshToken, refresh_token_expires_at: tokens.refreshTokenExpiresAt }),
            ...(session.name !== null && { name: session.name }),
            // A reconnect never unshares silently; it shares when the new session asked for it.
            ...(session.shared && { shared: true, group_ids: session.shared_group_ids, handle: existing.handle ?? newHandle() }),
          });
          if (!updated) return undefined;
          await audit(tx, ctx, { orgId, action: 'connection.update', target: { type: 'connection', id }, details: { reason: 'reconnect', providerAppId: app.id, userId: session.user_id } });
          return { connection: updated, created: false };
        }
        const inserted = await connectionsRepository.insertIfAbsent(tx, {
          id,
          org_id: orgId,
          provider_app_id: app.id,
          owner_user_id: session.user_id,
          name: session.name ?? defaultName(app, account),
          shared: session.shared,
          group_ids: session.shared_group_ids,
          handle: session.shared ? newHandle() : null,
          account_issuer: account.issuer,
          account_subject: account.subject,
          refresh_token: refreshToken,
          refresh_token_expires_at: tokens.refreshTokenExpiresAt,
          ...fresh,
        });
        if (!inserted) return undefined;
        await audit(tx, ctx, { orgId, action: 'connection.create', target: { type: 'connection', id }, details: { providerAppId: app.id, provider: app.provider, userId: session.user_id, shared: session.shared } });
        await this.webhooks.emit(tx, { orgId, type: 'connection.created', data: { connectionId: id, providerAppId: app.id, provider: app.provider, ownerUserId: session.user_id } });
        return { connection: inserted, created: true };
      });
      if (result) return result;
    }
    throw errors.conflict('The connection changed concurrently; connect again.');
  }

  async list(principal: UserPrincipal, page: { after?: string; limit: number }): Promise<Connection[]> {
    return connectionsRepository.listVisible(this.db, principal.orgId, await this.viewerOf(principal), page);
  }

  async get(principal: UserPrincipal, id: string): Promise<Connection> {
    const connection = await connectionsRepository.findVisible(this.db, principal.orgId, id, await this.viewerOf(principal));
    if (!connection) throw errors.notFound('The connection');
    return connection;
  }

  /** The connection, as `get` finds it, with its provider app: one query for every call made on a connection's behalf. */
  async getWithApp(principal: UserPrincipal, id: string): Promise<{ connection: Connection; app: ProviderApp }> {
    const found = await connectionsRepository.findVisibleWithApp(this.db, principal.orgId, id, await this.viewerOf(principal));
    if (!found) throw errors.notFound('The connection');
    return found;
  }

  /**
   * Seed 002: a host app keeps a shared connection's opaque handle in its page config and resolves
   * it as whichever user is viewing; the group check runs on every call. Unknown and not-visible
   * handles get the same 404.
   */
  async getByHandle(principal: UserPrincipal, handle: string): Promise<Connection> {
    const connection = await connectionsRepository.findVisibleByHandle(this.db, principal.orgId, handle, await this.viewerOf(principal));
    if (!connection) throw errors.notFound('The connection');
    return connection;
  }

  async update(ctx: CallContext, principal: UserPrincipal, id: string, changes: { name?: string | undefined; groupIds?: string[] | undefined }): Promise<Connection> {
    const orgId = principal.orgId;
    const current = await this.manageable(principal, id);
    if (changes.groupIds !== undefined) {
      if (principal.user.role !== 'admin') throw errors.forbidden("Only org admins change a shared connection's groups.");
      if (!current.shared) throw new TetherError(422, 'not_applicable', 'Only shared connections have groups; connect with "shared" to create one.');
      const known = await groupsRepository.existingIds(this.db, orgId, changes.groupIds);
      const missing = changes.groupIds.filter((g) => !known.has(g));
      if (missing.length > 0) throw new TetherError(422, 'unknown_group', 'Some group ids are not groups of this org.', { details: { groupIds: missing } });
    }
    return this.db.transaction().execute(async (tx) => {
      const updated = await connectionsRepository.update(tx, orgId, id, {
        ...(changes.name !== undefined && { name: changes.name }),
        ...(changes.groupIds !== undefined && { group_ids: [...new Set(changes.groupIds)] }),
      });
      if (!updated) throw errors.notFound('The connection');
      await audit(tx, ctx, { orgId, action: 'connection.update', target: { type: 'connection', id }, details: { fields: Object.keys(changes).filter((k) => changes[k as keyof typeof changes] !== undefined) } });
      return updated;
    });
  }

  /**
   * Revokes at the provider where it can (RFC 7009; Google revokes the whole grant), then deletes the
   * connection and its tokens. A failed revocation does not keep the tokens: they are deleted anyway,
   * and the answer says the revocation failed.
   */
  async delete(ctx: CallContext, principal: UserPrincipal, id: string): Promise<Revocation> {
    const orgId = principal.orgId;
    const connection = await this.manageable(principal, id);
    const revocation = await this.revoke(connection);
    await this.db.transaction().execute(async (tx) => {
      if (!(await connectionsRepository.delete(tx, orgId, id))) throw errors.notFound('The connection');
      await audit(tx, ctx, { orgId, action: 'connection.delete', target: { type: 'connection', id }, details: { revocation: revocation.status } });
      await this.webhooks.emit(tx, { orgId, type: 'connection.deleted', data: { connectionId: id, providerAppId: connection.provider_app_id, ownerUserId: connection.owner_user_id, revocation: revocation.status } });
    });
    return revocation;
  }

  /** Group membership is read on every call, so removing a user from a group takes effect at once. */
  private viewerOf(principal: UserPrincipal): Viewer {
    return { userId: principal.user.id, admin: principal.user.role === 'admin' };
  }

  private async manageable(principal: UserPrincipal, id: string): Promise<Connection> {
    const connection = await this.get(principal, id);
    if (connection.owner_user_id !== principal.user.id && principal.user.role !== 'admin') {
      throw errors.forbidden('Only the owner of a connection or an org admin can change or delete it.');
    }
    return connection;
  }

  private async revoke(connection: Connection): Promise<Revocation> {
    const app = await providerAppsRepository.findById(this.db, connection.org_id, connection.provider_app_id);
    if (!app) return { status: 'failed', message: 'The provider app is gone; the tokens were deleted from Tether.' };
    const displayName = providerDefinition(app.provider).displayName;
    try {
      const client = this.clients.withoutSecret(app);
      if (!client.endpoints.revocationEndpoint) {
        const why = app.provider === 'microsoft'
          ? 'Microsoft has no per-token revocation: the tokens were deleted from Tether; the grant stays listed in the user\'s Microsoft account until they or an admin remove it, and its refresh token lasts until it expires or the user\'s sessions are revoked.'
          : `${displayName} offers no token revocation Tether can call: the tokens were deleted from Tether; the user can remove the integration in their ${displayName} account.`;
        return { status: 'not_supported', message: why };
      }
      const field: TokenField = connection.refresh_token ? 'refresh_token' : 'access_token';
      const ciphertext = connection[field];
      if (!ciphertext) return { status: 'failed', message: 'No token to revoke; the connection was deleted from Tether.' };
      const token = await this.vault.decryptText(tokenContext(connection.org_id, connection.id, field), ciphertext);
      await revokeToken(await this.clients.withSecret(app), token);
      return { status: 'revoked', message: `${displayName} revoked the grant; the tokens were deleted from Tether.` };
    } catch (err) {
      this.logger.warn({ connectionId: connection.id, code: (err as TetherError).code, message: (err as Error).message }, 'revocation at the provider failed');
      return { status: 'failed', message: `Revocation at ${displayName} failed (${(err as TetherError).code ?? 'error'}); the tokens were deleted from Tether anyway.` };
    }
  }
}

function newHandle(): string {
  return `tch_${randomToken(24)}`;
}

function defaultName(app: ProviderApp, account: ExternalAccount): string {
  return `${providerDefinition(app.provider).displayName} — ${account.email ?? account.displayName ?? account.subject}`.slice(0, 200);
}
