import { z } from 'zod';
import { errorResponses, name, uuid } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';

const connectSessionView = z
  .object({
    url: z.string().describe('Open this URL in the user’s browser (single use). It leads to the provider’s sign-in.'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ConnectSession' });

export const postConnectSession: Route = (app, { connect }) => {
  app.post('/api/v1/connect-sessions', {
    config: { access: 'member' },
    schema: {
      tags: ['connections'],
      summary: 'Start connecting a provider account',
      description:
        'Creates a single-use connect session (10 minutes) for the authenticated user. After the provider sign-in, the browser is sent (303) to `returnTo` with `connectionId` and `status` (`created`, `updated`, or `error` with `error`). `returnTo` must be on Tether’s origin or one of `connect.allowedReturnOrigins`. Shared connections (visible to groups) can be created by org admins only.',
      body: z.strictObject({
        providerAppId: uuid,
        returnTo: z.string().min(1).max(4096),
        name: name.optional(),
        shared: z.strictObject({ groupIds: z.array(uuid).max(100) }).optional(),
      }),
      response: { 201: connectSessionView, ...errorResponses },
    },
  }, async (request, reply) => {
    const session = await connect.createSession(callContext(request), userOf(request), request.body);
    return reply.status(201).send({ url: session.url, expiresAt: session.expiresAt.toISOString() });
  });
};
