import type { Queryable } from '../db/database.ts';
import type { AuditEvent, NewAuditEvent } from '../db/schema.ts';

export const auditRepository = {
  async record(db: Queryable, event: NewAuditEvent): Promise<void> {
    await db.insertInto('audit_events').values(event).execute();
  },
  /** Newest first; `before` is the id of the last event of the previous page. */
  list(db: Queryable, orgId: string, page: { before?: string; limit: number; action?: string }): Promise<AuditEvent[]> {
    let query = db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId);
    if (page.before) query = query.where('id', '<', page.before);
    if (page.action) query = query.where('action', '=', page.action);
    return query.orderBy('id', 'desc').limit(page.limit).execute();
  },
};
