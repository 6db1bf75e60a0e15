import { CSRF_COOKIE, SESSION_COOKIE } from '../../access.ts';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { z } from 'zod';

export const postLogout: Route = (app, { auth }) => {
  app.post('/api/v1/auth/logout', {
    config: { access: 'member' },
    schema: { tags: ['auth'], summary: 'End the browser session', response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await auth.logout(callContext(request), userOf(request));
    void reply.clearCookie(SESSION_COOKIE, { path: '/' }).clearCookie(CSRF_COOKIE, { path: '/' });
    return reply.status(204).send(null);
  });
};
