import { TetherError } from '../errors.ts';
import type { Endpoints, ProviderId } from './definition.ts';
import { providerDefinition, providers } from './registry.ts';

/**
 * Endpoint profiles: named sets of provider endpoint URLs. Built in: each provider's clouds (the real
 * services; Microsoft's unsupported national clouds are known by name and refused) and `sandbox`
 * (filled in when the provider sandbox runs). Operators add more in the config file under
 * `profiles.<name>.<provider>`. A provider app names a profile; org admins never enter URLs.
 */
export type ProfileConfig = Record<string, Partial<Record<ProviderId, Endpoints>>>;

export const SANDBOX_PROFILE = 'sandbox';

export interface ResolvedEndpoints extends Endpoints {
  profile: string;
  /** The exact issuer expected in ID tokens; for Microsoft, `{tenantid}` is filled from the token's `tid`. */
  issuerFor(tenantId?: string): string;
}

export function unsupportedCloud(provider: ProviderId, cloud: string, reason: string): TetherError {
  return new TetherError(422, 'unsupported_cloud', `${reason} Tether supports ${supportedClouds(provider).join(' and ')} for ${providerDefinition(provider).displayName}.`, {
    details: { provider, cloud },
  });
}

function supportedClouds(provider: ProviderId): string[] {
  return Object.entries(providerDefinition(provider).clouds)
    .filter(([, c]) => c.supported)
    .map(([name]) => name);
}

export class EndpointProfiles {
  private readonly configured: ProfileConfig;
  private sandbox: Partial<Record<ProviderId, Endpoints>> | undefined;

  constructor(configured: ProfileConfig = {}) {
    this.configured = configured;
    for (const name of Object.keys(configured)) {
      for (const def of providers.values()) {
        if (name in def.clouds) throw new Error(`profiles.${name}: "${name}" is a built-in ${def.id} cloud; choose another name`);
      }
    }
  }

  /** Called at boot when the provider sandbox runs, with its endpoints. */
  useSandbox(endpoints: Partial<Record<ProviderId, Endpoints>>): void {
    this.sandbox = endpoints;
  }

  /** The profile names a provider app of `provider` may choose. */
  available(provider: ProviderId): string[] {
    const names = supportedClouds(provider);
    for (const [name, profile] of Object.entries(this.configured)) if (profile[provider]) names.push(name);
    if (this.sandbox?.[provider] && !(SANDBOX_PROFILE in this.configured)) names.push(SANDBOX_PROFILE);
    return names;
  }

  /** Throws `unsupported_cloud` (422) for a known but refused cloud, `unknown_profile` (422) otherwise. */
  resolve(provider: ProviderId, name: string, tenant?: string): ResolvedEndpoints {
    const endpoints = this.lookup(provider, name);
    const fill = (value: string) => (tenant === undefined ? value : value.replaceAll('{tenant}', encodeURIComponent(tenant)));
    return {
      profile: name,
      issuer: endpoints.issuer,
      authorizationEndpoint: fill(endpoints.authorizationEndpoint),
      tokenEndpoint: fill(endpoints.tokenEndpoint),
      revocationEndpoint: endpoints.revocationEndpoint && fill(endpoints.revocationEndpoint),
      jwksUri: fill(endpoints.jwksUri),
      apiBaseUrl: endpoints.apiBaseUrl,
      issuerFor: (tenantId) => (tenantId === undefined ? endpoints.issuer : endpoints.issuer.replaceAll('{tenantid}', tenantId)),
    };
  }

  private lookup(provider: ProviderId, name: string): Endpoints {
    const cloud = providerDefinition(provider).clouds[name];
    if (cloud) {
      if (!cloud.supported) throw unsupportedCloud(provider, name, cloud.reason);
      return cloud.endpoints;
    }
    const configured = this.configured[name]?.[provider];
    if (configured) return configured;
    if (name === SANDBOX_PROFILE && this.sandbox?.[provider]) return this.sandbox[provider];
    throw new TetherError(422, 'unknown_profile', `There is no endpoint profile "${name}" for ${provider}.`, {
      details: { provider, profile: name, available: this.available(provider) },
    });
  }
}
