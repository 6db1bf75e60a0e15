// Webex model and seed: one org with people in different time zones, group and direct rooms,
// memberships, messages (including a room with 10,000 generated messages) and webhooks.
import { guid } from '../common/ids.ts';
import type { OAuthApp } from '../common/oauth.ts';

export const LARGE_ROOM_TITLE = 'Firehose';
export const LARGE_ROOM_SIZE = 10_000;

export const WEBEX_APP: OAuthApp = {
  clientId: 'C4f3b1e2d0c9a8b7f6e5d4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070',
  clientSecret: 'sbx0webex0secret0a1b2c3d4e5f60718293a4b5c6d7e8f9',
  redirectUris: ['http://localhost:8080/oauth/callback'],
  name: 'Tether (sandbox)',
};

/** Webex ids: base64 (no padding) of ciscospark://us/<TYPE>/<uuid>. */
export function webexId(type: string, uuid: string): string {
  return Buffer.from(`ciscospark://us/${type}/${uuid}`).toString('base64').replace(/=+$/, '');
}

export interface WPerson {
  id: string;
  uuid: string;
  email: string;
  displayName: string;
  firstName: string;
  lastName: string;
  timezone: string;
  orgId: string;
  created: number;
  /** Admin roles held in Control Hub: Compliance Officer is needed for the compliance APIs (events). */
  roles: WRole[];
}

export type WRole = 'full_admin' | 'compliance_officer';

/** An entry of the org's compliance event log (`GET /v1/events`): every create/delete of a message, membership or room. */
export interface WEvent {
  id: string;
  resource: 'messages' | 'memberships' | 'rooms';
  type: 'created' | 'updated' | 'deleted';
  actorId: string;
  created: number;
  data: Record<string, unknown>;
}

export interface WRoom {
  id: string;
  title: string;
  type: 'direct' | 'group';
  creatorId: string;
  created: number;
  lastActivity: number;
}

export interface WMembership {
  id: string;
  roomId: string;
  personId: string;
  isModerator: boolean;
  created: number;
}

export interface WMessage {
  id: string;
  roomId: string;
  personId: string;
  text?: string;
  markdown?: string;
  created: number;
  toPersonId?: string;
  toPersonEmail?: string;
}

export interface WWebhook {
  id: string;
  name: string;
  targetUrl: string;
  resource: string;
  event: string;
  filter?: string;
  secret?: string;
  status: 'active' | 'inactive';
  created: number;
  ownerPersonId: string;
  appId: string;
}

export class WStore {
  readonly orgId = webexId('ORGANIZATION', guid('webex-org-initech'));
  readonly people = new Map<string, WPerson>();
  readonly rooms = new Map<string, WRoom>();
  readonly memberships = new Map<string, WMembership>();
  /** Messages per room, oldest first. */
  readonly messages = new Map<string, WMessage[]>();
  readonly messageIndex = new Map<string, WMessage>();
  readonly webhooks = new Map<string, WWebhook>();
  /** The compliance event log, oldest first. */
  readonly events: WEvent[] = [];

  personByEmail(email: string): WPerson | undefined {
    const lower = email.toLowerCase();
    for (const p of this.people.values()) if (p.email === lower) return p;
    return undefined;
  }

  isMember(roomId: string, personId: string): boolean {
    for (const m of this.memberships.values()) if (m.roomId === roomId && m.personId === personId) return true;
    return false;
  }

  addRoom(room: WRoom, members: { personId: string; isModerator: boolean }[]): WRoom {
    this.rooms.set(room.id, room);
    this.messages.set(room.id, []);
    for (const m of members) this.addMembership(room.id, m.personId, m.isModerator, room.created);
    return room;
  }

  addMembership(roomId: string, personId: string, isModerator: boolean, created: number): WMembership {
    const m: WMembership = { id: webexId('MEMBERSHIP', guid(`membership-${roomId}-${personId}`)), roomId, personId, isModerator, created };
    this.memberships.set(m.id, m);
    return m;
  }

  addMessage(m: WMessage): WMessage {
    this.messages.get(m.roomId)!.push(m);
    this.messageIndex.set(m.id, m);
    const room = this.rooms.get(m.roomId)!;
    room.lastActivity = Math.max(room.lastActivity, m.created);
    return m;
  }

