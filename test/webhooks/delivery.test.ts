import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import type { WebhookEventType } from '../../src/services/webhooks.ts';
import { createOrgFixture, startTestTether, type OrgFixture, type TestTether } from '../support/tether.ts';
import { Receiver, verifyTetherWebhook, waitFor } from './receiver.ts';

/**
 * Webhooks end to end: a real Tether with its job queue, delivering to a receiver on loopback (allowed
 * by the operator setting, as in development). Retries are fast here (50 ms base, 3 attempts).
 */
describe('webhook delivery', () => {
  let t: TestTether;
  let a: OrgFixture;
  let db: pg.Client;
  const receiver = new Receiver();
  const secrets: string[] = [];

  before(async () => {
    await receiver.start();
    t = await startTestTether({
      TETHER_JOBS_ENABLED: 'true',
      TETHER_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
      TETHER_WEBHOOKS_RETRY_BASE_MS: '50',
      TETHER_WEBHOOKS_RETRY_MAX_MS: '200',
      TETHER_WEBHOOKS_MAX_ATTEMPTS: '3',
      TETHER_WEBHOOKS_TIMEOUT_MS: '3000',
    });
    a = await createOrgFixture(t, 'hooks');
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await t?.stop();
    await receiver.stop();
  });

  async function subscribe(path: string, events: WebhookEventType[] = ['connection.created']): Promise<{ id: string; secret: string }> {
    const res = await t.http.post('/api/v1/webhooks', { url: `${receiver.url}${path}`, events, description: `receiver ${path}` }, a.admin.session);
    assert.equal(res.status, 201, res.text);
    assert.match(res.body.signingSecret, /^whsec_[A-Za-z0-9_-]{43}$/);
    secrets.push(res.body.signingSecret);
    return { id: res.body.webhook.id, secret: res.body.signingSecret };
  }

  async function emit(type: WebhookEventType, data: Record<string, unknown>, orgId = a.orgId) {
    return t.services.db.transaction().execute((tx) => t.services.webhooks.emit(tx, { orgId, type, data }));
  }

  async function deliveriesOf(webhookId: string) {
    const res = await t.http.get(`/api/v1/webhooks/${webhookId}/deliveries`, a.admin.session);
    assert.equal(res.status, 200, res.text);
    return res.body.items as Array<Record<string, any>>;
  }

  async function settled(webhookId: string, count = 1) {
    return waitFor(`${count} settled deliveries of ${webhookId}`, async () => {
      const items = await deliveriesOf(webhookId);
      return items.length >= count && items.every((d) => d.status !== 'pending') && items;
    });
  }

  it('delivers a signed event emitted in a committed transaction, to subscribers of that event only', async () => {
    const hook = await subscribe('/created');
    const other = await subscribe('/deleted-only', ['connection.deleted']);
    const { eventId, deliveryIds } = await emit('connection.created', { connectionId: 'c-1', status: 'active' });
    assert.equal(deliveryIds.length, 1);
    const [delivery] = await settled(hook.id);
    assert.equal(delivery!.status, 'delivered', JSON.stringify(delivery));
    assert.equal(delivery!.attempts, 1);
    assert.equal(delivery!.lastStatusCode, 200);
    assert.equal(delivery!.lastResponseExcerpt, 'ok');
    assert.ok(delivery!.deliveredAt);

    const [request] = receiver.at('/created');
    assert.ok(request);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['tether-webhook-id'], eventId);
    assert.equal(request.headers['tether-webhook-attempt'], '1');
    assert.ok(verifyTetherWebhook(hook.secret, request.headers, request.body), 'the README recipe verifies the signature');
    assert.ok(!verifyTetherWebhook(other.secret, request.headers, request.body), "another webhook's secret does not");
    assert.ok(!verifyTetherWebhook(hook.secret, request.headers, request.body.replace('c-1', 'c-2')), 'a changed body does not verify');
    const stale = { ...request.headers, 'tether-webhook-timestamp': String(Number(request.headers['tether-webhook-timestamp']) - 3600) };
    assert.ok(!verifyTetherWebhook(hook.secret, stale, request.body), 'an old timestamp is refused (and is signed, so it cannot be swapped)');
    const body = JSON.parse(request.body);
    assert.deepEqual(body, { id: eventId, type: 'connection.created', createdAt: body.createdAt, orgId: a.orgId, data: { connectionId: 'c-1', status: 'active' } });
    assert.ok(!Number.isNaN(Date.parse(body.createdAt)));

    assert.deepEqual(await deliveriesOf(other.id), [], 'a webhook not subscribed to the event gets no delivery');
    assert.equal(receiver.at('/deleted-only').length, 0);
  });

  it('sends nothing when the emitting transaction rolls back', async () => {
    const hook = await subscribe('/rollback');
    let rolledBack: string | undefined;
    await assert.rejects(
      t.services.db.transaction().execute(async (tx) => {
        rolledBack = (await t.services.webhooks.emit(tx, { orgId: a.orgId, type: 'connection.created', data: { connectionId: 'never' } })).eventId;
        throw new Error('the change fails after emitting');
      }),
      /the change fails/,
    );
    assert.ok(rolledBack);
    const rows = await db.query('select count(*)::int as n from webhook_deliveries where event_id = $1', [rolledBack]);
    assert.equal(rows.rows[0].n, 0, 'no delivery row');
    const orphans = await db.query(
      `select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'deliver_webhook' and not exists (select 1 from webhook_deliveries d where d.id = (j.payload->>'deliveryId')::uuid)`,
    );
    assert.equal(orphans.rows[0].n, 0, 'no delivery job without its delivery');
    // A committed event afterwards goes through, and the rolled-back one never arrives.
    const { eventId } = await emit('connection.created', { connectionId: 'kept' });
    await settled(hook.id);
    const ids = receiver.at('/rollback').map((r) => r.headers['tether-webhook-id']);
    assert.deepEqual(ids, [eventId]);
  });

  it('retries after 5xx answers with backoff, the same event id each time, then succeeds', async () => {
    const hook = await subscribe('/flaky');
    receiver.plan('/flaky', { status: 500, body: 'x'.repeat(5000) }, { status: 503, headers: { 'retry-after': '0' }, body: 'busy' });
    const { eventId } = await emit('connection.created', { connectionId: 'c-flaky' });
    const [delivery] = await settled(hook.id);
    assert.equal(delivery!.status, 'delivered', JSON.stringify(delivery));
    assert.equal(delivery!.attempts, 3);
    const requests = receiver.at('/flaky');
    assert.equal(requests.length, 3);
    assert.deepEqual(requests.map((r) => r.headers['tether-webhook-id']), [eventId, eventId, eventId]);
    assert.deepEqual(requests.map((r) => r.headers['tether-webhook-attempt']), ['1', '2', '3']);
    for (const r of requests) assert.ok(verifyTetherWebhook(hook.secret, r.headers, r.body));
    assert.equal(new Set(requests.map((r) => r.body)).size, 1, 'the body is the same on every attempt');
  });

  it('gives up after the last attempt, marks the delivery failed, and keeps only an excerpt of the answer', async () => {
    const hook = await subscribe('/down');
    const longAnswer = `error ${'y'.repeat(2000)}`;
    receiver.plan('/down', ...Array.from({ length: 10 }, () => ({ status: 500, body: longAnswer })));
    await emit('connection.created', { connectionId: 'c-down' });
    const [delivery] = await settled(hook.id);
    assert.equal(delivery!.status, 'failed');
    assert.equal(delivery!.attempts, 3);
    assert.equal(delivery!.lastStatusCode, 500);
    assert.equal(delivery!.lastError, 'HTTP 500');
    assert.equal(delivery!.nextAttemptAt, null);
    assert.equal(delivery!.lastResponseExcerpt.length, 256);
    assert.ok(longAnswer.startsWith(delivery!.lastResponseExcerpt));
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(receiver.at('/down').length, 3, 'no attempt after giving up');
    const stored = await db.query('select last_response_excerpt from webhook_deliveries where subscription_id = $1', [hook.id]);
    assert.equal(stored.rows[0].last_response_excerpt.length, 256);
  });

  it('gives up on an attempt after the timeout and tries again', async () => {
    const hook = await subscribe('/slow');
    receiver.plan('/slow', { status: 200, delayMs: 10_000 });
    await emit('connection.created', { connectionId: 'c-slow' });
    const [delivery] = await settled(hook.id);
    assert.equal(delivery!.status, 'delivered', JSON.stringify(delivery));
    assert.equal(delivery!.attempts, 2, 'the slow first attempt timed out (3 s) and the second went through');
    const log = t.logs.find((l) => l.includes('webhook delivery attempt failed') && l.includes(delivery!.id));
    assert.match(log ?? '', /"error":"timed out"/);
  });

  it('refuses events it does not know, and oversized data, before writing anything', async () => {
    await assert.rejects(emit('connection.exploded' as WebhookEventType, {}), /unknown event type/);
    await assert.rejects(emit('connection.created', { blob: 'z'.repeat(20_000) }), /exceeds/);
  });

  it('does not send a delivery whose attempts are used up (a crash mid-attempt) or whose webhook was disabled meanwhile', async () => {
    const spent = await subscribe('/spent', ['connection.deleted']);
    const paused = await subscribe('/paused', ['connection.deleted']);
    await t.services.db.transaction().execute(async (tx) => {
      const { deliveryIds } = await t.services.webhooks.emit(tx, { orgId: a.orgId, type: 'connection.deleted', data: { connectionId: 'c-gone' } });
      assert.ok(deliveryIds.length >= 2, 'one per subscriber, these two among them');
      // As if earlier attempts had been counted and the instance had died before recording them.
      await sql`update webhook_deliveries set attempts = 3 where subscription_id = ${spent.id}`.execute(tx);
      await sql`update webhook_subscriptions set enabled = false where id = ${paused.id}`.execute(tx);
    });
    const [gaveUp] = await settled(spent.id);
    assert.equal(gaveUp!.status, 'failed');
    assert.equal(gaveUp!.lastError, 'no attempts left');
    const [disabled] = await settled(paused.id);
    assert.equal(disabled!.status, 'failed');
    assert.equal(disabled!.lastError, 'the webhook is disabled');
    assert.equal(receiver.at('/spent').length + receiver.at('/paused').length, 0);
  });

  it('never follows a redirect', async () => {
    const hook = await subscribe('/moved');
    receiver.plan('/moved', ...Array.from({ length: 3 }, () => ({ status: 307, headers: { location: `${receiver.url}/elsewhere` } })));
    await emit('connection.created', { connectionId: 'c-moved' });
    const [delivery] = await settled(hook.id);
    assert.equal(delivery!.status, 'failed');
    assert.equal(delivery!.lastError, 'redirect not followed (HTTP 307)');
    assert.equal(receiver.at('/elsewhere').length, 0);
  });

  it('sends a test event on request, and stops sending to a disabled webhook', async () => {
    const hook = await subscribe('/test-event');
    const queued = await t.http.post(`/api/v1/webhooks/${hook.id}/test`, undefined, a.admin.session);
    assert.equal(queued.status, 202, queued.text);
    assert.equal(queued.body.eventType, 'webhook.test');
    assert.equal(queued.body.status, 'pending');
    await settled(hook.id);
    const [request] = receiver.at('/test-event');
    assert.equal(JSON.parse(request!.body).type, 'webhook.test');
    assert.ok(verifyTetherWebhook(hook.secret, request!.headers, request!.body));

    const disabled = await t.http.patch(`/api/v1/webhooks/${hook.id}`, { enabled: false }, a.admin.session);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.enabled, false);
    const { deliveryIds } = await emit('connection.created', { connectionId: 'c-off' });
    const refused = await t.http.post(`/api/v1/webhooks/${hook.id}/test`, undefined, a.admin.session);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'webhook_disabled');
    assert.equal((await deliveriesOf(hook.id)).length, 1, 'a disabled webhook gets no new deliveries');
    assert.ok(deliveryIds.length >= 1, 'enabled webhooks of the org still do');
  });

  it('rotates the signing secret: shown once, and used from the next attempt on', async () => {
    const hook = await subscribe('/rotate', ['connection.needs_reauth']);
    const rotated = await t.http.post(`/api/v1/webhooks/${hook.id}/rotate-secret`, undefined, a.admin.session);
    assert.equal(rotated.status, 200, rotated.text);
    const fresh: string = rotated.body.signingSecret;
    secrets.push(fresh);
    assert.notEqual(fresh, hook.secret);
    await emit('connection.needs_reauth', { connectionId: 'c-reauth', reason: 'invalid_grant' });
    await settled(hook.id);
    const [request] = receiver.at('/rotate');
    assert.ok(verifyTetherWebhook(fresh, request!.headers, request!.body));
    assert.ok(!verifyTetherWebhook(hook.secret, request!.headers, request!.body));
  });

  it('pages the delivery log, newest first, and manages webhooks through the API', async () => {
    const hook = await subscribe('/paged', ['message.delivered']);
    const events = [];
    for (let i = 0; i < 3; i++) events.push((await emit('message.delivered', { messageId: `m-${i}` })).eventId);
    await settled(hook.id, 3);
    const first = await t.http.get(`/api/v1/webhooks/${hook.id}/deliveries?limit=2`, a.admin.session);
    assert.equal(first.body.items.length, 2);
    assert.deepEqual(first.body.items.map((d: { eventId: string }) => d.eventId), [events[2], events[1]]);
    const second = await t.http.get(`/api/v1/webhooks/${hook.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`, a.admin.session);
    assert.deepEqual(second.body.items.map((d: { eventId: string }) => d.eventId), [events[0]]);
    assert.equal(second.body.nextCursor, null);

    const changed = await t.http.patch(`/api/v1/webhooks/${hook.id}`, { events: ['message.delivered', 'message.failed'], description: 'messages' }, a.admin.session);
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual(changed.body.events, ['message.delivered', 'message.failed']);
    const unknown = await t.http.patch(`/api/v1/webhooks/${hook.id}`, { events: ['connection.exploded'] }, a.admin.session);
    assert.equal(unknown.status, 400);
    const list = await t.http.get('/api/v1/webhooks?limit=200', a.admin.session);
    assert.ok(list.body.items.some((w: { id: string }) => w.id === hook.id));
    assert.equal((await t.http.get('/api/v1/webhooks', a.member.session)).status, 403, 'webhooks are for admins');
    assert.equal((await t.http.delete(`/api/v1/webhooks/${hook.id}`, a.admin.session)).status, 204);
    assert.equal((await t.http.get(`/api/v1/webhooks/${hook.id}`, a.admin.session)).status, 404);
    const left = await db.query('select count(*)::int as n from webhook_deliveries where subscription_id = $1', [hook.id]);
    assert.equal(left.rows[0].n, 0, 'the delivery log goes with the webhook');
    const audit = await t.http.get('/api/v1/audit-events?limit=200', a.admin.session);
    const actions = new Set(audit.body.items.map((e: { action: string }) => e.action));
    for (const action of ['webhook.create', 'webhook.update', 'webhook.delete', 'webhook.rotate_secret', 'webhook.test']) assert.ok(actions.has(action), action);
  });

  it('never shows or logs a signing secret after creation, and stores it only encrypted', async () => {
    assert.ok(secrets.length >= 5);
    const responses: string[] = [];
    const list = await t.http.get('/api/v1/webhooks?limit=200', a.admin.session);
    responses.push(list.text);
    for (const w of list.body.items) {
      responses.push((await t.http.get(`/api/v1/webhooks/${w.id}`, a.admin.session)).text);
      responses.push((await t.http.get(`/api/v1/webhooks/${w.id}/deliveries`, a.admin.session)).text);
    }
    responses.push((await t.http.get('/api/v1/audit-events?limit=200', a.admin.session)).text);
    const rows = await db.query('select * from webhook_subscriptions');
    assert.ok(rows.rows.length > 0 && t.logs.some((l) => l.includes('webhook delivered')), 'the check is not vacuous');
    const stored = JSON.stringify(rows.rows, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('latin1') : v));
    const all = [...responses, t.logs.join(''), stored, JSON.stringify((await db.query('select * from audit_events')).rows)].join('\n');
    for (const secret of secrets) {
      assert.ok(!all.includes(secret), 'a signing secret leaked');
      assert.ok(!all.includes(secret.slice(6)), 'a signing secret leaked without its prefix');
    }
  });
});
