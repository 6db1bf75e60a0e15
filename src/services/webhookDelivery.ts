import { createHmac } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Db } from '../db/database.ts';
import type { WebhookDelivery } from '../db/schema.ts';
import { queueWebhookDelivery } from '../jobs/DeliverWebhookTask.ts';
import { isDecryptionFailure, type Vault } from '../keys/index.ts';
import type { Logger } from '../logging.ts';
import { guardedLookup, webhookUrlProblem, type WebhookTargetPolicy } from '../outbound/webhookTargets.ts';
import { webhookDeliveriesRepository, webhookSubscriptionsRepository, type AttemptOutcome } from '../repositories/webhooks.ts';
import { signingSecretContext } from './webhooks.ts';

export interface WebhookDeliveryOptions extends WebhookTargetPolicy {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** How much of a receiver's answer is kept in the delivery log (characters). */
const EXCERPT_CHARS = 256;

/**
 * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the timestamp is signed with the body so a
 * captured delivery cannot be replayed later with a fresh timestamp (receivers reject old ones).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The JSON body of a delivery. Rebuilt identically on every attempt from the stored event. */
export function webhookBody(delivery: WebhookDelivery): string {
  return JSON.stringify({
    id: delivery.event_id,
    type: delivery.event_type,
    createdAt: delivery.event_created_at.toISOString(),
    orgId: delivery.org_id,
    data: delivery.data,
  });
}

/** Capped exponential backoff with jitter ("equal jitter": half fixed, half random). */
export function retryDelayMs(attempt: number, options: Pick<WebhookDeliveryOptions, 'retryBaseMs' | 'retryMaxMs'>, retryAfterMs?: number): number {
  const exponential = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
  // A receiver's Retry-After (429/503) is honoured, within the same cap.
  return Math.round(Math.max(jittered, Math.min(retryAfterMs ?? 0, options.retryMaxMs)));
}

interface SendResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  retryAfterMs?: number;
  /** No retry can help (a refused target, an undecryptable secret). */
  permanent?: boolean;
}

/**
 * Makes delivery attempts: one per `deliver_webhook` job. Each attempt is counted before the request
 * is sent and its outcome recorded after, with the next attempt queued (explicit `run_at`) in the
 * same transaction. Delivery is at least once: an instance that dies mid-request leaves the job
 * locked, and graphile-worker runs it again once the lock expires — receivers dedupe on the event id.
 */
export class WebhookDeliverer {
  private readonly db: Db;
  private readonly vault: Vault;
  private readonly options: WebhookDeliveryOptions;
  private readonly logger: Logger;
  private readonly agent: Agent;

