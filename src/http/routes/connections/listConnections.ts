import { decodeCursor, errorResponses, paged, pageQuery, toPage, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { connectionView, toConnectionView } from './view.ts';

/** The caller's own connections and the shared ones of their groups; an org admin sees all of the org's. */
export const listConnections: Route = (app, { connections }) => {
  app.get('/api/v1/connections', {
    config: { access: 'member' },
    schema: { tags: ['connections'], summary: 'List the connections visible to the caller', querystring: pageQuery, response: { 200: paged(connectionView), ...errorResponses } },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const rows = await connections.list(userOf(request), { limit: limit + 1, ...(after && { after }) });
    return toPage(rows, limit, (c) => c.id, toConnectionView);
  });
};
