// Webex webhooks: CRUD, and deliveries of message/membership/room events to the webhook owner's
// rooms, honouring `filter`, signed with X-Spark-Signature = hex HMAC-SHA1 of the body.
// https://developer.webex.com/docs/api/guides/webhooks
import { createHmac, randomUUID } from 'node:crypto';
import { empty, json, parseJson, INVALID_JSON, type SbRequest, type SbResponse } from '../common/http.ts';
import { allowed, denied, iso, pageList, type Caller, type WebexApiContext } from './context.ts';
import { webexError, WEBEX } from './errors.ts';
import { recordEvent } from './events.ts';
import { webexId, type WPerson, type WWebhook } from './store.ts';

export interface WebhookDelivery {
  webhookId: string;
  targetUrl: string;
  body: string;
  signature?: string;
  status?: number;
  error?: string;
  time: string;
}

export function emit(ctx: WebexApiContext, resource: string, event: string, actor: WPerson, data: Record<string, unknown>, roomId: string): void {
  recordEvent(ctx.store, resource, event, actor, data, ctx.faults.now());
  for (const hook of ctx.store.webhooks.values()) {
    if (hook.status !== 'active' || (hook.resource !== resource && hook.resource !== 'all') || (hook.event !== event && hook.event !== 'all')) continue;
    if (!ctx.store.isMember(roomId, hook.ownerPersonId)) continue;
    if (hook.filter) {
      const f = new URLSearchParams(hook.filter);
      const person = data.personId ? ctx.store.people.get(String(data.personId)) : undefined;
      if (f.get('roomId') && f.get('roomId') !== roomId) continue;
      if (f.get('personId') && f.get('personId') !== data.personId) continue;
      if (f.get('personEmail') && f.get('personEmail')!.toLowerCase() !== person?.email) continue;
      if (f.get('roomType') && f.get('roomType') !== data.roomType) continue;
    }
    const owner = ctx.store.people.get(hook.ownerPersonId)!;
    const body = JSON.stringify({
      id: hook.id,
      name: hook.name,
      targetUrl: hook.targetUrl,
      resource: hook.resource,
      event: hook.event,
      ...(hook.filter ? { filter: hook.filter } : {}),
      orgId: owner.orgId,
      createdBy: owner.id,
      appId: hook.appId,
      ownedBy: 'creator',
      status: hook.status,
      created: iso(hook.created),
      actorId: actor.id,
      data,
    });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Webex Webhooks (sandbox)', trackingid: `WH_${randomUUID()}` };
    const delivery: WebhookDelivery = { webhookId: hook.id, targetUrl: hook.targetUrl, body, time: new Date(ctx.faults.now()).toISOString() };
    if (hook.secret) {
      delivery.signature = createHmac('sha1', hook.secret).update(body).digest('hex');
      headers['x-spark-signature'] = delivery.signature;
    }
    ctx.deliveries.push(delivery);
    ctx
      .deliveryFetch(hook.targetUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      })
      .catch((err: Error) => {
        delivery.error = String(err.cause ?? err.message);
      });
  }
}

function webhookJson(h: WWebhook): Record<string, unknown> {
  return { id: h.id, name: h.name, targetUrl: h.targetUrl, resource: h.resource, event: h.event, ...(h.filter ? { filter: h.filter } : {}), ...(h.secret ? { secret: h.secret } : {}), status: h.status, created: iso(h.created), ownedBy: 'creator' };
}

const RESOURCES = new Set(['messages', 'memberships', 'rooms', 'attachmentActions', 'meetings', 'recordings', 'all']);
const EVENTS = new Set(['created', 'updated', 'deleted', 'started', 'ended', 'joined', 'left', 'all']);

export function webhooks(ctx: WebexApiContext, req: SbRequest, c: Caller, id: string | undefined): SbResponse {
  const mine = (h: WWebhook) => h.ownerPersonId === c.person.id && h.appId === c.clientId;
  if (id === undefined && req.method === 'GET') return pageList(req, [...ctx.store.webhooks.values()].filter(mine), 100, 100, webhookJson);
  if (id === undefined && req.method === 'POST') {
    const b = parseJson(req) as Record<string, unknown> | undefined | symbol;
    if (typeof b !== 'object' || b === null) return WEBEX.badRequest('Webhook body must be JSON.');
    for (const f of ['name', 'targetUrl', 'resource', 'event']) if (typeof b[f] !== 'string' || !b[f]) return WEBEX.badRequest(`${f} is required.`);
    if (!URL.canParse(String(b.targetUrl))) return WEBEX.badRequest('targetUrl must be a valid URL.');
    if (!RESOURCES.has(String(b.resource))) return WEBEX.badRequest(`Unsupported resource ${String(b.resource)}.`);
    if (!EVENTS.has(String(b.event))) return WEBEX.badRequest(`Unsupported event ${String(b.event)}.`);
    const readScope = b.resource === 'all' ? 'spark:all' : `spark:${String(b.resource)}_read`;
    if (!allowed(c, readScope)) return denied();
    const hook: WWebhook = {
      id: webexId('WEBHOOK', randomUUID()),
      name: String(b.name),
      targetUrl: String(b.targetUrl),
      resource: String(b.resource),
      event: String(b.event),
      ...(typeof b.filter === 'string' && b.filter ? { filter: b.filter } : {}),
      ...(typeof b.secret === 'string' && b.secret ? { secret: b.secret } : {}),
      status: 'active',
      created: ctx.faults.now(),
      ownerPersonId: c.person.id,
      appId: c.clientId,
    };
    ctx.store.webhooks.set(hook.id, hook);
    return json(200, webhookJson(hook));
  }
  const hook = id ? ctx.store.webhooks.get(id) : undefined;
  if (!hook || !mine(hook)) return WEBEX.notFound();
  if (req.method === 'GET') return json(200, webhookJson(hook));
  if (req.method === 'DELETE') {
    ctx.store.webhooks.delete(hook.id);
    return empty(204);
  }
  if (req.method === 'PUT') {
    const b = parseJson(req);
    if (b === INVALID_JSON || typeof b !== 'object' || b === null) return WEBEX.badRequest('Webhook body must be JSON.');
    const body = b as Record<string, unknown>;
    if (typeof body.name !== 'string' || typeof body.targetUrl !== 'string') return WEBEX.badRequest('name and targetUrl are required.');
    hook.name = body.name;
    hook.targetUrl = body.targetUrl;
    if (typeof body.secret === 'string') hook.secret = body.secret;
    if (body.status === 'active' || body.status === 'inactive') hook.status = body.status;
    return json(200, webhookJson(hook));
  }
  return webexError(405, 'Method not allowed.');
}

