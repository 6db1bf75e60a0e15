import { decodeCursor, paged, toPage, errorResponses, groupView, pageQuery, toGroupView, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const listGroups: Route = (app, { accounts }) => {
  app.get('/api/v1/groups', {
    config: { access: 'admin' },
    schema: {
      tags: ['groups'],
      summary: "List the org's groups",
      querystring: pageQuery,
      response: { 200: paged(groupView), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const groups = await accounts.listGroups(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(groups, limit, (row) => row.id, toGroupView);
  });
};
