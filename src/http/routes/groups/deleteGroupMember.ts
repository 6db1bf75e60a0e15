import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { memberParams } from './putGroupMember.ts';

export const deleteGroupMember: Route = (app, { accounts }) => {
  app.delete('/api/v1/groups/:groupId/members/:userId', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Remove a user from a group', params: memberParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    const { groupId, userId } = request.params;
    await accounts.setMembership(callContext(request), userOf(request).orgId, groupId, userId, false);
    return reply.status(204).send(null);
  });
};
