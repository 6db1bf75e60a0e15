import { z } from 'zod';
import { email, errorResponses, externalId, name, password, role, toUserView, userView, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { userParams } from './getUser.ts';

export const patchUser: Route = (app, { accounts }) => {
  app.patch('/api/v1/users/:userId', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      summary: 'Change a user',
      params: userParams,
      body: z
        .strictObject({
          email: email.optional(),
          displayName: name.optional(),
          role: role.optional(),
          externalId: externalId.nullable().optional(),
          password: password.optional(),
          groupIds: z.array(uuid).max(100).optional().describe("Replaces the user's groups."),
        })
        .refine((b) => Object.keys(b).length > 0, 'at least one field to change'),
      response: { 200: userView, ...errorResponses },
    },
  }, async (request) => toUserView(await accounts.updateUser(callContext(request), userOf(request).orgId, request.params.userId, request.body)));
};
