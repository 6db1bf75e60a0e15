import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { toWebhookView, webhookDescription, webhookEvents, webhookUrl, webhookWithSecret } from './view.ts';

export const postWebhook: Route = (app, { webhooks }) => {
  app.post('/api/v1/webhooks', {
    config: { access: 'admin' },
    schema: {
      tags: ['webhooks'],
      summary: 'Subscribe a URL to events',
      description: 'Answers with the signing secret, once. Deliveries are signed with it (README, "Webhooks").',
      body: z.strictObject({ url: webhookUrl, events: webhookEvents, description: webhookDescription.optional(), enabled: z.boolean().optional() }),
      response: { 201: webhookWithSecret, ...errorResponses },
    },
  }, async (request, reply) => {
    const { webhook, signingSecret } = await webhooks.create(callContext(request), userOf(request).orgId, request.body);
    return reply.status(201).send({ webhook: toWebhookView(webhook), signingSecret });
  });
};
