import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db, Queryable } from '../db/database.ts';
import type { WebhookDelivery, WebhookSubscription } from '../db/schema.ts';
import { errors, TetherError } from '../errors.ts';
import { queueWebhookDelivery } from '../jobs/DeliverWebhookTask.ts';
import type { Vault } from '../keys/index.ts';
import { checkWebhookUrl, type WebhookTargetPolicy } from '../outbound/webhookTargets.ts';
import { webhookDeliveriesRepository, webhookSubscriptionsRepository } from '../repositories/webhooks.ts';
import { audit } from './audit.ts';
import type { CallContext } from './context.ts';

/** Events an org admin can subscribe to. Emitted by the features that own them. */
export const webhookEventTypes = [
  'connection.created',
  'connection.needs_reauth',
  'connection.deleted',
  'space.message.created',
  'message.delivered',
  'message.failed',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];
/** Sent only by `POST /api/v1/webhooks/{id}/test`, to that webhook, whatever it subscribes to. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** Subscriptions per org: enough for any host app, few enough that one event stays cheap to fan out. */
export const MAX_WEBHOOKS_PER_ORG = 25;
/** Largest `data` an event may carry, as JSON; events carry ids and states, not documents. */
export const MAX_EVENT_DATA_BYTES = 16 * 1024;

export interface NewWebhookInput {
  url: string;
  events: WebhookEventType[];
  description?: string | undefined;
  enabled?: boolean | undefined;
}
export interface WebhookChanges {
  url?: string | undefined;
  events?: WebhookEventType[] | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
}

export function signingSecretContext(orgId: string, webhookId: string) {
  return { orgId, table: 'webhook_subscriptions', rowId: webhookId, field: 'signing_secret', purpose: 'client_secrets' } as const;
}

/** `whsec_` + 256 random bits: recognisable by secret scanners, like API keys. */
function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Webhooks to host apps: org admins' subscriptions, their signing secrets (shown once, stored only
 * encrypted), the delivery log, and `emit` — the one way features raise an event.
 */
export class WebhooksService {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly policy: WebhookTargetPolicy;

  constructor(db: Db, vault: Vault, policy: WebhookTargetPolicy) {
    this.db = db;
    this.vault = vault;
    this.policy = policy;
  }

  /**
   * Raises an event for an org, inside the caller's transaction: one delivery row per enabled
   * subscription to `type`, each with its delivery job. Nothing is sent for a change that rolls back,
   * and nothing is lost for one that commits. Call it after the change is written, with `tx`:
   *
   *   await db.transaction().execute(async (tx) => {
   *     const connection = await connectionsRepository.create(tx, …);
   *     await webhooks.emit(tx, { orgId, type: 'connection.created', data: { connectionId: connection.id } });
   *   });
   *
   * `data` is the event's public payload: ids and states, never tokens or document contents.
   */
  async emit(tx: Queryable, event: { orgId: string; type: WebhookEventType; data: Record<string, unknown> }): Promise<{ eventId: string; deliveryIds: string[] }> {
    if (!(webhookEventTypes as readonly string[]).includes(event.type)) throw new Error(`webhooks.emit: unknown event type ${event.type}`);
    if (Buffer.byteLength(JSON.stringify(event.data)) > MAX_EVENT_DATA_BYTES) throw new Error(`webhooks.emit: ${event.type} data exceeds ${MAX_EVENT_DATA_BYTES} bytes`);
    const eventId = randomUUID();
    const subscriptions = await webhookSubscriptionsRepository.subscribedTo(tx, event.orgId, event.type);
    const deliveryIds: string[] = [];
    const createdAt = new Date();
    for (const subscription of subscriptions) {
      deliveryIds.push(await this.enqueue(tx, { orgId: event.orgId, subscriptionId: subscription.id, eventId, type: event.type, data: event.data, createdAt }));
    }
    return { eventId, deliveryIds };
  }

  async create(ctx: CallContext, orgId: string, input: NewWebhookInput): Promise<{ webhook: WebhookSubscription; signingSecret: string }> {
    const url = checkWebhookUrl(input.url, this.policy).href;
    const id = randomUUID();
    const signingSecret = newSigningSecret();
    const encrypted = await this.vault.encryptField(signingSecretContext(orgId, id), signingSecret);
    const webhook = await this.db.transaction().execute(async (tx) => {
      // Serialise creation per org, so concurrent requests cannot pass the limit together.
      await sql`select 1 from orgs where id = ${orgId} for update`.execute(tx);
      if ((await webhookSubscriptionsRepository.count(tx, orgId)) >= MAX_WEBHOOKS_PER_ORG) {
        throw new TetherError(409, 'webhook_limit_reached', `An org can have at most ${MAX_WEBHOOKS_PER_ORG} webhooks.`);
      }
      const row = await webhookSubscriptionsRepository.create(tx, {
        id,
        org_id: orgId,
        url,
        description: input.description ?? '',
        events: [...new Set(input.events)],
        signing_secret: encrypted,
        enabled: input.enabled ?? true,
      });
      await audit(tx, ctx, { orgId, action: 'webhook.create', target: { type: 'webhook', id }, details: { host: new URL(url).host, events: row.events } });
      return row;
    });
    return { webhook, signingSecret };
  }

