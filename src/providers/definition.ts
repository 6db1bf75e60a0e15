import { z } from 'zod';

/**
 * A provider, as data: endpoints per cloud, scope catalog and presets, and the protocol quirks the
 * one generic OAuth flow has to honour. Code is added only where behaviour differs (Nango's lesson).
 * Every provider.json is validated by this schema when Tether starts.
 */
const url = z.url({ protocol: /^https$/ });

export const endpointsSchema = z.strictObject({
  /** Microsoft's may hold `{tenantid}`: the per-tenant issuer of its ID tokens. */
  issuer: z.string().min(1),
  /** Microsoft's may hold `{tenant}`: single-tenant apps use their tenant's endpoints. */
  authorizationEndpoint: z.string().min(1),
  tokenEndpoint: z.string().min(1),
  revocationEndpoint: z.string().min(1).nullable(),
  jwksUri: z.string().min(1),
  apiBaseUrl: z.string().min(1),
});
export type Endpoints = z.infer<typeof endpointsSchema>;

const cloudSchema = z.discriminatedUnion('supported', [
  z.strictObject({ supported: z.literal(true), displayName: z.string(), endpoints: endpointsSchema }),
  z.strictObject({ supported: z.literal(false), displayName: z.string(), reason: z.string() }),
]);

const scopeSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  /** Needs an administrator to grant it (or to hold the role it implies). */
  admin: z.boolean().default(false),
});

export const providerDefinitionSchema = z
  .strictObject({
    id: z.enum(['microsoft', 'google', 'webex']),
    displayName: z.string(),
    /** Issues OpenID Connect ID tokens (nonce, JWKS validation). */
    openid: z.boolean(),
    /** The account identity kept on a connection: issuer (or tenant) + this immutable claim. */
    subjectClaim: z.string(),
    tenantClaim: z.string().optional(),
    /** A provider app of this provider must name its directory tenant (Microsoft: one per org). */
    requiresTenant: z.boolean(),
    scopeSeparator: z.string().min(1),
    /** Scopes always requested, whatever the admin picks (e.g. to get a refresh token and an ID token). */
    baseScopes: z.array(z.string()),
    /** Extra authorization request parameters (Google: offline access and forced consent). */
    authorizationParams: z.record(z.string(), z.string()),
    pkce: z.enum(['S256']),
    /** How the token endpoint treats refresh tokens. */
    refreshTokens: z.enum(['rotates-always', 'never-returned-on-refresh', 'may-rotate']),
    clientAuthentication: z.enum(['client_secret_post', 'client_secret_basic']),
    /** Whether the provider sends RFC 9207 `iss` in the authorization response. */
    authorizationResponseIss: z.boolean(),
    defaultCloud: z.string(),
    clouds: z.record(z.string(), cloudSchema),
    scopes: z.array(scopeSchema).min(1),
    scopePresets: z.array(z.strictObject({ id: z.string().regex(/^[a-z0-9-]+$/), name: z.string(), description: z.string(), scopes: z.array(z.string()).min(1) })),
  })
  .superRefine((def, ctx) => {
    const names = new Set(def.scopes.map((s) => s.name));
    if (names.size !== def.scopes.length) ctx.addIssue({ code: 'custom', message: 'duplicate scope in the catalog', path: ['scopes'] });
    for (const [i, preset] of def.scopePresets.entries()) {
      for (const scope of preset.scopes) {
        if (!names.has(scope)) ctx.addIssue({ code: 'custom', message: `preset scope ${scope} is not in the catalog`, path: ['scopePresets', i] });
      }
    }
    for (const scope of def.baseScopes) {
      if (!names.has(scope)) ctx.addIssue({ code: 'custom', message: `base scope ${scope} is not in the catalog`, path: ['baseScopes'] });
    }
    const cloud = def.clouds[def.defaultCloud];
    if (!cloud?.supported) ctx.addIssue({ code: 'custom', message: 'the default cloud must be a supported one', path: ['defaultCloud'] });
    for (const [name, c] of Object.entries(def.clouds)) {
      if (!c.supported) continue;
      for (const [key, value] of Object.entries(c.endpoints)) {
        if (value !== null && !url.safeParse(value.replaceAll('{tenantid}', 'x').replaceAll('{tenant}', 'x')).success) {
          ctx.addIssue({ code: 'custom', message: `must be an https URL`, path: ['clouds', name, 'endpoints', key] });
        }
      }
    }
  });

export type ProviderDefinition = z.infer<typeof providerDefinitionSchema>;
export type ProviderId = ProviderDefinition['id'];
