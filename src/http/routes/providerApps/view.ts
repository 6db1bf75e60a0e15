import { z } from 'zod';
import type { ProviderApp } from '../../../db/schema.ts';

export const providerId = z.enum(['microsoft', 'google', 'webex']);
export const providerAppParams = z.strictObject({ appId: z.uuid({ version: 'v4', error: 'must be a UUID' }) });

export const providerAppView = z
  .object({
    id: z.string(),
    provider: providerId,
    profile: z.string().describe('The endpoint profile: a cloud (worldwide, usgov), sandbox, or an operator profile.'),
    displayName: z.string(),
    clientId: z.string(),
    hasClientSecret: z.literal(true).describe('The secret is write-only: it is never returned.'),
    tenant: z.string().nullable(),
    scopes: z.array(z.string()),
    webexIntegrationId: z.string().nullable(),
    status: z.enum(['unverified', 'verified', 'verification_failed']),
    verifiedAt: z.iso.datetime().nullable(),
    redirectUri: z.string().describe("Register exactly this redirect URI in the provider's portal."),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'ProviderApp' });

export function toProviderAppView(app: ProviderApp, redirectUri: string): z.infer<typeof providerAppView> {
  return {
    id: app.id,
    provider: app.provider,
    profile: app.profile,
    displayName: app.display_name,
    clientId: app.client_id,
    hasClientSecret: true,
    tenant: app.tenant,
    scopes: app.scopes,
    webexIntegrationId: app.webex_integration_id,
    status: app.status,
    verifiedAt: app.verified_at?.toISOString() ?? null,
    redirectUri,
    createdAt: app.created_at.toISOString(),
    updatedAt: app.updated_at.toISOString(),
  };
}
