import { z } from 'zod';
import { drive } from '../../../documents/model.ts';
import { errorResponses } from '../../schemas.ts';
import type { Route } from '../../types.ts';
import { connectionParams, connectionRoute, open } from './common.ts';

export const listDrives: Route = (app, services) => {
  app.get('/api/v1/connections/:connectionId/drives', {
    config: connectionRoute,
    schema: { tags: ['documents'], summary: 'List drives (OneDrive, SharePoint libraries, My Drive, shared drives)', params: connectionParams, response: { 200: z.object({ items: z.array(drive) }), ...errorResponses } },
  }, async (request, reply) => {
    const c = await open(services, request, reply);
    return { items: await c.read.listDrives(c.ctx) };
  });
};
