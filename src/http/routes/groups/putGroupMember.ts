import { z } from 'zod';
import { errorResponses, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

export const memberParams = z.strictObject({ groupId: uuid, userId: uuid });

/** Idempotent: adding a member twice is fine. */
export const putGroupMember: Route = (app, { accounts }) => {
  app.put('/api/v1/groups/:groupId/members/:userId', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Add a user to a group', params: memberParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    const { groupId, userId } = request.params;
    await accounts.setMembership(callContext(request), userOf(request).orgId, groupId, userId, true);
    return reply.status(204).send(null);
  });
};
