import { z } from 'zod';
import { errorResponses, orgView, toOrgView } from '../../schemas.ts';
import type { Route } from '../../types.ts';

export const listOrgs: Route = (app, { accounts }) => {
  app.get('/api/v1/operator/orgs', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: 'List orgs',
      security: [{ operatorToken: [] }],
      response: { 200: z.object({ items: z.array(orgView) }), ...errorResponses },
    },
  }, async () => ({ items: (await accounts.listOrgs()).map(toOrgView) }));
};
