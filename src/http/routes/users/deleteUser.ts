import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { userParams } from './getUser.ts';

export const deleteUser: Route = (app, { accounts }) => {
  app.delete('/api/v1/users/:userId', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Delete a user', params: userParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await accounts.deleteUser(callContext(request), userOf(request).orgId, request.params.userId);
    return reply.status(204).send(null);
  });
};
