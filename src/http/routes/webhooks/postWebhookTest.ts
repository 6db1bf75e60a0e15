import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { toWebhookDeliveryView, webhookDeliveryView, webhookParams } from './view.ts';

/** Queues a `webhook.test` event to this webhook; follow it in the delivery log. */
export const postWebhookTest: Route = (app, { webhooks }) => {
  app.post('/api/v1/webhooks/:webhookId/test', {
    config: { access: 'admin' },
    schema: { tags: ['webhooks'], summary: 'Send a test event', params: webhookParams, response: { 202: webhookDeliveryView, ...errorResponses } },
  }, async (request, reply) => {
    const delivery = await webhooks.sendTest(callContext(request), userOf(request).orgId, request.params.webhookId);
    return reply.status(202).send(toWebhookDeliveryView(delivery));
  });
};
