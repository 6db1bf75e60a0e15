import { decodeCursor, paged, toPage, errorResponses, pageQuery, toUserView, userView, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const listUsers: Route = (app, { accounts }) => {
  app.get('/api/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: "List the org's users",
      querystring: pageQuery,
      response: { 200: paged(userView), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const users = await accounts.listUsers(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(users, limit, (row) => row.id, toUserView);
  });
};