  constructor(db: Db, vault: Vault, options: WebhookDeliveryOptions, logger: Logger) {
    this.db = db;
    this.vault = vault;
    this.options = options;
    this.logger = logger;
    this.agent = new Agent({
      connect: { ca: [...rootCertificates], timeout: Math.min(options.timeoutMs, 10_000), lookup: guardedLookup(options) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  async attempt(deliveryId: string): Promise<void> {
    const delivery = await webhookDeliveriesRepository.claimAttempt(this.db, deliveryId);
    if (!delivery) return; // delivered, given up, or deleted with its subscription
    const subscription = await webhookSubscriptionsRepository.findById(this.db, delivery.org_id, delivery.subscription_id);
    if (!subscription) return;
    let result: SendResult;
    if (delivery.attempts > this.options.maxAttempts) {
      // Only after a crash mid-attempt (graphile-worker ran the job again) or a lowered maxAttempts.
      result = { ok: false, statusCode: null, error: 'no attempts left', excerpt: null, permanent: true };
    } else if (!subscription.enabled) {
      result = { ok: false, statusCode: null, error: 'the webhook is disabled', excerpt: null, permanent: true };
    } else {
      result = await this.send(delivery, subscription.url, subscription.signing_secret);
    }
    const outcome: AttemptOutcome = { status: 'delivered', statusCode: result.statusCode, error: result.error, responseExcerpt: result.excerpt, nextAttemptAt: null };
    if (!result.ok) {
      const giveUp = result.permanent || delivery.attempts >= this.options.maxAttempts;
      outcome.status = giveUp ? 'failed' : 'pending';
      if (!giveUp) outcome.nextAttemptAt = new Date(Date.now() + retryDelayMs(delivery.attempts, this.options, result.retryAfterMs));
    }
    await this.db.transaction().execute(async (tx) => {
      await webhookDeliveriesRepository.recordAttempt(tx, delivery.id, outcome);
      if (outcome.nextAttemptAt) await queueWebhookDelivery(tx, delivery.id, outcome.nextAttemptAt);
    });
    // Where and how it went; never the secret, the body or the URL's path and query.
    const log = { deliveryId: delivery.id, webhookId: subscription.id, eventType: delivery.event_type, attempt: delivery.attempts, statusCode: result.statusCode, outcome: outcome.status };
    if (result.ok) this.logger.info(log, 'webhook delivered');
    else this.logger.warn({ ...log, error: result.error, nextAttemptAt: outcome.nextAttemptAt?.toISOString() }, 'webhook delivery attempt failed');
  }

  private async send(delivery: WebhookDelivery, url: string, encryptedSecret: Buffer): Promise<SendResult> {
    // The URL was checked when saved; the policy may have changed since (or the row been edited).
    const problem = webhookUrlProblem(url, this.options);
    if (problem) return { ok: false, statusCode: null, error: `target refused: ${problem}`, excerpt: null, permanent: true };
    let secret: string;
    try {
      secret = await this.vault.decryptText(signingSecretContext(delivery.org_id, delivery.subscription_id), encryptedSecret);
    } catch (err) {
      // Unreadable for good → give up; key service down → an ordinary failed attempt, retried later.
      return { ok: false, statusCode: null, error: isDecryptionFailure(err) ? 'the signing secret does not decrypt' : 'the key service is unavailable', excerpt: null, permanent: isDecryptionFailure(err) };
    }
    const body = webhookBody(delivery);
    const timestamp = Math.floor(Date.now() / 1000);
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      response = await undiciFetch(url, {
        method: 'POST',
        dispatcher: this.agent,
        redirect: 'manual', // a redirect could lead anywhere, past the target check: never followed
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Tether-Webhooks/1',
          'tether-webhook-id': delivery.event_id,
          'tether-webhook-delivery': delivery.id,
          'tether-webhook-attempt': String(delivery.attempts),
          'tether-webhook-timestamp': String(timestamp),
          'tether-webhook-signature': signWebhook(secret, timestamp, body),
        },
        body,
      });
    } catch (err) {
      return { ok: false, statusCode: null, excerpt: null, ...describeFailure(err) };
    }
    const excerpt = await readExcerpt(response);
    if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status, error: null, excerpt };
    const redirect = response.status >= 300 && response.status < 400;
    const retryAfterMs = retryAfter(response.headers.get('retry-after'));
    return {
      ok: false,
      statusCode: response.status,
      error: redirect ? `redirect not followed (HTTP ${response.status})` : `HTTP ${response.status}`,
      excerpt,
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    };
  }
}

function describeFailure(err: unknown): { error: string; permanent?: boolean } {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: string }).code === 'ERR_WEBHOOK_TARGET_REFUSED') return { error: `target refused: ${e.message}`, permanent: true };
    if (e.name === 'TimeoutError') return { error: 'timed out' };
    const code = (e as { code?: string }).code;
    if (code && e !== err) return { error: `connection failed (${code})` };
  }
  return { error: 'connection failed' };
}

/** The first few hundred characters of the answer, as text; the rest is never read. */
async function readExcerpt(response: Response | Awaited<ReturnType<typeof undiciFetch>>): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < EXCERPT_CHARS * 4) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short is still an answer; keep what arrived.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').replace(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/g, '').slice(0, EXCERPT_CHARS);
  return text === '' ? null : text;
}

function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
