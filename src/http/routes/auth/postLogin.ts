import { z } from 'zod';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../access.ts';
import { email, errorResponses, slug, toUserView, userView } from '../../schemas.ts';
import { callContext, type Route } from '../../types.ts';
import { errors } from '../../../errors.ts';

/**
 * Password sign-in for browser users. Sets the session cookie (httpOnly, SameSite=Lax, Secure on
 * https) and returns the CSRF token that state-changing requests must echo in `X-CSRF-Token`.
 */
export const postLogin: Route = (app, { auth, config }) => {
  const secure = config.publicUrl.startsWith('https:');
  const publicOrigin = new URL(config.publicUrl).origin;
  app.post('/api/v1/auth/login', {
    config: { access: 'public' },
    schema: {
      tags: ['auth'],
      summary: 'Sign in with a password',
      body: z.strictObject({ org: slug, email, password: z.string().min(1).max(256) }),
      response: {
        200: z.object({ user: userView, csrfToken: z.string(), expiresAt: z.iso.datetime() }),
        ...errorResponses,
      },
    },
  }, async (request, reply) => {
    // Login CSRF: a browser posting from another origin is refused.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) throw errors.csrf();
    const session = await auth.login(callContext(request), request.body);
    const cookie = { path: '/', httpOnly: true, sameSite: 'lax', secure, expires: session.expiresAt } as const;
    void reply.setCookie(SESSION_COOKIE, session.sessionId, cookie);
    void reply.setCookie(CSRF_COOKIE, session.csrfToken, { ...cookie, httpOnly: false });
    return { user: toUserView(session.user), csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
  });
};
