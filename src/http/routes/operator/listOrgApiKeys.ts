import { apiKeyView, decodeCursor, errorResponses, paged, pageQuery, toApiKeyView, toPage, UUID_PATTERN } from '../../schemas.ts';
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
      querystring: pageQuery,
      response: { 200: paged(apiKeyView), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit } = request.query;
    await accounts.getOrg(request.params.orgId);
    const after = decodeCursor(cursor, UUID_PATTERN);
    const rows = await apiKeys.list(request.params.orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(rows, limit, (k) => k.id, toApiKeyView);
  });
};
