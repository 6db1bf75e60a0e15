import { z } from 'zod';
import { ConnectLinkInvalid } from '../../../services/connect.ts';
import { sendPage } from '../../pages.ts';
import type { Route } from '../../types.ts';

/**
 * The connect URL a browser opens: public (the token in the path is the capability), single use.
 * Binds the session to this browser with a cookie only sent back to the callback, then 303 to the
 * provider. No HEAD route: a HEAD must not spend the link.
 */
export const getConnect: Route = (app, { connect, config }) => {
  const secure = new URL(config.publicUrl).protocol === 'https:';
  app.get('/connect/:token', {
    config: { access: 'public' },
    exposeHeadRoute: false,
    schema: { hide: true, params: z.strictObject({ token: z.string().max(100) }) },
  }, async (request, reply) => {
    let opened;
    try {
      opened = await connect.open(request.params.token);
    } catch (err) {
      if (!(err instanceof ConnectLinkInvalid)) throw err;
      return sendPage(reply, 404, 'This connect link cannot be used', 'The link is unknown, was already used, or has expired. Start connecting again from the application.');
    }
    void reply.setCookie(opened.cookie.name, opened.cookie.value, {
      path: '/oauth/callback',
      httpOnly: true,
      // Lax: the provider's redirect back is a top-level GET navigation, which carries Lax cookies.
      sameSite: 'lax',
      secure,
      maxAge: opened.cookie.maxAgeSeconds,
    });
    return reply.status(303).header('location', opened.location).send();
  });
};
