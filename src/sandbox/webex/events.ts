// Webex compliance events: GET /v1/events, the org-wide log of what happened to messages,
// memberships and rooms. Only a Compliance Officer may read it, with the spark-compliance:events_read
// scope (spark:all does not include compliance scopes).
// https://developer.webex.com/docs/api/v1/events
import { type SbRequest, type SbResponse } from '../common/http.ts';
import { denied, iso, pageList, type Caller, type WebexApiContext } from './context.ts';
import { WEBEX } from './errors.ts';
import type { WEvent, WPerson, WStore } from './store.ts';

const RESOURCES = new Set<WEvent['resource']>(['messages', 'memberships', 'rooms']);
const TYPES = new Set<WEvent['type']>(['created', 'updated', 'deleted']);
/** The Event schema's `data` fields the emulated resources fill. */
const DATA_FIELDS = ['id', 'roomId', 'roomType', 'orgId', 'text', 'personId', 'personEmail', 'creatorId', 'type', 'created'];

/** Records an event in the compliance log, keeping only the fields the Event schema's `data` has. */
export function recordEvent(store: WStore, resource: string, type: string, actor: WPerson, data: Record<string, unknown>, created: number): void {
  if (!RESOURCES.has(resource as WEvent['resource']) || !TYPES.has(type as WEvent['type'])) return;
  const full: Record<string, unknown> = { ...data };
  if (resource === 'messages' && type === 'created') {
    const message = store.messageIndex.get(String(data.id));
    if (message?.text !== undefined) full.text = message.text;
  }
  const projected: Record<string, unknown> = { orgId: store.orgId };
  for (const key of DATA_FIELDS) if (full[key] !== undefined) projected[key] = full[key];
  store.recordEvent(resource as WEvent['resource'], type as WEvent['type'], actor.id, created, projected);
}

/** The seeded rooms, memberships and messages as `created` events. */
export function seedEvents(store: WStore): void {
  for (const room of store.rooms.values()) {
    recordEvent(store, 'rooms', 'created', store.people.get(room.creatorId)!, { id: room.id, type: room.type, creatorId: room.creatorId, created: iso(room.created) }, room.created);
  }
  for (const m of store.memberships.values()) {
    const person = store.people.get(m.personId)!;
    const room = store.rooms.get(m.roomId)!;
    recordEvent(store, 'memberships', 'created', store.people.get(room.creatorId)!, { id: m.id, roomId: m.roomId, roomType: room.type, personId: person.id, personEmail: person.email, created: iso(m.created) }, m.created);
  }
  for (const list of store.messages.values()) {
    for (const msg of list) {
      const person = store.people.get(msg.personId)!;
      const room = store.rooms.get(msg.roomId)!;
      recordEvent(store, 'messages', 'created', person, { id: msg.id, roomId: room.id, roomType: room.type, personId: person.id, personEmail: person.email, created: iso(msg.created) }, msg.created);
    }
  }
}

function eventJson(store: WStore, e: WEvent): Record<string, unknown> {
  return { id: e.id, resource: e.resource, type: e.type, actorId: e.actorId, orgId: store.orgId, created: iso(e.created), data: e.data };
}

/** GET /v1/events: newest first, filtered by resource, type, actorId and a from/to window; Link paging. */
export function listEvents(ctx: WebexApiContext, req: SbRequest, c: Caller): SbResponse {
  if (!c.scopes.has('spark-compliance:events_read') || !c.person.roles.includes('compliance_officer')) return denied();
  const resource = req.query.get('resource');
  const type = req.query.get('type');
  const actorId = req.query.get('actorId');
  if (resource !== null && !RESOURCES.has(resource as WEvent['resource']) && !['attachmentActions', 'businessTexts', 'call_records', 'convergedRecordings', 'file_transcodings', 'files', 'meetingMessages', 'meetings', 'meetingTranscripts', 'tabs'].includes(resource)) {
    return WEBEX.badRequest(`Invalid resource: ${resource}.`);
  }
  if (type !== null && !TYPES.has(type as WEvent['type']) && type !== 'ended') return WEBEX.badRequest(`Invalid type: ${type}.`);
  const bound = (name: 'from' | 'to'): number | undefined | SbResponse => {
    const raw = req.query.get(name);
    if (raw === null) return undefined;
    const t = Date.parse(raw);
    return Number.isNaN(t) ? WEBEX.badRequest(`${name} must be an ISO 8601 date-time.`) : t;
  };
  const from = bound('from');
  const to = bound('to');
  if (typeof from === 'object') return from;
  if (typeof to === 'object') return to;
  if (to !== undefined && to > ctx.faults.now()) return WEBEX.badRequest('to cannot be in the future.');
  const matching = ctx.store.events.filter(
    (e) => (resource === null || e.resource === resource) && (type === null || e.type === type) && (actorId === null || e.actorId === actorId) && (from === undefined || e.created > from) && (to === undefined || e.created < to),
  );
  matching.sort((a, b) => b.created - a.created);
  return pageList(req, matching, 100, 1000, (e) => eventJson(ctx.store, e));
}
