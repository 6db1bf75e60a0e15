import { z } from 'zod';
import { email, errorResponses, externalId, name, password, role, toUserView, userView, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

export const newUserBody = z.strictObject({
  email,
  displayName: name,
  role: role.default('member'),
  externalId: externalId.optional().describe("The host app's own id for this user, usable in the Tether-User header."),
  password: password.optional().describe('Only for users who sign in to Tether directly.'),
  groupIds: z.array(uuid).max(100).optional(),
});

export const postUser: Route = (app, { accounts }) => {
  app.post('/api/v1/users', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Create a user', body: newUserBody, response: { 201: userView, ...errorResponses } },
  }, async (request, reply) => {
    const user = await accounts.createUser(callContext(request), userOf(request).orgId, request.body);
    return reply.status(201).send(toUserView(user));
  });
};
