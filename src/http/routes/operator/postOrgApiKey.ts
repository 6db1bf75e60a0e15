import { z } from 'zod';
import { createdApiKey, errorResponses, name, toApiKeyView } from '../../schemas.ts';
import { callContext, type Route } from '../../types.ts';
import { orgParams } from './getOrg.ts';

export const postOrgApiKey: Route = (app, { accounts, apiKeys }) => {
  app.post('/api/v1/operator/orgs/:orgId/api-keys', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: 'Create an API key for an org',
      security: [{ operatorToken: [] }],
      params: orgParams,
      body: z.strictObject({ name }),
      response: { 201: createdApiKey, ...errorResponses },
    },
  }, async (request, reply) => {
    await accounts.getOrg(request.params.orgId);
    const { apiKey, key } = await apiKeys.create(callContext(request), request.params.orgId, request.body.name);
    return reply.status(201).send({ apiKey: toApiKeyView(apiKey), key });
  });
};
