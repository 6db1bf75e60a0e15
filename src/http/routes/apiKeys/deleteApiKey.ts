import { z } from 'zod';
import { apiKeyView, errorResponses, toApiKeyView, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

export const deleteApiKey: Route = (app, { apiKeys }) => {
  app.delete('/api/v1/api-keys/:keyId', {
    config: { access: 'admin' },
    schema: {
      tags: ['api-keys'],
      summary: 'Revoke an API key',
      params: z.strictObject({ keyId: uuid }),
      response: { 200: apiKeyView, ...errorResponses },
    },
  }, async (request) => toApiKeyView(await apiKeys.revoke(callContext(request), userOf(request).orgId, request.params.keyId)));
};
