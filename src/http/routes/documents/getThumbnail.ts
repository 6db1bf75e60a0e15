import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open, streamBytes } from './common.ts';

/** The image bytes, streamed through with ETag; cacheable privately by the browser. */
export const getThumbnail: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/items/:itemId/thumbnail', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: "Stream an item's thumbnail",
      params: itemParams,
      querystring: z.strictObject({ size: z.enum(['small', 'medium', 'large']).default('medium') }),
      response: { 200: z.any().describe('image bytes'), ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return streamBytes(reply, await c.read.thumbnail(c.ctx, itemRef(c, request.params.itemId), request.query.size), 'private, max-age=300');
  });
};
