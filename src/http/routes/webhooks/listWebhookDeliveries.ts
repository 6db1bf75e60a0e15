import { decodeCursor, errorResponses, INTEGER_PATTERN, paged, pageQuery, toPage } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { toWebhookDeliveryView, webhookDeliveryView, webhookParams } from './view.ts';

/** The delivery log, newest first. */
export const listWebhookDeliveries: Route = (app, { webhooks }) => {
  app.get('/api/v1/webhooks/:webhookId/deliveries', {
    config: { access: 'admin' },
    schema: {
      tags: ['webhooks'],
      summary: "A webhook's delivery log",
      params: webhookParams,
      querystring: pageQuery,
      response: { 200: paged(webhookDeliveryView), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const before = decodeCursor(cursor, INTEGER_PATTERN);
    const rows = await webhooks.deliveries(userOf(request).orgId, request.params.webhookId, { limit: limit + 1, ...(before && { before }) });
    return toPage(rows, limit, (d) => d.seq, toWebhookDeliveryView);
  });
};
