import type { Connection, ProviderApp } from '../db/schema.ts';
import { TetherError } from '../errors.ts';
import type { DocumentsApi, DocumentsWriteApi, ProviderContext } from '../providers/adapter.ts';
import type { ProviderId } from '../providers/definition.ts';
import { googleDocuments, googleDocumentsWrite } from '../providers/google/documents.ts';
import { microsoftDocuments, microsoftDocumentsWrite } from '../providers/microsoft/documents.ts';
import type { UserPrincipal } from './context.ts';
import { connectionContext, loadConnection, type Prefetched, type ProviderCallDeps } from './providerContext.ts';

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
  private readonly deps: ProviderCallDeps;

  constructor(deps: ProviderCallDeps) {
    this.deps = deps;
  }

  async open(principal: UserPrincipal, connectionId: string, options: { signal?: AbortSignal; prefetched?: Prefetched | undefined } = {}): Promise<OpenConnection> {
    const { connection, app } = await loadConnection(this.deps, principal, connectionId, options.prefetched);
    const signal = options.signal;
    const pair = adapters[app.provider];
    if (!pair) throw new TetherError(422, 'not_applicable', 'This connection has no documents (it is not a Microsoft or Google connection).');
    const { ctx } = connectionContext(this.deps, connection, app, signal ? { signal } : {});
    return { connection, app, provider: app.provider, read: pair.read, write: pair.write, ctx };
  }
}
