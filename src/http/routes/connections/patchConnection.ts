import { z } from 'zod';
import { errorResponses, name, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { connectionParams, connectionView, toConnectionView } from './view.ts';

export const patchConnection: Route = (app, { connections }) => {
  app.patch('/api/v1/connections/:connectionId', {
    config: { access: 'member' },
    schema: {
      tags: ['connections'],
      summary: 'Rename a connection, or change a shared connection’s groups (org admins)',
      params: connectionParams,
      body: z.strictObject({ name: name.optional(), groupIds: z.array(uuid).max(100).optional() }),
      response: { 200: connectionView, ...errorResponses },
    },
  }, async (request) => toConnectionView(await connections.update(callContext(request), userOf(request), request.params.connectionId, request.body)));
};
