import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config/schema.ts';
import type { Db } from '../db/database.ts';
import type { Connection, ProviderApp } from '../db/schema.ts';
import type { KeyManagement, KeyService, Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import type { AccountsService } from '../services/accounts.ts';
import type { ProviderAppsService } from '../services/providerApps.ts';
import type { ProviderAppSetup } from '../services/providerAppSetup.ts';
import type { ConnectService } from '../services/connect.ts';
import type { ConnectionsService } from '../services/connections.ts';
import type { DocumentsService } from '../services/documents.ts';
import type { ProxyService } from '../services/proxy.ts';
import type { Metrics } from './metrics.ts';
import type { TokenCustody } from '../services/tokenCustody.ts';
import type { WebhooksService } from '../services/webhooks.ts';
import type { ApiKeysService } from '../services/apiKeys.ts';
import type { AuthService } from '../services/auth.ts';
import type { CallContext, Principal, UserPrincipal } from '../services/context.ts';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Who may call a route. Checked in `onRequest`, before the body is read:
 * - `public`: anyone; `operator`: the operator token;
 * - `member`: any signed-in user or API key acting for a user; `admin`: the same, with the org admin role.
 */
export type Access = 'public' | 'operator' | 'member' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * The route works on `:connectionId` (documents, proxy): an API-key caller's key, user and the
     * connection with its provider app are read in one query, before the handler. The handler
     * still decides; nothing is read for a caller who may not see the connection.
     */
    prefetchConnection?: boolean;
  }
  interface FastifyInstance {
    /** This instance's Prometheus metrics (routes that count something of their own). */
    metrics: Metrics;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
    /** Set by the access hook on prefetchConnection routes when the fast path found the connection. */
    prefetchedConnection: { connection: Connection; app: ProviderApp } | undefined;
  }
}

export interface Services {
  config: Config;
  logger: Logger;
  db: Db;
  accounts: AccountsService;
  apiKeys: ApiKeysService;
  auth: AuthService;
  /** The key service (local keyring or remote) holding the key-encryption keys. */
  keys: KeyService;
  /** Key status, rotation, rewrap and retirement. */
  keyManagement: KeyManagement;
  /** Field encryption: `vault.encryptField(ctx, plaintext)` / `vault.decryptField(ctx, ciphertext)`. */
  vault: Vault;
  profiles: EndpointProfiles;
  providerApps: ProviderAppsService;
  /** Verify (service account + real API calls) and reconfigure (new secret/scopes) of provider apps. */
  providerAppSetup: ProviderAppSetup;
  /** The OAuth connect flow: connect sessions, the connect page and the callback. */
  connect: ConnectService;
  connections: ConnectionsService;
  /** Access tokens, refreshed single-flight; never returned by the API. */
  custody: TokenCustody;
  documents: DocumentsService;
  /** The restricted proxy to a connection's provider API. */
  proxy: ProxyService;
  /** Webhooks to host apps; `webhooks.emit(tx, event)` raises an event (see services/webhooks.ts). */
  webhooks: WebhooksService;
  /** Reports readiness problems (database, migrations, key service); empty when ready. */
  readiness(): Promise<string[]>;
  /** Number of jobs waiting in the queue, for /metrics. */
  queueDepth(): Promise<number>;
}

export type Route = (app: App, services: Services) => void;

/** The call context of a request, for services. */
export function callContext(request: { principal: Principal | undefined; id: string; ip: string }): CallContext {
  return { principal: request.principal, requestId: request.id, ip: request.ip };
}

/** The signed-in user of a `member`/`admin` route (guaranteed by the access check). */
export function userOf(request: { principal: Principal | undefined }): UserPrincipal {
  const p = request.principal;
  if (p?.kind !== 'user') throw new Error('route declared member/admin access but has no user principal');
  return p;
}
