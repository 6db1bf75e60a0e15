import type { ProviderApp } from '../db/schema.ts';
import type { OAuthClient } from '../oauth/flow.ts';
import type { OutboundFetch } from '../outbound/fetch.ts';
import type { EndpointProfiles } from '../providers/profiles.ts';
import { providerDefinition } from '../providers/registry.ts';
import type { ProviderAppsService } from './providerApps.ts';

/**
 * Builds the generic flow's client for a provider app: its profile's endpoints (tenant filled in),
 * its client id, scopes and exact redirect URI. The client secret is decrypted only when a token
 * request needs it (`withSecret`); building the authorization URL does not.
 */
export class OAuthClients {
  private readonly profiles: EndpointProfiles;
  private readonly providerApps: ProviderAppsService;
  private readonly fetch: OutboundFetch;

  constructor(profiles: EndpointProfiles, providerApps: ProviderAppsService, fetch: OutboundFetch) {
    this.profiles = profiles;
    this.providerApps = providerApps;
    this.fetch = fetch;
  }

  /** For the authorization request only: the secret is left empty, it is not part of the URL. */
  withoutSecret(app: ProviderApp): OAuthClient {
    return this.build(app, '');
  }

  async withSecret(app: ProviderApp): Promise<OAuthClient> {
    return this.build(app, await this.providerApps.clientSecretOf(app));
  }

  private build(app: ProviderApp, clientSecret: string): OAuthClient {
    const tenant = app.tenant ?? undefined;
    return {
      provider: providerDefinition(app.provider),
      endpoints: this.profiles.resolve(app.provider, app.profile, tenant),
      clientId: app.client_id,
      clientSecret,
      redirectUri: this.providerApps.redirectUri,
      scopes: app.scopes,
      // A Microsoft tenant given as a domain cannot be compared with the ID token's tid (a GUID).
      ...(tenant && /^[0-9a-f-]{36}$/.test(tenant) && { tenantId: tenant }),
      fetch: this.fetch,
    };
  }
}
