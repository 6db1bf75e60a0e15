import { z } from 'zod';
import type { Route } from '../../types.ts';

/** Liveness: the process is up and serving. Touches nothing else. */
export const getHealthz: Route = (app) => {
  app.get('/healthz', {
    config: { access: 'public' },
    schema: { tags: ['operations'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));
};
