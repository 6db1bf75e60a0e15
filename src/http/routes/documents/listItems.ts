import { z } from 'zod';
import { checkDriveId } from '../../../documents/ids.ts';
import { documentItem } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionParams, connectionRoute, itemRef, open, sendItemPage } from './common.ts';

export const listItems: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/items', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: "List a folder's children",
      params: connectionParams,
      querystring: z.strictObject({
        parent: z.string().min(1).max(700).default('root').describe('An item id, or "root".'),
        driveId: z.string().min(1).max(300).optional(),
        cursor: z.string().max(4096).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        orderBy: z.enum(['name', 'modifiedAt']).optional(),
      }),
      response: { 200: z.object({ items: z.array(documentItem), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    const q = request.query;
    const page = await c.read.listChildren(c.ctx, {
      parent: q.parent === 'root' ? null : itemRef(c, q.parent),
      driveId: q.driveId === undefined ? null : checkDriveId(c.provider, q.driveId),
      cursor: q.cursor ?? null,
      limit: q.limit,
      orderBy: q.orderBy ?? null,
    });
    return sendItemPage(reply, page);
  });
};
