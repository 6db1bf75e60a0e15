import { z } from 'zod';
import { createdApiKey, errorResponses, name, toApiKeyView } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

export const postApiKey: Route = (app, { apiKeys }) => {
  app.post('/api/v1/api-keys', {
    config: { access: 'admin' },
    schema: { tags: ['api-keys'], summary: 'Create an API key (shown once)', body: z.strictObject({ name }), response: { 201: createdApiKey, ...errorResponses } },
  }, async (request, reply) => {
    const { apiKey, key } = await apiKeys.create(callContext(request), userOf(request).orgId, request.body.name);
    return reply.status(201).send({ apiKey: toApiKeyView(apiKey), key });
  });
};
