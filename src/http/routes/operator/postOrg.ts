import { z } from 'zod';
import { errorResponses, name, orgView, slug, toOrgView } from '../../schemas.ts';
import { callContext, type Route } from '../../types.ts';

export const postOrg: Route = (app, { accounts }) => {
  app.post('/api/v1/operator/orgs', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: 'Create an org',
      security: [{ operatorToken: [] }],
      body: z.strictObject({ slug, name }),
      response: { 201: orgView, ...errorResponses },
    },
  }, async (request, reply) => {
    const org = await accounts.createOrg(callContext(request), request.body);
    return reply.status(201).send(toOrgView(org));
  });
};
