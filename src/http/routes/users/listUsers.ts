import { z } from 'zod';
import { decodeCursor, encodeCursor, errorResponses, pageQuery, toUserView, userView, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const listUsers: Route = (app, { accounts }) => {
  app.get('/api/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: "List the org's users",
      querystring: pageQuery,
      response: { 200: z.object({ items: z.array(userView), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const users = await accounts.listUsers(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    const page = users.slice(0, limit);
    return { items: page.map(toUserView), nextCursor: users.length > limit ? encodeCursor(page.at(-1)!.id) : null };
  });
};
