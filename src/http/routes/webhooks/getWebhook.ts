import { errorResponses } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { toWebhookView, webhookParams, webhookView } from './view.ts';

export const getWebhook: Route = (app, { webhooks }) => {
  app.get('/api/v1/webhooks/:webhookId', {
    config: { access: 'admin' },
    schema: { tags: ['webhooks'], summary: 'Get a webhook', params: webhookParams, response: { 200: webhookView, ...errorResponses } },
  }, async (request) => toWebhookView(await webhooks.get(userOf(request).orgId, request.params.webhookId)));
};
