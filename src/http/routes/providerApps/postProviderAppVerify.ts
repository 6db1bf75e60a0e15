import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { providerAppParams, providerAppView, toProviderAppView, verificationView } from './view.ts';

const checked = z
  .object({ status: z.enum(['passed', 'failed']), verification: verificationView, providerApp: providerAppView })
  .meta({ id: 'ProviderAppVerifyResult' });
const authorizationRequired = z
  .object({
    status: z.literal('authorization_required'),
    url: z.string().describe('Open this URL in the admin’s browser (single use) and sign in as the service account.'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ProviderAppAuthorizationRequired' });

/**
 * Seed 001: authorize once as the app's service account, then make real API calls with the result.
 * With a working service account the checks run now (200); otherwise the admin authorizes first (202).
 */
export const postProviderAppVerify: Route = (app, { providerApps, providerAppSetup }) => {
  app.post('/api/v1/provider-apps/:appId/verify', {
    config: { access: 'admin' },
    schema: {
      tags: ['provider-apps'],
      summary: 'Verify a provider app with its service account',
      description:
        'With a working service account, runs the checks now and answers 200 with each step (token, granted scopes, an identity call, a capability call). Otherwise — or with `reauthorize` — answers 202 with a single-use `url` (10 minutes): the admin opens it, signs in as the service account (Webex compliance: a Compliance Officer), and the browser comes back (303) to `returnTo` with `providerAppId` and `verification=passed|failed`. The result is stored and shown by `GET /api/v1/provider-apps/{id}`.',
      params: providerAppParams,
      body: z.strictObject({
        returnTo: z.string().min(1).max(4096).optional().describe('Where the browser goes after authorizing; needed when authorization is.'),
        reauthorize: z.boolean().optional().describe('Authorize the service account again even if it works (e.g. another account).'),
      }),
      response: { 200: checked, 202: authorizationRequired, ...errorResponses },
    },
  }, async (request, reply) => {
    const outcome = await providerAppSetup.verify(callContext(request), userOf(request), request.params.appId, request.body);
    if (outcome.kind === 'authorization_required') {
      return reply.status(202).send({ status: 'authorization_required', url: outcome.url, expiresAt: outcome.expiresAt.toISOString() });
    }
    return reply.status(200).send({ status: outcome.result.status, verification: outcome.result, providerApp: toProviderAppView(outcome.app, providerApps) });
  });
};
