import { z } from 'zod';
import { documentItem } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

export const getItem: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/items/:itemId', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: 'Get an item (ETag = its version, for If-Match)',
      params: itemParams,
      querystring: z.strictObject({ include: z.enum(['provider']).optional() }),
      response: { 200: documentItem, ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    const item = await c.read.getItem(c.ctx, itemRef(c, request.params.itemId));
    const etag = item.provider?.etag;
    if (typeof etag === 'string') void reply.header('etag', etag);
    if (request.query.include !== 'provider') delete item.provider;
    return item;
  });
};
