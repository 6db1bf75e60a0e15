import { z } from 'zod';
import { documentItem } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionParams, connectionRoute, open, sendItemPage } from './common.ts';

export const searchItems: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/search', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: 'Search items by name',
      params: connectionParams,
      querystring: z.strictObject({ q: z.string().min(1).max(200), cursor: z.string().max(4096).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: { 200: z.object({ items: z.array(documentItem), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return sendItemPage(reply, await c.read.search(c.ctx, request.query.q, request.query.cursor ?? null, request.query.limit));
  });
};
