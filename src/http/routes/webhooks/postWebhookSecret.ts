import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { toWebhookView, webhookParams, webhookWithSecret } from './view.ts';

/** A new signing secret, shown once; the old one stops being used at once. */
export const postWebhookSecret: Route = (app, { webhooks }) => {
  app.post('/api/v1/webhooks/:webhookId/rotate-secret', {
    config: { access: 'admin' },
    schema: { tags: ['webhooks'], summary: "Rotate a webhook's signing secret", params: webhookParams, response: { 200: webhookWithSecret, ...errorResponses } },
  }, async (request) => {
    const { webhook, signingSecret } = await webhooks.rotateSecret(callContext(request), userOf(request).orgId, request.params.webhookId);
    return { webhook: toWebhookView(webhook), signingSecret };
  });
};
