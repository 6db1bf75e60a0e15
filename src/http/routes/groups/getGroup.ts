import { z } from 'zod';
import { errorResponses, groupView, toGroupView, uuid } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

export const groupParams = z.strictObject({ groupId: uuid });

export const getGroup: Route = (app, { accounts }) => {
  app.get('/api/v1/groups/:groupId', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Get a group and its members', params: groupParams, response: { 200: groupView, ...errorResponses } },
  }, async (request) => toGroupView(await accounts.getGroup(userOf(request).orgId, request.params.groupId)));
};
