import type { Queryable } from '../db/database.ts';
import { isUuid } from '../db/uuid.ts';
import type { ProviderApp } from '../db/schema.ts';
import { OAuthError } from '../oauth/errors.ts';
import type { OAuthClient } from '../oauth/flow.ts';
import type { OutboundFetch } from '../outbound/fetch.ts';
import type { EndpointProfiles, ResolvedEndpoints } from '../providers/profiles.ts';
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
  /** Microsoft tenant domain → tenant id, per profile. Tenant ids never change. */
  private readonly tenantIds = new Map<string, Promise<string>>();

  constructor(profiles: EndpointProfiles, providerApps: ProviderAppsService, fetch: OutboundFetch) {
    this.profiles = profiles;
    this.providerApps = providerApps;
    this.fetch = fetch;
  }

  /** The redirect URI registered for `app` (shared, or per app). */
  redirectUriFor(app: { id: string }): string {
    return this.providerApps.redirectUriFor(app);
  }

  /** For the authorization request only: the secret is left empty, it is not part of the URL. */
  withoutSecret(app: ProviderApp): OAuthClient {
    return this.build(app, '');
  }

  /**
   * For token requests. A Microsoft tenant given as a domain is resolved to its tenant id first, so
   * the ID token's `tid` is always compared with the app's tenant. `db`: the caller's transaction,
   * if it holds one (the secret's data key is then read on it).
   */
  async withSecret(app: ProviderApp, db?: Queryable): Promise<OAuthClient> {
    const client = this.build(app, await this.providerApps.clientSecretOf(app, db));
    if (app.tenant && !isUuid(app.tenant) && client.endpoints.issuer.includes('{tenantid}')) {
      client.tenantId = await this.tenantIdOf(client.endpoints, app.tenant);
    }
    return client;
  }

  /**
   * The tenant id behind a tenant domain: the issuer of the tenant's OpenID discovery document
   * (`{authority}/{domain}/v2.0/.well-known/openid-configuration`) carries it. A failed lookup is
   * not remembered.
   */
  private tenantIdOf(endpoints: ResolvedEndpoints, domain: string): Promise<string> {
    const key = `${endpoints.profile}\n${domain}`;
    let pending = this.tenantIds.get(key);
    if (!pending) {
      pending = this.discoverTenantId(endpoints, domain);
      this.tenantIds.set(key, pending);
      pending.catch(() => this.tenantIds.delete(key));
    }
    return pending;
  }

  private async discoverTenantId(endpoints: ResolvedEndpoints, domain: string): Promise<string> {
    const authority = endpoints.tokenEndpoint.replace(/\/oauth2\/v2\.0\/token$/, '');
    if (authority === endpoints.tokenEndpoint) {
      throw new OAuthError(502, 'provider_error', `The tenant ${domain} is a domain, and the token endpoint of profile "${endpoints.profile}" has no Microsoft authority to look its tenant id up; give the tenant id instead.`);
    }
    let response: Response;
    try {
      response = await this.fetch(`${authority}/v2.0/.well-known/openid-configuration`, { headers: { accept: 'application/json' } });
    } catch (cause) {
      throw new OAuthError(503, 'provider_unreachable', `Could not look up the tenant id of ${domain}.`, { cause });
    }
    const body = (await response.json().catch(() => ({}))) as { issuer?: unknown };
    const pattern = new RegExp(`^${escapeRegExp(endpoints.issuer).replace('\\{tenantid\\}', '([0-9a-fA-F-]{36})')}$`);
    const match = response.ok && typeof body.issuer === 'string' ? pattern.exec(body.issuer) : null;
    if (!match) throw new OAuthError(502, 'provider_error', `The provider did not confirm the tenant ${domain} (HTTP ${response.status}).`);
    return match[1]!.toLowerCase();
  }

  private build(app: ProviderApp, clientSecret: string): OAuthClient {
    const tenant = app.tenant ?? undefined;
    return {
      provider: providerDefinition(app.provider),
      endpoints: this.profiles.resolve(app.provider, app.profile, tenant),
      clientId: app.client_id,
      clientSecret,
      redirectUri: this.providerApps.redirectUriFor(app),
      scopes: app.scopes,
      // A tenant given as a domain gets its id in withSecret, before any token is requested.
      ...(tenant && isUuid(tenant) && { tenantId: tenant }),
      fetch: this.fetch,
    };
  }
}


function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
