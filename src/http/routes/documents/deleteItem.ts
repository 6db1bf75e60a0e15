import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

export const deleteItem: Route = (app, services) => {
  app.delete('/api/v1/connections/:connectionId/items/:itemId', {
    config: connectionRoute,
    schema: { tags: ['documents'], summary: 'Delete an item', params: itemParams, headers: z.object({ 'if-match': z.string().max(200).optional() }), response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    await c.write.delete(c.ctx, itemRef(c, request.params.itemId), request.headers['if-match']);
    return reply.status(204).send(null);
  });
};
