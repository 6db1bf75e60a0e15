import { z } from 'zod';
import { errorResponses, toUserView, userView, uuid } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const userParams = z.strictObject({ userId: uuid });

export const getUser: Route = (app, { accounts }) => {
  app.get('/api/v1/users/:userId', {
    config: { access: 'admin' },
    schema: { tags: ['users'], summary: 'Get a user', params: userParams, response: { 200: userView, ...errorResponses } },
  }, async (request) => toUserView(await accounts.getUser(userOf(request).orgId, request.params.userId)));
};
