import { z } from 'zod';
import { isValidName } from '../../../documents/chunks.ts';
import { documentItem } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

export const itemName = z.string().refine(isValidName, 'a file name: 1–255 characters, no slashes, control characters or dot names');

/** Rename and/or move. With `If-Match` (the item's ETag), a changed item answers 412. */
export const patchItem: Route = (app, services) => {
  app.patch('/api/v1/connections/:connectionId/items/:itemId', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: 'Rename or move an item',
      params: itemParams,
      headers: z.object({ 'if-match': z.string().max(200).optional() }),
      body: z.strictObject({ name: itemName.optional(), parentId: z.string().min(1).max(700).optional() }).refine((b) => b.name !== undefined || b.parentId !== undefined, 'name or parentId'),
      response: { 200: documentItem, ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    const item = await c.write.update(c.ctx, itemRef(c, request.params.itemId), {
      ...(request.body.name && { name: request.body.name }),
      ...(request.body.parentId && { parent: itemRef(c, request.body.parentId) }),
      ...(request.headers['if-match'] && { ifMatch: request.headers['if-match'] }),
    });
    delete item.provider;
    return item;
  });
};