  recordEvent(resource: WEvent['resource'], type: WEvent['type'], actorId: string, created: number, data: Record<string, unknown>): void {
    this.events.push({ id: webexId('EVENT', guid(`event-${this.events.length}-${resource}-${type}-${String(data.id)}-${created}`)), resource, type, actorId, created, data });
  }

  directRoom(a: string, b: string): WRoom | undefined {
    for (const r of this.rooms.values()) if (r.type === 'direct' && this.isMember(r.id, a) && this.isMember(r.id, b)) return r;
    return undefined;
  }
}

const SEED_TIME = Date.UTC(2026, 0, 7, 16, 0, 0);
// Morgan is the org's full administrator; Yuki is the separate service account of seed 001 (a
// Compliance Officer cannot grant the role to themselves), with Full Administrator too; Sam has no role.
const PEOPLE: { first: string; last: string; alias: string; tz: string; roles: WRole[] }[] = [
  { first: 'Morgan', last: 'Lee', alias: 'morgan', tz: 'America/Chicago', roles: ['full_admin'] },
  { first: 'Sam', last: 'Okafor', alias: 'sam', tz: 'Africa/Lagos', roles: [] },
  { first: 'Yuki', last: 'Tanaka', alias: 'yuki', tz: 'Asia/Tokyo', roles: ['full_admin', 'compliance_officer'] },
];
export const WEBEX_DOMAIN = 'initech.test';

export function seedWebex(store: WStore): void {
  for (const p of PEOPLE) {
    const email = `${p.alias}@${WEBEX_DOMAIN}`;
    const uuid = guid(`webex-person-${email}`);
    store.people.set(webexId('PEOPLE', uuid), { id: webexId('PEOPLE', uuid), uuid, email, displayName: `${p.first} ${p.last}`, firstName: p.first, lastName: p.last, timezone: p.tz, orgId: store.orgId, created: SEED_TIME, roles: p.roles });
  }
  const [morgan, sam, yuki] = [...store.people.values()] as [WPerson, WPerson, WPerson];
  const project = store.addRoom({ id: webexId('ROOM', guid('room-project-phoenix')), title: 'Project Phoenix', type: 'group', creatorId: morgan.id, created: SEED_TIME, lastActivity: SEED_TIME }, [
    { personId: morgan.id, isModerator: true },
    { personId: sam.id, isModerator: false },
    { personId: yuki.id, isModerator: false },
  ]);
  const lines = ['Kickoff notes are in the shared folder.', 'Thanks! Reviewing today.', 'Standup moved to 9:30 CT.'];
  lines.forEach((text, i) => store.addMessage({ id: webexId('MESSAGE', guid(`msg-phoenix-${i}`)), roomId: project.id, personId: [morgan, sam, yuki][i]!.id, text, created: SEED_TIME + (i + 1) * 60_000 }));
  const direct = store.addRoom({ id: webexId('ROOM', guid('room-direct-morgan-sam')), title: 'Sam Okafor', type: 'direct', creatorId: morgan.id, created: SEED_TIME, lastActivity: SEED_TIME }, [
    { personId: morgan.id, isModerator: false },
    { personId: sam.id, isModerator: false },
  ]);
  store.addMessage({ id: webexId('MESSAGE', guid('msg-direct-0')), roomId: direct.id, personId: sam.id, text: 'Got a minute?', created: SEED_TIME + 5 * 60_000 });
  const firehose = store.addRoom({ id: webexId('ROOM', guid('room-firehose')), title: LARGE_ROOM_TITLE, type: 'group', creatorId: morgan.id, created: SEED_TIME, lastActivity: SEED_TIME }, [
    { personId: morgan.id, isModerator: true },
    { personId: yuki.id, isModerator: false },
  ]);
  for (let i = 1; i <= LARGE_ROOM_SIZE; i++) {
    store.addMessage({ id: webexId('MESSAGE', guid(`msg-firehose-${i}`)), roomId: firehose.id, personId: i % 2 ? morgan.id : yuki.id, text: `Generated message ${i} of ${LARGE_ROOM_SIZE}`, created: SEED_TIME + i * 1000 });
  }
}
