import { z } from 'zod';
import { errorResponses, orgView, toOrgView, uuid } from '../../schemas.ts';
import type { Route } from '../../types.ts';

export const orgParams = z.strictObject({ orgId: uuid });

export const getOrg: Route = (app, { accounts }) => {
  app.get('/api/v1/operator/orgs/:orgId', {
    config: { access: 'operator' },
    schema: { tags: ['operator'], summary: 'Get an org', security: [{ operatorToken: [] }], params: orgParams, response: { 200: orgView, ...errorResponses } },
  }, async (request) => toOrgView(await accounts.getOrg(request.params.orgId)));
};
