import type { Connection, ProviderApp } from '../db/schema.ts';
import { TetherError } from '../errors.ts';
import type { OutboundFetch } from '../outbound/fetch.ts';
import type { DocumentsApi, DocumentsWriteApi, ProviderContext } from '../providers/adapter.ts';
import { createProviderContext, type RetryPolicy } from '../providers/apiClient.ts';
import type { ProviderId } from '../providers/definition.ts';
import { googleDocuments, googleDocumentsWrite } from '../providers/google/documents.ts';
import { microsoftDocuments, microsoftDocumentsWrite } from '../providers/microsoft/documents.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import type { ConnectionsService } from './connections.ts';
import type { UserPrincipal } from './context.ts';
import type { ProviderAppsService } from './providerApps.ts';
import type { TokenCustody } from './tokenCustody.ts';

const adapters: Partial<Record<ProviderId, { read: DocumentsApi; write: DocumentsWriteApi }>> = {
  microsoft: { read: microsoftDocuments, write: microsoftDocumentsWrite },
  google: { read: googleDocuments, write: googleDocumentsWrite },
};

export interface OpenConnection {
  connection: Connection;
  app: ProviderApp;
  provider: ProviderId;
  read: DocumentsApi;
  write: DocumentsWriteApi;
  ctx: ProviderContext;
}

/**
 * The documents API's entry: the caller must be allowed to see the connection (owner, its groups,
 * org admins — checked before any upstream call); the adapter then talks to the connection's
 * profile API with a token from custody, refreshed once on a 401.
 */
export class DocumentsService {
  private readonly deps: {
    connections: ConnectionsService;
    providerApps: ProviderAppsService;
    custody: TokenCustody;
    profiles: EndpointProfiles;
    fetch: OutboundFetch;
    retry: RetryPolicy;
  };

  constructor(deps: DocumentsService['deps']) {
    this.deps = deps;
  }

  async open(principal: UserPrincipal, connectionId: string, signal?: AbortSignal): Promise<OpenConnection> {
    const connection = await this.deps.connections.get(principal, connectionId);
    const app = await this.deps.providerApps.get(principal.orgId, connection.provider_app_id);
    const pair = adapters[app.provider];
    if (!pair) throw new TetherError(422, 'not_applicable', 'This connection has no documents (it is not a Microsoft or Google connection).');
    const endpoints = this.deps.profiles.resolve(app.provider, app.profile, app.tenant ?? undefined);
    let current: string | undefined;
    const ctx = createProviderContext({
      apiBaseUrl: endpoints.apiBaseUrl,
      fetch: this.deps.fetch,
      retry: this.deps.retry,
      ...(signal && { signal }),
      accessToken: async () => (current = await this.deps.custody.accessToken(connection, app)),
      onUnauthorized: async () => current !== undefined && (await this.deps.custody.afterUnauthorized(connection, app, current)) !== undefined,
    });
    return { connection, app, provider: app.provider, read: pair.read, write: pair.write, ctx };
  }
}
