import { z } from 'zod';
import type { WebhookDelivery, WebhookSubscription } from '../../../db/schema.ts';
import { webhookEventTypes } from '../../../services/webhooks.ts';

export const webhookParams = z.strictObject({ webhookId: z.uuid({ version: 'v4', error: 'must be a UUID' }) });
export const webhookEventType = z.enum(webhookEventTypes);
export const webhookUrl = z.string().min(1).max(2048).describe('https URL of the host app endpoint (see the README for which targets are allowed).');
export const webhookEvents = z.array(webhookEventType).min(1).max(webhookEventTypes.length * 2);
export const webhookDescription = z.string().trim().max(500);

export const webhookView = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    hasSigningSecret: z.literal(true).describe('The signing secret is shown only when it is made (create, rotate-secret).'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });

export function toWebhookView(w: WebhookSubscription): z.infer<typeof webhookView> {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    events: w.events,
    enabled: w.enabled,
    hasSigningSecret: true,
    createdAt: w.created_at.toISOString(),
    updatedAt: w.updated_at.toISOString(),
  };
}

export const webhookWithSecret = z
  .object({
    webhook: webhookView,
    signingSecret: z.string().describe('The HMAC-SHA256 signing secret. Shown only in this response: store it now.'),
  })
  .meta({ id: 'WebhookWithSecret' });

export const webhookDeliveryView = z
  .object({
    id: z.string(),
    eventId: z.string().describe('The event id: the same on every attempt (Tether-Webhook-Id); dedupe on it.'),
    eventType: z.string(),
    data: z.record(z.string(), z.unknown()),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: z.iso.datetime().nullable(),
    lastAttemptAt: z.iso.datetime().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastResponseExcerpt: z.string().nullable().describe('The first 256 characters of the last answer; the rest is never stored.'),
    deliveredAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'WebhookDelivery' });

export function toWebhookDeliveryView(d: WebhookDelivery): z.infer<typeof webhookDeliveryView> {
  return {
    id: d.id,
    eventId: d.event_id,
    eventType: d.event_type,
    data: d.data,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.next_attempt_at?.toISOString() ?? null,
    lastAttemptAt: d.last_attempt_at?.toISOString() ?? null,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    lastResponseExcerpt: d.last_response_excerpt,
    deliveredAt: d.delivered_at?.toISOString() ?? null,
    createdAt: d.created_at.toISOString(),
  };
}
