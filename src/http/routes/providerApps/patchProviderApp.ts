import { z } from 'zod';
import { errorResponses, name } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { providerAppParams, providerAppView, toProviderAppView } from './view.ts';

/** Name and integration id. A new secret or new scopes go through reconfigure, which resets tokens. */
export const patchProviderApp: Route = (app, { providerApps }) => {
  app.patch('/api/v1/provider-apps/:appId', {
    config: { access: 'admin' },
    schema: {
      tags: ['provider-apps'],
      summary: 'Rename a provider app',
      params: providerAppParams,
      body: z
        .strictObject({ displayName: name.optional(), webexIntegrationId: z.string().min(1).max(512).regex(/^[\x21-\x7e]+$/).nullable().optional() })
        .refine((b) => Object.keys(b).length > 0, 'at least one field to change'),
      response: { 200: providerAppView, ...errorResponses },
    },
  }, async (request) =>
    toProviderAppView(await providerApps.update(callContext(request), userOf(request).orgId, request.params.appId, request.body), providerApps),
  );
};
