import { z } from 'zod';
import type { ProviderApp } from '../../../db/schema.ts';
import type { VerificationResult } from '../../../services/providerAppSetup.ts';

export const providerId = z.enum(['microsoft', 'google', 'webex']);
export const providerAppParams = z.strictObject({ appId: z.uuid({ version: 'v4', error: 'must be a UUID' }) });

export const verificationView = z
  .object({
    status: z.enum(['passed', 'failed']),
    checkedAt: z.iso.datetime(),
    connectionId: z.string().describe('The service account’s connection the checks ran with.'),
    account: z.object({ email: z.string().nullable(), displayName: z.string().nullable() }).nullable().describe('Who the service account is, as the provider answered.'),
    steps: z.array(
      z.object({
        id: z.enum(['token', 'scopes', 'identity', 'capability']),
        status: z.enum(['passed', 'failed', 'skipped']),
        message: z.string(),
        code: z.string().optional().describe('Failed steps: a stable code (docs/errors.md, "Verification steps").'),
        request: z.string().optional().describe('The API call the step made, relative to the API base.'),
        missingScopes: z.array(z.string()).optional(),
      }),
    ),
  })
  .meta({ id: 'ProviderAppVerification' });

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
    verifiedAt: z.iso.datetime().nullable().describe('When a verification last passed.'),
    verification: verificationView.nullable().describe('The last verification (POST …/{id}/verify); cleared by reconfigure.'),
    serviceConnectionId: z.string().nullable().describe('The service account’s connection, made by verify.'),
    redirectUri: z.string().describe("Register exactly this redirect URI in the provider's portal."),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'ProviderApp' });

export function toProviderAppView(app: ProviderApp, apps: { redirectUriFor(app: { id: string }): string }): z.infer<typeof providerAppView> {
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
    verification: (app.verification as VerificationResult | null) ?? null,
    serviceConnectionId: app.service_connection_id,
    redirectUri: apps.redirectUriFor(app),
    createdAt: app.created_at.toISOString(),
    updatedAt: app.updated_at.toISOString(),
  };
}
