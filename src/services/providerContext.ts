import type { Connection, ProviderApp } from '../db/schema.ts';
import type { OutboundFetch, OutboundRequest } from '../outbound/fetch.ts';
import type { ProviderContext } from '../providers/adapter.ts';
import { createProviderContext, type RetryPolicy } from '../providers/apiClient.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import type { ConnectionsService } from './connections.ts';
import type { UserPrincipal } from './context.ts';
import type { TokenCustody } from './tokenCustody.ts';

/** What every API call made on a connection's behalf needs (the documents API, the proxy). */
export interface ProviderCallDeps {
  connections: ConnectionsService;
  custody: TokenCustody;
  profiles: EndpointProfiles;
  fetch: OutboundFetch;
  request: OutboundRequest;
  retry: RetryPolicy;
}

/** A connection and its app, already read with the caller's credentials (the access hook's fast path). */
export type Prefetched = { connection: Connection; app: ProviderApp };

/**
 * The connection, if the caller may see it (owner, its groups, org admins; else 404), with its
 * provider app — one query, or none when the access hook already read it for this caller.
 */
export async function loadConnection(deps: ProviderCallDeps, principal: UserPrincipal, connectionId: string, prefetched?: Prefetched): Promise<Prefetched> {
  if (prefetched && prefetched.connection.id === connectionId && prefetched.connection.org_id === principal.orgId) return prefetched;
  return deps.connections.getWithApp(principal, connectionId);
}

/**
 * The provider context for a connection: requests go to its profile's API base only, with a token
 * from custody, refreshed once on a 401, throttled and retried as apiClient.ts decides.
 */
export function connectionContext(
  deps: ProviderCallDeps,
  connection: Connection,
  app: ProviderApp,
  options: { signal?: AbortSignal; sleep?: (ms: number) => Promise<void> } = {},
): { apiBaseUrl: string; ctx: ProviderContext } {
  const { apiBaseUrl } = deps.profiles.resolve(app.provider, app.profile, app.tenant ?? undefined);
  let current: string | undefined;
  const ctx = createProviderContext({
    apiBaseUrl,
    fetch: deps.fetch,
    request: deps.request,
    retry: deps.retry,
    ...(options.signal && { signal: options.signal }),
    ...(options.sleep && { sleep: options.sleep }),
    accessToken: async () => (current = await deps.custody.accessToken(connection, app)),
    onUnauthorized: async () => current !== undefined && (await deps.custody.afterUnauthorized(connection, app, current)) !== undefined,
  });
  return { apiBaseUrl, ctx };
}
