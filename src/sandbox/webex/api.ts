// Webex REST: people, rooms, memberships, messages and webhooks, with Link-header paging
// (RFC 8288) and webhook deliveries signed with X-Spark-Signature (hex HMAC-SHA1 of the body).
// https://developer.webex.com/docs/api/v1/messages, …/webhooks
import { createHmac, randomUUID } from 'node:crypto';
import type { Faults } from '../common/faults.ts';
import { bearerToken, empty, json, parseJson, INVALID_JSON, type Router, type SbRequest, type SbResponse } from '../common/http.ts';
import { guid } from '../common/ids.ts';
import type { OAuthStore } from '../common/oauth.ts';
import { webexError, WEBEX } from './errors.ts';
import { webexId, type WMembership, type WMessage, type WPerson, type WRoom, type WStore, type WWebhook } from './store.ts';

export interface WebhookDelivery {
  webhookId: string;
  targetUrl: string;
  body: string;
  signature?: string;
  status?: number;
  error?: string;
  time: string;
}

export interface WebexApiContext {
  store: WStore;
  oauth: OAuthStore;
  faults: Faults;
  deliveries: WebhookDelivery[];
  /** Fetch used for webhook deliveries (the sandbox → Tether direction). */
  deliveryFetch: typeof fetch;
}

interface Caller {
  person: WPerson;
  scopes: Set<string>;
  clientId: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function authenticate(ctx: WebexApiContext, req: SbRequest): Caller | SbResponse {
  const check = ctx.oauth.checkAccessToken(bearerToken(req));
  if (!check.ok) return WEBEX.unauthorized();
  return { person: ctx.store.people.get(check.token.grant.userId)!, scopes: new Set(check.token.grant.scopes), clientId: check.token.grant.clientId };
}

function allowed(c: Caller, scope: string): boolean {
  return c.scopes.has('spark:all') || c.scopes.has(scope);
}

const denied = () => webexError(403, 'The request is understood, but it has been refused or access is not allowed.');

export function personJson(p: WPerson): Record<string, unknown> {
  return {
    id: p.id,
    emails: [p.email],
    phoneNumbers: [],
    displayName: p.displayName,
    nickName: p.firstName,
    firstName: p.firstName,
    lastName: p.lastName,
    avatar: `https://avatar-prod-us-east-2.webexcontent.com/Avtr~V1~${p.uuid}/V1~sandbox~1600`,
    orgId: p.orgId,
    created: iso(p.created),
    lastModified: iso(p.created),
    timezone: p.timezone,
    status: 'active',
    type: 'person',
  };
}

function roomJson(ctx: WebexApiContext, r: WRoom): Record<string, unknown> {
  return { id: r.id, title: r.title, type: r.type, isLocked: false, lastActivity: iso(r.lastActivity), creatorId: r.creatorId, created: iso(r.created), ownerId: ctx.store.orgId, isReadOnly: false };
}

function membershipJson(ctx: WebexApiContext, m: WMembership): Record<string, unknown> {
  const p = ctx.store.people.get(m.personId)!;
  const room = ctx.store.rooms.get(m.roomId)!;
  return { id: m.id, roomId: m.roomId, personId: p.id, personEmail: p.email, personDisplayName: p.displayName, personOrgId: p.orgId, isModerator: m.isModerator, isMonitor: false, roomType: room.type, created: iso(m.created) };
}

/** `created` answers (POST) use the Message schema; list/get answers the ListMessage schema. */
function messageJson(ctx: WebexApiContext, m: WMessage, asCreated: boolean): Record<string, unknown> {
  const p = ctx.store.people.get(m.personId)!;
  const room = ctx.store.rooms.get(m.roomId)!;
  const out: Record<string, unknown> = { id: m.id, roomId: m.roomId, roomType: room.type };
  if (asCreated && m.toPersonId) out.toPersonId = m.toPersonId;
  if (asCreated && m.toPersonEmail) out.toPersonEmail = m.toPersonEmail;
  if (m.text !== undefined) out.text = m.text;
  if (m.markdown !== undefined) out.markdown = m.markdown;
  out.personId = p.id;
  out.personEmail = p.email;
  out.created = iso(m.created);
  return out;
}

function linkHeader(req: SbRequest, params: Record<string, string>): Record<string, string> {
  const next = new URL(req.path, req.origin);
  for (const [k, v] of req.query) next.searchParams.set(k, v);
  for (const [k, v] of Object.entries(params)) next.searchParams.set(k, v);
  return { link: `<${next.toString()}>; rel="next"` };
}

function maxParam(req: SbRequest, def: number, cap: number): number | SbResponse {
  const raw = req.query.get('max');
  if (raw === null) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return WEBEX.badRequest('max must be a positive integer.');
  return Math.min(n, cap);
}

/** Offset paging for the small collections (cursor is opaque to clients). */
function pageList<T>(req: SbRequest, items: T[], def: number, cap: number, render: (t: T) => unknown): SbResponse {
  const max = maxParam(req, def, cap);
  if (typeof max !== 'number') return max;
  const cursor = req.query.get('cursor');
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) return WEBEX.badRequest('Invalid cursor.');
  const page = items.slice(start, start + max);
  const headers = start + max < items.length ? linkHeader(req, { cursor: Buffer.from(String(start + max)).toString('base64url') }) : {};
  return json(200, { items: page.map(render) }, headers);
}

