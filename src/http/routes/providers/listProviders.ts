import { z } from 'zod';
import { providers } from '../../../providers/registry.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';

const providerView = z
  .object({
    id: z.enum(['microsoft', 'google', 'webex']),
    displayName: z.string(),
    profiles: z.array(z.string()).describe('Endpoint profiles a provider app may choose.'),
    unsupportedClouds: z.array(z.object({ name: z.string(), displayName: z.string(), reason: z.string() })),
    requiresTenant: z.boolean(),
    scopes: z.array(z.object({ name: z.string(), description: z.string(), admin: z.boolean() })),
    scopePresets: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), scopes: z.array(z.string()) })),
  })
  .meta({ id: 'Provider' });

/** The provider catalog: what an admin can provision, with named scope presets. */
export const listProviders: Route = (app, { profiles }) => {
  app.get('/api/v1/providers', {
    config: { access: 'member' },
    schema: { tags: ['provider-apps'], summary: 'List providers, their profiles, scopes and presets', response: { 200: z.object({ items: z.array(providerView) }), ...errorResponses } },
  }, async () => ({
    items: [...providers.values()].map((p) => ({
      id: p.id,
      displayName: p.displayName,
      profiles: profiles.available(p.id),
      unsupportedClouds: Object.entries(p.clouds).flatMap(([name, c]) => (c.supported ? [] : [{ name, displayName: c.displayName, reason: c.reason }])),
      requiresTenant: p.requiresTenant,
      scopes: p.scopes,
      scopePresets: p.scopePresets,
    })),
  }));
};
