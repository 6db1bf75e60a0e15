import { z } from 'zod';
import { documentItem } from '../../../documents/model.ts';
import { MAX_SHARED_URL_LENGTH, parseSharedLink } from '../../../documents/sharedLinks.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionParams, connectionRoute, open } from './common.ts';

/** The item behind a pasted sharing URL, looked up with this connection's credentials; the URL is parsed, never fetched. */
export const postResolveSharedLink: Route = (app, services) => {
  app.post('/api/v1/connections/:connectionId/shared-links/resolve', {
    config: connectionRoute,
    schema: {
      tags: ['documents'],
      summary: 'Resolve a pasted sharing URL to its item',
      params: connectionParams,
      // Long or odd URLs are refused by the parser with 422 unsupported_url (the body limit still applies).
      body: z.strictObject({ url: z.string().max(MAX_SHARED_URL_LENGTH * 64) }),
      response: { 200: documentItem, ...errorResponses },
    },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return c.read.resolveSharedLink(c.ctx, parseSharedLink(c.provider, request.body.url));
  });
};
