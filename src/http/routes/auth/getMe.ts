import { z } from 'zod';
import { errorResponses, orgView, toOrgView, toUserView, userView } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

/** Who the caller is: the signed-in user, or the user an API key acts for. */
export const getMe: Route = (app, { accounts }) => {
  app.get('/api/v1/me', {
    config: { access: 'member' },
    schema: {
      tags: ['auth'],
      summary: 'The calling user',
      response: { 200: z.object({ user: userView, org: orgView, via: z.enum(['session', 'api_key']) }), ...errorResponses },
    },
  }, async (request) => {
    const principal = userOf(request);
    const { org, groupIds } = await accounts.orgAndGroupsOf(principal.orgId, principal.user.id);
    return { user: toUserView({ ...principal.user, groupIds }), org: toOrgView(org), via: principal.via };
  });
};
