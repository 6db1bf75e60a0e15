// Webex REST: people, rooms, memberships and messages, with Link-header paging (RFC 8288).
// https://developer.webex.com/docs/api/v1/messages
import { randomUUID } from 'node:crypto';
import { bearerToken, empty, json, parseJson, type Router, type SbRequest, type SbResponse } from '../common/http.ts';
import { guid } from '../common/ids.ts';
import { webexError, WEBEX } from './errors.ts';
import { allowed, denied, iso, linkHeader, maxParam, pageList, type Caller, type WebexApiContext } from './context.ts';
import { listEvents } from './events.ts';
import { emit, webhooks } from './webhooks.ts';
import { webexId, type WMembership, type WMessage, type WPerson, type WRoom } from './store.ts';

export type { WebhookDelivery } from './webhooks.ts';
export type { WebexApiContext } from './context.ts';

function authenticate(ctx: WebexApiContext, req: SbRequest): Caller | SbResponse {
  const check = ctx.oauth.checkAccessToken(bearerToken(req));
  if (!check.ok) return WEBEX.unauthorized();
  return { person: ctx.store.people.get(check.token.grant.userId)!, scopes: new Set(check.token.grant.scopes), clientId: check.token.grant.clientId };
}

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

/** GET /v1/messages/direct?personId|personEmail: the 1:1 room's messages, newest first (DirectMessage). */
function listDirectMessages(ctx: WebexApiContext, req: SbRequest, c: Caller): SbResponse {
  if (!allowed(c, 'spark:messages_read')) return denied();
  const personId = req.query.get('personId');
  const personEmail = req.query.get('personEmail');
  if (!personId && !personEmail) return WEBEX.badRequest('Either personId or personEmail is required.');
  const other = personId ? ctx.store.people.get(personId) : ctx.store.personByEmail(personEmail!);
  if (!other) return webexError(404, 'Could not find a person with the provided ID or email.');
  const room = ctx.store.directRoom(c.person.id, other.id);
  const items = room ? [...ctx.store.messages.get(room.id)!].reverse().map((m) => messageJson(ctx, m, false)) : [];
  return json(200, { items });
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
    .add('GET', /^\/v1\/messages\/direct$/, authed((req, c) => listDirectMessages(ctx, req, c)))
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
    .add('GET', /^\/v1\/events$/, authed((req, c) => listEvents(ctx, req, c)))
    .add('GET', /^\/v1\/webhooks$/, authed((req, c) => webhooks(ctx, req, c, undefined)))
    .add('POST', /^\/v1\/webhooks$/, authed((req, c) => webhooks(ctx, req, c, undefined)))
    .add('GET', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))))
    .add('PUT', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))))
    .add('DELETE', /^\/v1\/webhooks\/([^/]+)$/, authed((req, c, m) => webhooks(ctx, req, c, id(m))));
}
