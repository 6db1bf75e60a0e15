import type { Queryable } from '../db/database.ts';
import type { NewWebhookDelivery, NewWebhookSubscription, WebhookDelivery, WebhookSubscription, WebhookSubscriptionUpdate } from '../db/schema.ts';

export const webhookSubscriptionsRepository = {
  create(db: Queryable, row: NewWebhookSubscription): Promise<WebhookSubscription> {
    return db.insertInto('webhook_subscriptions').values(row).returningAll().executeTakeFirstOrThrow();
  },
  findById(db: Queryable, orgId: string, id: string): Promise<WebhookSubscription | undefined> {
    return db.selectFrom('webhook_subscriptions').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  },
  list(db: Queryable, orgId: string, page: { after?: string; limit: number }): Promise<WebhookSubscription[]> {
    let query = db.selectFrom('webhook_subscriptions').selectAll().where('org_id', '=', orgId);
    if (page.after) query = query.where('id', '>', page.after);
    return query.orderBy('id').limit(page.limit).execute();
  },
  async count(db: Queryable, orgId: string): Promise<number> {
    const row = await db.selectFrom('webhook_subscriptions').select((eb) => eb.fn.countAll<string>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
    return Number(row.n);
  },
  /** The org's enabled subscriptions to an event type. */
  subscribedTo(db: Queryable, orgId: string, type: string): Promise<Array<Pick<WebhookSubscription, 'id'>>> {
    return db
      .selectFrom('webhook_subscriptions')
      .select('id')
      .where('org_id', '=', orgId)
      .where('enabled', '=', true)
      .where((eb) => eb(eb.val(type), '=', eb.fn.any('events')))
      .orderBy('id')
      .execute();
  },
  update(db: Queryable, orgId: string, id: string, changes: WebhookSubscriptionUpdate): Promise<WebhookSubscription | undefined> {
    return db
      .updateTable('webhook_subscriptions')
      .set({ ...changes, updated_at: new Date() })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },
  async delete(db: Queryable, orgId: string, id: string): Promise<boolean> {
    const result = await db.deleteFrom('webhook_subscriptions').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },
};

export interface AttemptOutcome {
  status: 'pending' | 'delivered' | 'failed';
  statusCode: number | null;
  error: string | null;
  responseExcerpt: string | null;
  nextAttemptAt: Date | null;
}

export const webhookDeliveriesRepository = {
  create(db: Queryable, row: NewWebhookDelivery): Promise<WebhookDelivery> {
    return db.insertInto('webhook_deliveries').values(row).returningAll().executeTakeFirstOrThrow();
  },
  findById(db: Queryable, id: string): Promise<WebhookDelivery | undefined> {
    return db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
  },
  /** The delivery log of one subscription, newest first. */
  list(db: Queryable, orgId: string, subscriptionId: string, page: { before?: string; limit: number }): Promise<WebhookDelivery[]> {
    let query = db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', orgId).where('subscription_id', '=', subscriptionId);
    if (page.before) query = query.where('seq', '<', page.before);
    return query.orderBy('seq', 'desc').limit(page.limit).execute();
  },
  /**
   * Claims the next attempt of a pending delivery: counts it before the request is made, so an
   * attempt cut short by a crash is still counted (deliveries are at least once, never silently more).
   */
  claimAttempt(db: Queryable, id: string): Promise<WebhookDelivery | undefined> {
    return db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_attempt_at: new Date(), next_attempt_at: null }))
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
  },
  async recordAttempt(db: Queryable, id: string, outcome: AttemptOutcome): Promise<void> {
    await db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        last_response_excerpt: outcome.responseExcerpt,
        next_attempt_at: outcome.nextAttemptAt,
        ...(outcome.status === 'delivered' && { delivered_at: new Date() }),
      })
      .where('id', '=', id)
      .execute();
  },
};
