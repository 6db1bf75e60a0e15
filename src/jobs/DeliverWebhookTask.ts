import type { Task } from 'graphile-worker';
import { sql } from 'kysely';
import type { Queryable } from '../db/database.ts';
import type { WebhookDeliverer } from '../services/webhookDelivery.ts';

export const DELIVER_WEBHOOK = 'deliver_webhook';

/**
 * Queues one attempt of a webhook delivery, in the caller's transaction: the job commits with the
 * delivery row (and with the change that emitted the event), or neither does. The job key keeps at
 * most one waiting job per delivery. Attempts and backoff are Tether's (explicit `run_at`); the job's
 * own `max_attempts` only covers failures of Tether itself (database errors) while attempting.
 */
export async function queueWebhookDelivery(db: Queryable, deliveryId: string, runAt?: Date): Promise<void> {
  await sql`select graphile_worker.add_job(
    ${DELIVER_WEBHOOK},
    json_build_object('deliveryId', ${deliveryId}::text),
    run_at := ${runAt ?? null}::timestamptz,
    max_attempts := 5,
    job_key := ${`${DELIVER_WEBHOOK}:${deliveryId}`}
  )`.execute(db);
}

/** One attempt of one delivery; the deliverer records it and queues the next when one is due. */
export function deliverWebhookTask(deliverer: WebhookDeliverer): Task {
  return async (payload) => {
    const deliveryId = (payload as { deliveryId?: unknown } | null)?.deliveryId;
    if (typeof deliveryId !== 'string') throw new Error('deliver_webhook: payload has no deliveryId');
    await deliverer.attempt(deliveryId);
  };
}
