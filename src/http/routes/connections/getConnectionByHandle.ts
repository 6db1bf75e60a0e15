import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { connectionView, toConnectionView } from './view.ts';

/** Resolves a shared connection's opaque handle for the calling viewer (owner, admin, or a member of its groups). */
export const getConnectionByHandle: Route = (app, { connections }) => {
  app.get('/api/v1/connections/by-handle/:handle', {
    config: { access: 'member' },
    schema: {
      tags: ['connections'],
      summary: 'Resolve a shared connection’s handle (group check on every call)',
      params: z.strictObject({ handle: z.string().min(1).max(100) }),
      response: { 200: connectionView, ...errorResponses },
    },
  }, async (request) => toConnectionView(await connections.getByHandle(userOf(request), request.params.handle)));
};
