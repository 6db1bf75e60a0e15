import type { Queryable } from '../db/database.ts';
import type { AuditOutcome } from '../db/schema.ts';
import { auditRepository } from '../repositories/audit.ts';
import { auditActor, auditVia, type CallContext } from './context.ts';

/**
 * Records one audit event. Called inside the transaction of the change it describes, so an action
 * and its audit record commit together or not at all.
 */
export function audit(
  db: Queryable,
  ctx: CallContext,
  event: {
    orgId: string | null;
    action: string;
    target?: { type: string; id: string | null };
    outcome?: AuditOutcome;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  return auditRepository.record(db, {
    org_id: event.orgId,
    ...auditActor(ctx),
    action: event.action,
    target_type: event.target?.type ?? null,
    target_id: event.target?.id ?? null,
    outcome: event.outcome ?? 'success',
    details: { ...auditVia(ctx), ...event.details },
  });
}
