import { z } from 'zod';
import { randomToken } from '../../../security/tokens.ts';
import { email, errorResponses, externalId, name, password, toUserView, userView } from '../../schemas.ts';
import { callContext, type Route } from '../../types.ts';
import { orgParams } from './getOrg.ts';

/** Creates an org admin. Without a password, one is generated and returned in this response only. */
export const postOrgAdmin: Route = (app, { accounts }) => {
  app.post('/api/v1/operator/orgs/:orgId/admins', {
    config: { access: 'operator' },
    schema: {
      tags: ['operator'],
      summary: 'Create an org admin',
      security: [{ operatorToken: [] }],
      params: orgParams,
      body: z.strictObject({ email, displayName: name, externalId: externalId.optional(), password: password.optional() }),
      response: {
        201: z.object({ user: userView, initialPassword: z.string().optional().describe('Only when no password was given; shown once.') }),
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    const { orgId } = request.params;
    await accounts.getOrg(orgId);
    const initialPassword = request.body.password === undefined ? randomToken(18) : undefined;
    const user = await accounts.createUser(callContext(request), orgId, {
      ...request.body,
      role: 'admin',
      password: request.body.password ?? initialPassword,
    });
    return reply.status(201).send({ user: toUserView(user), ...(initialPassword && { initialPassword }) });
  });
};
