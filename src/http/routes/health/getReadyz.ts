import { z } from 'zod';
import type { Route } from '../../types.ts';

/** Readiness: the database answers and its migrations are current. 503 with the problems otherwise. */
export const getReadyz: Route = (app, services) => {
  const body = z.object({ status: z.enum(['ready', 'not_ready']), problems: z.array(z.string()) });
  app.get('/readyz', {
    config: { access: 'public' },
    schema: { tags: ['operations'], summary: 'Readiness', response: { 200: body, 503: body } },
  }, async (_request, reply) => {
    const problems = await services.readiness();
    return reply.status(problems.length === 0 ? 200 : 503).send({ status: problems.length === 0 ? 'ready' : 'not_ready', problems });
  });
};