  async get(orgId: string, id: string): Promise<WebhookSubscription> {
    const webhook = await webhookSubscriptionsRepository.findById(this.db, orgId, id);
    if (!webhook) throw errors.notFound('The webhook');
    return webhook;
  }

  list(orgId: string, page: { after?: string; limit: number }): Promise<WebhookSubscription[]> {
    return webhookSubscriptionsRepository.list(this.db, orgId, page);
  }

  async update(ctx: CallContext, orgId: string, id: string, changes: WebhookChanges): Promise<WebhookSubscription> {
    const url = changes.url === undefined ? undefined : checkWebhookUrl(changes.url, this.policy).href;
    return this.db.transaction().execute(async (tx) => {
      const webhook = await webhookSubscriptionsRepository.update(tx, orgId, id, {
        ...(url !== undefined && { url }),
        ...(changes.events !== undefined && { events: [...new Set(changes.events)] }),
        ...(changes.description !== undefined && { description: changes.description }),
        ...(changes.enabled !== undefined && { enabled: changes.enabled }),
      });
      if (!webhook) throw errors.notFound('The webhook');
      await audit(tx, ctx, { orgId, action: 'webhook.update', target: { type: 'webhook', id }, details: { fields: Object.keys(changes) } });
      return webhook;
    });
  }

  /** Deletes the webhook and its delivery log; waiting attempts find nothing and stop. */
  async delete(ctx: CallContext, orgId: string, id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (!(await webhookSubscriptionsRepository.delete(tx, orgId, id))) throw errors.notFound('The webhook');
      await audit(tx, ctx, { orgId, action: 'webhook.delete', target: { type: 'webhook', id } });
    });
  }

  /**
   * A new signing secret, shown once. It replaces the old one at once: attempts from now on (retries
   * of earlier events too) are signed with the new secret.
   */
  async rotateSecret(ctx: CallContext, orgId: string, id: string): Promise<{ webhook: WebhookSubscription; signingSecret: string }> {
    await this.get(orgId, id);
    const signingSecret = newSigningSecret();
    const encrypted = await this.vault.encryptField(signingSecretContext(orgId, id), signingSecret);
    const webhook = await this.db.transaction().execute(async (tx) => {
      const row = await webhookSubscriptionsRepository.update(tx, orgId, id, { signing_secret: encrypted });
      if (!row) throw errors.notFound('The webhook');
      await audit(tx, ctx, { orgId, action: 'webhook.rotate_secret', target: { type: 'webhook', id } });
      return row;
    });
    return { webhook, signingSecret };
  }

  /** Queues a `webhook.test` event to this webhook only, through the same path as real events. */
  async sendTest(ctx: CallContext, orgId: string, id: string): Promise<WebhookDelivery> {
    return this.db.transaction().execute(async (tx) => {
      const webhook = await webhookSubscriptionsRepository.findById(tx, orgId, id);
      if (!webhook) throw errors.notFound('The webhook');
      if (!webhook.enabled) throw new TetherError(409, 'webhook_disabled', 'The webhook is disabled; enable it to send events to it.');
      const deliveryId = await this.enqueue(tx, {
        orgId,
        subscriptionId: id,
        eventId: randomUUID(),
        type: WEBHOOK_TEST_EVENT,
        data: { webhookId: id, message: 'A test event from Tether.' },
        createdAt: new Date(),
      });
      await audit(tx, ctx, { orgId, action: 'webhook.test', target: { type: 'webhook', id }, details: { deliveryId } });
      return (await webhookDeliveriesRepository.findById(tx, deliveryId))!;
    });
  }

  async deliveries(orgId: string, id: string, page: { before?: string; limit: number }): Promise<WebhookDelivery[]> {
    await this.get(orgId, id);
    return webhookDeliveriesRepository.list(this.db, orgId, id, page);
  }

  private async enqueue(
    tx: Queryable,
    event: { orgId: string; subscriptionId: string; eventId: string; type: string; data: Record<string, unknown>; createdAt: Date },
  ): Promise<string> {
    const id = randomUUID();
    await webhookDeliveriesRepository.create(tx, {
      id,
      org_id: event.orgId,
      subscription_id: event.subscriptionId,
      event_id: event.eventId,
      event_type: event.type,
      data: JSON.stringify(event.data),
      event_created_at: event.createdAt,
    });
    await queueWebhookDelivery(tx, id);
    return id;
  }
}
