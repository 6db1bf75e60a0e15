import { z } from 'zod';
import { apiKeyView, errorResponses, toApiKeyView } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { orgParams } from './getOrg.ts';

export const listOrgApiKeys: Route = (app, { accounts, apiKeys }) => {
  app.get('/api/v1/operator/orgs/:orgId/api-keys', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: "List an org's API keys",
      security: [{ operatorToken: [] }],
      params: orgParams,
      response: { 200: z.object({ items: z.array(apiKeyView) }), ...errorResponses },
    },
  }, async (request) => {
    await accounts.getOrg(request.params.orgId);
    return { items: (await apiKeys.list(request.params.orgId)).map(toApiKeyView) };
  });
};
