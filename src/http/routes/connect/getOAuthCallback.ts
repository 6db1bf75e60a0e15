import { sendPage } from '../../pages.ts';
import { callContext, type Route } from '../../types.ts';

/**
 * The OAuth redirect URI: `$publicUrl/oauth/callback`, or `$publicUrl/oauth/callback/<providerAppId>`
 * with `connect.redirectUris: per-app`. The raw query string goes to the service as received
 * (duplicate parameters must stay visible). Answers 303 to the session's stored returnTo, or an error
 * page when no session claims the response. No HEAD route: a HEAD must not spend the state.
 */
export const getOAuthCallback: Route = (app, { connect }) => {
  for (const path of ['/oauth/callback', '/oauth/callback/:appId'] as const) {
    app.get(path, {
      config: { access: 'public' },
      exposeHeadRoute: false,
      schema: { hide: true },
    }, async (request, reply) => {
      const query = request.raw.url?.split('?').slice(1).join('?') ?? '';
      const { appId } = request.params as { appId?: string };
      const outcome = await connect.complete(callContext(request), query, (name) => request.cookies[name], appId);
      if (outcome.kind === 'page') return sendPage(reply, outcome.status, outcome.title, outcome.message);
      void reply.clearCookie(outcome.clearCookie, { path: '/oauth/callback' });
      return reply.status(303).header('location', outcome.location).send();
    });
  }
};
