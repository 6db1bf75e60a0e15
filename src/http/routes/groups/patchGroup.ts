import { z } from 'zod';
import { errorResponses, groupView, name, toGroupView } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { groupParams } from './getGroup.ts';

export const patchGroup: Route = (app, { accounts }) => {
  app.patch('/api/v1/groups/:groupId', {
    config: { access: 'admin' },
    schema: { tags: ['groups'], summary: 'Rename a group', params: groupParams, body: z.strictObject({ name }), response: { 200: groupView, ...errorResponses } },
  }, async (request) =>
    toGroupView(await accounts.renameGroup(callContext(request), userOf(request).orgId, request.params.groupId, request.body.name)),
  );
};
