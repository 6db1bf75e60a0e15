import { apiKeyView, decodeCursor, errorResponses, paged, pageQuery, toApiKeyView, toPage, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const listApiKeys: Route = (app, { apiKeys }) => {
  app.get('/api/v1/api-keys', {
    config: { access: 'admin' },
    schema: { tags: ['api-keys'], summary: "List the org's API keys", querystring: pageQuery, response: { 200: paged(apiKeyView), ...errorResponses } },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const rows = await apiKeys.list(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(rows, limit, (k) => k.id, toApiKeyView);
  });
};