function emit(ctx: WebexApiContext, resource: string, event: string, actor: WPerson, data: Record<string, unknown>, roomId: string): void {
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

function createMessage(ctx: WebexApiContext, req: SbRequest, c: Caller): SbResponse {
  if (!allowed(c, 'spark:messages_write')) return denied();
  const body = parseJson(req) as Record<string, unknown> | undefined | symbol;
  if (typeof body !== 'object' || body === null) return WEBEX.badRequest('Message body must be JSON.');
  const text = typeof body.text === 'string' ? body.text : undefined;
  const markdown = typeof body.markdown === 'string' ? body.markdown : undefined;
  if (text === undefined && markdown === undefined) return WEBEX.badRequest('One of text, markdown or files is required.');
  let room: WRoom | undefined;
  let toPersonId: string | undefined;
  let toPersonEmail: string | undefined;
  if (typeof body.roomId === 'string') {
    room = ctx.store.rooms.get(body.roomId);
    if (!room || !ctx.store.isMember(room.id, c.person.id)) return webexError(404, 'Could not find a room with provided ID.');
  } else if (typeof body.toPersonId === 'string' || typeof body.toPersonEmail === 'string') {
    const to = typeof body.toPersonId === 'string' ? ctx.store.people.get(body.toPersonId) : ctx.store.personByEmail(String(body.toPersonEmail));
    if (!to) return webexError(404, 'Could not find a person with the provided ID or email.');
    if (typeof body.toPersonId === 'string') toPersonId = to.id;
    else toPersonEmail = to.email;
    room = ctx.store.directRoom(c.person.id, to.id);
    if (!room) {
      const now = ctx.faults.now();
      room = ctx.store.addRoom({ id: webexId('ROOM', guid(`direct-${c.person.id}-${to.id}-${now}`)), title: to.displayName, type: 'direct', creatorId: c.person.id, created: now, lastActivity: now }, [
        { personId: c.person.id, isModerator: false },
        { personId: to.id, isModerator: false },
      ]);
    }
  } else {
    return WEBEX.badRequest('Either roomId, toPersonId or toPersonEmail must be specified.');
  }
  const created = Math.max(ctx.faults.now(), (ctx.store.messages.get(room.id)!.at(-1)?.created ?? 0) + 1);
  const msg = ctx.store.addMessage({ id: webexId('MESSAGE', randomUUID()), roomId: room.id, personId: c.person.id, created, ...(text !== undefined ? { text } : {}), ...(markdown !== undefined ? { markdown, ...(text === undefined ? { text: markdown.replace(/[*_`#>]/g, '') } : {}) } : {}), ...(toPersonId ? { toPersonId } : {}), ...(toPersonEmail ? { toPersonEmail } : {}) });
  emit(ctx, 'messages', 'created', c.person, { id: msg.id, roomId: room.id, roomType: room.type, personId: c.person.id, personEmail: c.person.email, created: iso(msg.created) }, room.id);
  return json(200, messageJson(ctx, msg, true));
}

function listMessages(ctx: WebexApiContext, req: SbRequest, c: Caller): SbResponse {
  if (!allowed(c, 'spark:messages_read')) return denied();
  const roomId = req.query.get('roomId');
  if (!roomId) return WEBEX.badRequest('roomId is required.');
  const room = ctx.store.rooms.get(roomId);
  if (!room || !ctx.store.isMember(room.id, c.person.id)) return webexError(404, 'Could not find a room with provided ID.');
  const max = maxParam(req, 50, 1000);
  if (typeof max !== 'number') return max;
  const all = ctx.store.messages.get(room.id)!;
  // Newest first. `beforeMessage` (what the next Link uses) and `before` (a time) bound the page.
  let end = all.length;
  const beforeMessage = req.query.get('beforeMessage');
  if (beforeMessage) {
    const i = all.findIndex((m) => m.id === beforeMessage);
    if (i < 0) return WEBEX.badRequest('beforeMessage is not a message in this room.');
    end = i;
  }
  const before = req.query.get('before');
  if (before) {
    const t = Date.parse(before);
    if (Number.isNaN(t)) return WEBEX.badRequest('before must be an ISO 8601 date-time.');
    while (end > 0 && all[end - 1]!.created >= t) end--;
  }
  const start = Math.max(0, end - max);
  const page = all.slice(start, end).reverse();
  const headers = start > 0 ? linkHeader(req, { beforeMessage: page.at(-1)!.id, max: String(max) }) : {};
  if (start > 0) {
    const next = new URL(headers.link!.slice(1, headers.link!.indexOf('>')));
    next.searchParams.delete('before');
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return json(200, { items: page.map((m) => messageJson(ctx, m, false)) }, headers);
}

function webhookJson(h: WWebhook): Record<string, unknown> {
  return { id: h.id, name: h.name, targetUrl: h.targetUrl, resource: h.resource, event: h.event, ...(h.filter ? { filter: h.filter } : {}), ...(h.secret ? { secret: h.secret } : {}), status: h.status, created: iso(h.created), ownedBy: 'creator' };
}

const RESOURCES = new Set(['messages', 'memberships', 'rooms', 'attachmentActions', 'meetings', 'recordings', 'all']);
const EVENTS = new Set(['created', 'updated', 'deleted', 'started', 'ended', 'joined', 'left', 'all']);

function webhooks(ctx: WebexApiContext, req: SbRequest, c: Caller, id: string | undefined): SbResponse {
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

export function addWebexApiRoutes(router: Router, ctx: WebexApiContext): void {
  const authed = (h: (req: SbRequest, c: Caller, m: RegExpExecArray) => SbResponse) => (req: SbRequest, m: RegExpExecArray) => {
    const c = authenticate(ctx, req);
    return 'status' in c ? c : h(req, c, m);
  };
  const id = (m: RegExpExecArray) => decodeURIComponent(m[1]!);
  router
    .add('GET', /^\/v1\/people\/me$/, authed((_req, c) => json(200, personJson(c.person))))
    .add('GET', /^\/v1\/people\/([^/]+)$/, authed((_req, c, m) => {
      if (!allowed(c, 'spark:people_read')) return denied();
      const p = ctx.store.people.get(id(m));
      return p ? json(200, personJson(p)) : WEBEX.notFound();
    }))
    .add('GET', /^\/v1\/people$/, authed((req, c) => {
      if (!allowed(c, 'spark:people_read')) return denied();
      const email = req.query.get('email');
      const name = req.query.get('displayName');
      const ids = req.query.get('id');
      if (!email && !name && !ids) return WEBEX.badRequest('Either email, displayName or id is required.');
      const people = [...ctx.store.people.values()].filter((p) => (!email || p.email === email.toLowerCase()) && (!name || p.displayName.toLowerCase().startsWith(name.toLowerCase())) && (!ids || ids.split(',').includes(p.id)));
      return pageList(req, people, 100, 1000, (p) => personJson(p as WPerson));
    }))
    .add('GET', /^\/v1\/rooms$/, authed((req, c) => {
      if (!allowed(c, 'spark:rooms_read')) return denied();
      const type = req.query.get('type');
      const rooms = [...ctx.store.rooms.values()].filter((r) => ctx.store.isMember(r.id, c.person.id) && (!type || r.type === type));
      const sortBy = req.query.get('sortBy') ?? 'lastactivity';
      rooms.sort((a, b) => (sortBy === 'created' ? b.created - a.created : sortBy === 'id' ? (a.id < b.id ? -1 : 1) : b.lastActivity - a.lastActivity) || (a.id < b.id ? -1 : 1));
      return pageList(req, rooms, 100, 1000, (r) => roomJson(ctx, r));
    }))
    .add('GET', /^\/v1\/rooms\/([^/]+)$/, authed((_req, c, m) => {
      if (!allowed(c, 'spark:rooms_read')) return denied();
      const r = ctx.store.rooms.get(id(m));
      return r && ctx.store.isMember(r.id, c.person.id) ? json(200, roomJson(ctx, r)) : webexError(404, 'Could not find a room with provided ID.');
    }))
    .add('POST', /^\/v1\/rooms$/, authed((req, c) => {
      if (!allowed(c, 'spark:rooms_write')) return denied();
      const b = parseJson(req) as Record<string, unknown> | undefined | symbol;
      if (typeof b !== 'object' || b === null || typeof b.title !== 'string' || !b.title) return WEBEX.badRequest('title is required.');
      const now = ctx.faults.now();
      const room = ctx.store.addRoom({ id: webexId('ROOM', randomUUID()), title: b.title, type: 'group', creatorId: c.person.id, created: now, lastActivity: now }, [{ personId: c.person.id, isModerator: false }]);
      emit(ctx, 'rooms', 'created', c.person, { id: room.id, title: room.title, type: room.type, creatorId: c.person.id, created: iso(now) }, room.id);
      return json(200, roomJson(ctx, room));
    }))
    .add('GET', /^\/v1\/memberships$/, authed((req, c) => {
      if (!allowed(c, 'spark:memberships_read')) return denied();
      const roomId = req.query.get('roomId');
      if (roomId && !ctx.store.isMember(roomId, c.person.id)) return webexError(404, 'Could not find a room with provided ID.');
      const personId = req.query.get('personId');
      const personEmail = req.query.get('personEmail')?.toLowerCase();
      const list = [...ctx.store.memberships.values()].filter((m) => (roomId ? m.roomId === roomId : m.personId === c.person.id) && (!personId || m.personId === personId) && (!personEmail || ctx.store.people.get(m.personId)?.email === personEmail));
      return pageList(req, list, 100, 1000, (m) => membershipJson(ctx, m));
    }))
    .add('POST', /^\/v1\/memberships$/, authed((req, c) => {
      if (!allowed(c, 'spark:memberships_write')) return denied();
      const b = parseJson(req) as Record<string, unknown> | undefined | symbol;
      if (typeof b !== 'object' || b === null || typeof b.roomId !== 'string') return WEBEX.badRequest('roomId is required.');
      const room = ctx.store.rooms.get(b.roomId);
      if (!room || !ctx.store.isMember(room.id, c.person.id)) return webexError(404, 'Could not find a room with provided ID.');
      if (room.type === 'direct') return webexError(409, 'Cannot add a person to a 1:1 room.');
      const person = typeof b.personId === 'string' ? ctx.store.people.get(b.personId) : typeof b.personEmail === 'string' ? ctx.store.personByEmail(b.personEmail) : undefined;
      if (!person) return WEBEX.badRequest('personId or personEmail must name an existing person.');
      if (ctx.store.isMember(room.id, person.id)) return webexError(409, 'Person is already in the room.');
      const m = ctx.store.addMembership(room.id, person.id, b.isModerator === true, ctx.faults.now());
      emit(ctx, 'memberships', 'created', c.person, membershipJson(ctx, m), room.id);
      return json(200, membershipJson(ctx, m));
    }))
    .add('DELETE', /^\/v1\/memberships\/([^/]+)$/, authed((_req, c, m) => {
      if (!allowed(c, 'spark:memberships_write')) return denied();
      const mem = ctx.store.memberships.get(id(m));
      if (!mem || !ctx.store.isMember(mem.roomId, c.person.id)) return WEBEX.notFound();
      const data = membershipJson(ctx, mem);
      emit(ctx, 'memberships', 'deleted', c.person, data, mem.roomId);
      ctx.store.memberships.delete(mem.id);
      return empty(204);
    }))
    .add('GET', /^\/v1\/messages$/, authed((req, c) => listMessages(ctx, req, c)))
    .add('POST', /^\/v1\/messages$/, authed((req, c) => createMessage(ctx, req, c)))
    .add('GET', /^\/v1\/messages\/([^/]+)$/, authed((_req, c, m) => {
      if (!allowed(c, 'spark:messages_read')) return denied();
      const msg = ctx.store.messageIndex.get(id(m));
      return msg && ctx.store.isMember(msg.roomId, c.person.id) ? json(200, messageJson(ctx, msg, false)) : WEBEX.notFound();
    }))
    .add('DELETE', /^\/v1\/messages\/([^/]+)$/, authed((_req, c, m) => {
      if (!allowed(c, 'spark:messages_write')) return denied();
      const msg = ctx.store.messageIndex.get(id(m));
      if (!msg || !ctx.store.isMember(msg.roomId, c.person.id)) return WEBEX.notFound();
      if (msg.personId !== c.person.id) return denied();
      const list = ctx.store.messages.get(msg.roomId)!;
      list.splice(list.indexOf(msg), 1);
      ctx.store.messageIndex.delete(msg.id);
      const room = ctx.store.rooms.get(msg.roomId)!;
      emit(ctx, 'messages', 'deleted', c.person, { id: msg.id, roomId: room.id, roomType: room.type, personId: msg.personId, personEmail: c.person.email, created: iso(msg.created) }, room.id);
      return empty(204);
    }))
    .add('GET', /^\/v1\/webhooks$/, authed((req, c) => webhooks(ctx, req, c, undefined)))
    .add('POST', /^\/v1\/webhooks$/, authed((req, c) => webhooks(ctx, req, c, undefined)))
    .add('GET', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))))
    .add('PUT', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))))
    .add('DELETE', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))));
}
