import { z } from 'zod';
import { TetherError } from '../../../errors.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open, streamBytes } from './common.ts';

const RANGE = /^bytes=\d*-\d*$/;

/** The file's bytes, streamed (never buffered whole); a single HTTP Range is passed through. */
export const getContent: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/items/:itemId/content', {
    config: connectionRoute,
    schema: { tags: ['documents'], summary: "Stream an item's content (Range supported)", params: itemParams, response: { 200: z.any(), 206: z.any(), ...errorResponses } },
  }, async (request, reply) => {
    const range = request.headers.range;
    if (range !== undefined && (!RANGE.test(range) || range === 'bytes=-')) {
      throw new TetherError(416, 'invalid_range', 'Only a single byte range (bytes=a-b) is supported.');
    }
    const c = await open(services, request, reply);
    return streamBytes(reply, await c.read.content(c.ctx, itemRef(c, request.params.itemId), range ?? null), 'private, no-store');
  });
};
