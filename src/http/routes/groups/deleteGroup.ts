import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { groupParams } from './getGroup.ts';

export const deleteGroup: Route = (app, { accounts }) => {
  app.delete('/api/v1/groups/:groupId', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Delete a group', params: groupParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await accounts.deleteGroup(callContext(request), userOf(request).orgId, request.params.groupId);
    return reply.status(204).send(null);
  });
};
