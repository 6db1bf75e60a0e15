import { z } from 'zod';
import { apiKeyView, errorResponses, toApiKeyView } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const listApiKeys: Route = (app, { apiKeys }) => {
  app.get('/api/v1/api-keys', {
    config: { access: 'admin' },
    schema: { tags: ['api-keys'], summary: "List the org's API keys", response: { 200: z.object({ items: z.array(apiKeyView) }), ...errorResponses } },
  }, async (request) => ({ items: (await apiKeys.list(userOf(request).orgId)).map(toApiKeyView) }));
};
