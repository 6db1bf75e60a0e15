import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { connectionParams } from './view.ts';

const deletedView = z
  .object({
    revocation: z.object({
      status: z.enum(['revoked', 'not_supported', 'failed']).describe('What happened at the provider. The tokens are deleted from Tether in every case.'),
      message: z.string(),
    }),
  })
  .meta({ id: 'DeletedConnection' });

export const deleteConnection: Route = (app, { connections }) => {
  app.delete('/api/v1/connections/:connectionId', {
    config: { access: 'member' },
    schema: {
      tags: ['connections'],
      summary: 'Delete a connection: revoke at the provider where possible, delete the tokens',
      params: connectionParams,
      response: { 200: deletedView, ...errorResponses },
    },
  }, async (request) => ({ revocation: await connections.delete(callContext(request), userOf(request), request.params.connectionId) }));
};
