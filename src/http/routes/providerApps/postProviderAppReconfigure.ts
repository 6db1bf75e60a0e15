import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { providerAppParams, providerAppView, toProviderAppView } from './view.ts';

const reconfigured = z
  .object({
    providerApp: providerAppView,
    connectionsFlagged: z.number().int().describe('Connections made through the app that are now needs-reauth (reason provider_app_reconfigured).'),
  })
  .meta({ id: 'ProviderAppReconfigured' });

/** Seed 001 "Reconfiguring Existing Environment": a new secret and/or scopes; the org's tokens are reset. */
export const postProviderAppReconfigure: Route = (app, { providerApps, providerAppSetup }) => {
  app.post('/api/v1/provider-apps/:appId/reconfigure', {
    config: { access: 'admin' },
    schema: {
      tags: ['provider-apps'],
      summary: 'Give a provider app a new client secret and/or scopes',
      description:
        'Stores the new secret (write-only) and/or scopes (checked against the catalog), deletes the service account’s tokens, clears the verification, and flags every usable connection of the app `needs-reauth` with reason `provider_app_reconfigured` (each gets the `connection.needs_reauth` webhook). Connections keep their id, name, groups and handle: reconnecting the same account makes them active again.',
      params: providerAppParams,
      body: z
        .strictObject({
          clientSecret: z.string().min(1).max(1024).optional().describe('Write-only: stored encrypted, never returned.'),
          scopes: z.array(z.string().min(1).max(200)).max(100).optional(),
          scopePreset: z.string().max(64).optional(),
        })
        .refine((b) => b.clientSecret !== undefined || b.scopes !== undefined || b.scopePreset !== undefined, 'at least one of clientSecret, scopes, scopePreset'),
      response: { 200: reconfigured, ...errorResponses },
    },
  }, async (request) => {
    const { app: updated, flagged } = await providerAppSetup.reconfigure(callContext(request), userOf(request).orgId, request.params.appId, request.body);
    return { providerApp: toProviderAppView(updated, providerApps), connectionsFlagged: flagged };
  });
};
