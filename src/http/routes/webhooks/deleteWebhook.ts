import { z } from 'zod';
import { errorResponses } from '../../schemas.ts';
import { callContext, userOf, type Route } from '../../types.ts';
import { webhookParams } from './view.ts';

export const deleteWebhook: Route = (app, { webhooks }) => {
  app.delete('/api/v1/webhooks/:webhookId', {
    config: { access: 'admin' },
    schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery log', params: webhookParams, response: { 204: z.null(), ...errorResponses } },
  }, async (request, reply) => {
    await webhooks.delete(callContext(request), userOf(request).orgId, request.params.webhookId);
    return reply.status(204).send(null);
  });
};
