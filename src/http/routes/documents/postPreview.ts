import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

export const postPreview: Route = (app, services) => {
  app.post('/api/v1/connections/:connectionId/items/:itemId/preview', {
    config: connectionRoute,
    schema: { tags: ['documents'], summary: 'An embeddable preview URL', params: itemParams, response: { 200: z.object({ url: z.string() }), ...errorResponses } },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return c.read.preview(c.ctx, itemRef(c, request.params.itemId));
  });
};
