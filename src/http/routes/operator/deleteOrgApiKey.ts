import { z } from 'zod';
import { apiKeyView, errorResponses, toApiKeyView, uuid } from '../../schemas.ts';
import { callContext, type Route } from '../../types.ts';

export const deleteOrgApiKey: Route = (app, { apiKeys }) => {
  app.delete('/api/v1/operator/orgs/:orgId/api-keys/:keyId', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: "Revoke an org's API key",
      security: [{ operatorToken: [] }],
      params: z.strictObject({ orgId: uuid, keyId: uuid }),
      response: { 200: apiKeyView, ...errorResponses },
    },
  }, async (request) => toApiKeyView(await apiKeys.revoke(callContext(request), request.params.orgId, request.params.keyId)));
};
