import { z } from 'zod';
import { permission } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

export const listPermissions: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/items/:itemId/permissions', {
    config: connectionRoute,
    schema: { tags: ['documents'], summary: "List an item's permissions", params: itemParams, response: { 200: z.object({ items: z.array(permission) }), ...errorResponses } },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return { items: await c.read.permissions(c.ctx, itemRef(c, request.params.itemId)) };
  });
};
