import { z } from 'zod';
import { sharedLink } from '../../../documents/model.ts';
import { email, errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionRoute, itemParams, itemRef, open } from './common.ts';

/** Idempotent: the same request returns the same link (Graph createLink; Drive permissions). */
export const postLink: Route = (app, services) => {
  app.post('/api/v1/connections/:connectionId/items/:itemId/links', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: 'Create (or get) a sharing link',
      params: itemParams,
      body: z.strictObject({
        type: z.enum(['view', 'edit']),
        scope: z.enum(['anonymous', 'organization', 'users']),
        recipients: z.array(email).max(100).optional(),
        expiresAt: z.iso.datetime().optional(),
      }),
      response: { 200: sharedLink, ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    const b = request.body;
    return c.read.createLink(c.ctx, itemRef(c, request.params.itemId), { type: b.type, scope: b.scope, recipients: b.recipients ?? [], expiresAt: b.expiresAt ?? null });
  });
};
