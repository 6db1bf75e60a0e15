import { z } from 'zod';
import { errorResponses, groupView, name, toGroupView } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

export const postGroup: Route = (app, { accounts }) => {
  app.post('/api/v1/groups', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Create a group', body: z.strictObject({ name }), response: { 201: groupView, ...errorResponses } },
  }, async (request, reply) => {
    const group = await accounts.createGroup(callContext(request), userOf(request).orgId, request.body.name);
    return reply.status(201).send(toGroupView(group));
  });
};
