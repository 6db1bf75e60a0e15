import { decodeCursor, errorResponses, paged, pageQuery, toPage, UUID_PATTERN } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';
import { toWebhookView, webhookView } from './view.ts';

/** Admins only: a webhook URL may carry a host app's own routing secrets. */
export const listWebhooks: Route = (app, { webhooks }) => {
  app.get('/api/v1/webhooks', {
    config: { access: 'admin' },
    schema: { tags: ['webhooks'], summary: "List the org's webhooks", querystring: pageQuery, response: { 200: paged(webhookView), ...errorResponses } },
  }, async (request) => {
    const { cursor, limit } = request.query;
    const after = decodeCursor(cursor, UUID_PATTERN);
    const rows = await webhooks.list(userOf(request).orgId, { limit: limit + 1, ...(after && { after }) });
    return toPage(rows, limit, (w) => w.id, toWebhookView);
  });
};
