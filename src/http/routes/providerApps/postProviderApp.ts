import { z } from 'zod';
import { errorResponses, name } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { providerAppView, providerId, toProviderAppView } from './view.ts';

const token = z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const postProviderApp: Route = (app, { providerApps }) => {
  app.post('/api/v1/provider-apps', {
    config: { access: 'admin' },
    schema: {
      tags: ['provider-apps'],
      summary: 'Provision a provider app',
      body: z.strictObject({
        provider: providerId,
        profile: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional().describe('Default: the provider’s worldwide cloud.'),
        displayName: name,
        clientId: token,
        clientSecret: z.string().min(1).max(1024).describe('Write-only: stored encrypted, never returned.'),
        tenant: z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'a tenant id (GUID) or domain').optional().describe('Microsoft only: the org’s tenant id or primary domain.'),
        scopes: z.array(z.string().min(1).max(200)).max(100).optional(),
        scopePreset: z.string().max(64).optional().describe('A named set of scopes, e.g. "webex-compliance".'),
        webexIntegrationId: token.optional(),
      }),
      response: { 201: providerAppView, ...errorResponses },
    },
  }, async (request, reply) => {
    const created = await providerApps.create(callContext(request), userOf(request).orgId, request.body);
    return reply.status(201).send(toProviderAppView(created, providerApps));
  });
};
