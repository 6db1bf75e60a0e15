import { decodeCursor, errorResponses, paged, pageQuery, toPage, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { providerAppView, toProviderAppView } from './view.ts';

/** Members see the org's apps too (never a secret): they pick one to connect with. */
export const listProviderApps: Route = (app, { providerApps }) => {
  app.get('/api/v1/provider-apps', {
    config: { access: 'member' },
    schema: { tags: ['provider-apps'], summary: "List the org's provider apps", querystring: pageQuery, response: { 200: paged(providerAppView), ...errorResponses } },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const rows = await providerApps.list(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(rows, limit, (a) => a.id, (a) => toProviderAppView(a, providerApps));
  });
};
