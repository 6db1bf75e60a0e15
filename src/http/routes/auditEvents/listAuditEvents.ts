import { z } from 'zod';
import { auditRepository } from '../../../repositories/audit.ts';
import { auditEventView, decodeCursor, paged, toPage, errorResponses, INTEGER_PATTERN, toAuditEventView } from '../../schemas.ts';
import { userOf, type Route } from '../../types.ts';

/** Newest first, with an opaque cursor to the next (older) page. */
export const listAuditEvents: Route = (app, { db }) => {
  app.get('/api/v1/audit-events', {
    config: { access: 'admin' },
    schema: {
      tags: ['audit'],
      summary: "List the org's audit events",
      querystring: z.strictObject({
        cursor: z.string().max(200).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        action: z.string().regex(/^[a-z_.]{1,64}$/).optional(),
      }),
      response: { 200: paged(auditEventView), ...errorResponses },
    },
  }, async (request) => {
    const { cursor, limit, action } = request.query;
    const before = decodeCursor(cursor, INTEGER_PATTERN);
    const events = await auditRepository.list(db, userOf(request).orgId, { limit: limit + 1, ...(before && { before }), ...(action && { action }) });
    return toPage(events, limit, (e) => e.id, toAuditEventView);
  });
};
