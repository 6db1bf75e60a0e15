import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { toWebhookView, webhookDescription, webhookEvents, webhookParams, webhookUrl, webhookView } from './view.ts';

/** URL, events, description, enabled. The secret changes only through rotate-secret. */
export const patchWebhook: Route = (app, { webhooks }) => {
  app.patch('/api/v1/webhooks/:webhookId', {
    config: { access: 'admin' },
    schema: {
      tags: ['webhooks'],
      summary: 'Change a webhook',
      params: webhookParams,
      body: z
        .strictObject({ url: webhookUrl.optional(), events: webhookEvents.optional(), description: webhookDescription.optional(), enabled: z.boolean().optional() })
        .refine((b) => Object.keys(b).length > 0, 'at least one field to change'),
      response: { 200: webhookView, ...errorResponses },
    },
  }, async (request) => toWebhookView(await webhooks.update(callContext(request), userOf(request).orgId, request.params.webhookId, request.body)));
};
