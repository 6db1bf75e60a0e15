import { z } from 'zod';
import { errorResponses, toUserView, userView } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { orgParams } from './getOrg.ts';

export const listOrgAdmins: Route = (app, { accounts }) => {
  app.get('/api/v1/operator/orgs/:orgId/admins', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: "List an org's admins",
      security: [{ operatorToken: [] }],
      params: orgParams,
      response: { 200: z.object({ items: z.array(userView) }), ...errorResponses },
    },
  }, async (request) => {
    const { orgId } = request.params;
    await accounts.getOrg(orgId);
    const users = await accounts.listUsers(orgId, { limit: 1000 });
    return { items: users.filter((u) => u.role === 'admin').map(toUserView) };
  });
};
