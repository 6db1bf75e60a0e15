import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { providerAppParams } from './view.ts';

export const deleteProviderApp: Route = (app, { providerApps }) => {
  app.delete('/api/v1/provider-apps/:appId', {
    config: { access: 'admin' },
    schema: { tags: ['provider-apps'], summary: 'Delete a provider app', params: providerAppParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await providerApps.delete(callContext(request), userOf(request).orgId, request.params.appId);
    return reply.status(204).send(null);
  });
};
