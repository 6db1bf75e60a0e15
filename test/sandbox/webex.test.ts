import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { completeSignIn, pkcePair } from '../../src/sandbox/index.ts';
import { loadOpenApi } from './spec/openapi.ts';
import { validate, type Shape } from './spec/shapes.ts';
import { form, getJson, REDIRECT, startTestSandbox, webexSignIn } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

const spec = loadOpenApi('/work/shared/specs/webex-messaging-openapi.json');
function required(name: string, fields: string[]): Shape {
  const s = spec.shape(name);
  if (s.kind !== 'object') throw new Error(name);
  return { ...s, required: new Set(fields) };
}
const PERSON = required('Person', ['id', 'emails', 'displayName', 'orgId', 'created', 'timezone', 'type']);
const ROOM = required('Room', ['id', 'title', 'type', 'isLocked', 'lastActivity', 'creatorId', 'created']);
const MEMBERSHIP = required('Membership', ['id', 'roomId', 'personId', 'personEmail', 'isModerator', 'created']);
const MESSAGE = required('Message', ['id', 'roomId', 'roomType', 'personId', 'personEmail', 'created']);
const LIST_MESSAGE = required('ListMessage', ['id', 'roomId', 'roomType', 'personId', 'personEmail', 'created']);
const WEBHOOK = required('Webhook', ['id', 'name', 'targetUrl', 'resource', 'event', 'status', 'created']);
const EVENT = spec.shape('Event');
const collection = (item: Shape): Shape => ({ kind: 'object', name: 'collection', properties: new Map([['items', { shape: () => ({ kind: 'array', items: () => item }), nullable: false }]]), required: new Set(['items']) });
const valid = (body: unknown, shape: Shape) => assert.deepEqual(validate(body, shape), [], JSON.stringify(body).slice(0, 300));

describe('Webex emulator', () => {
  let sb: Sb;
  let token: string;
  let api: string;
  before(async () => {
    sb = await startTestSandbox();
    token = (await webexSignIn(sb, 'morgan@initech.test')).access_token;
    api = sb.webex.apiBaseUrl;
  });
  after(() => sb.close());
  const call = (path: string, init: RequestInit = {}) => getJson(sb, path.startsWith('https://') ? path : api + path, token, init);
  const post = (path: string, body: unknown, t = token) => getJson(sb, api + path, t, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('completes a PKCE S256 round trip with refresh_token_expires_in and an OpenID ID token', async () => {
    const app = sb.webex.apps[0]!;
    const t = await webexSignIn(sb, 'yuki@initech.test');
    assert.equal(t.expires_in, 1_209_599);
    assert.equal(t.refresh_token_expires_in, 7_775_999);
    const disc = (await (await sb.fetch(sb.webex.discoveryUrl)).json()) as Record<string, string>;
    const jwks = (await (await sb.fetch(disc.jwks_uri!)).json()) as { keys: never[] };
    const { payload } = await jwtVerify(t.id_token!, createLocalJWKSet(jwks), { issuer: disc.issuer, audience: app.clientId });
    assert.equal(payload.email, 'yuki@initech.test');
    const refreshed = (await (await sb.fetch(sb.webex.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: app.clientId, client_secret: app.clientSecret }) })).json()) as Record<string, unknown>;
    assert.equal(refreshed.refresh_token, t.refresh_token, 'Webex returns the same refresh token unless rotation is on');
    sb.faults.setRefreshRotation('webex', true);
    const rotated = (await (await sb.fetch(sb.webex.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: app.clientId, client_secret: app.clientSecret }) })).json()) as Record<string, unknown>;
    assert.notEqual(rotated.refresh_token, t.refresh_token);
    sb.faults.setRefreshRotation('webex', false);
  });

  it('answers wrong verifier, reused code, wrong redirect URI and wrong secret with Webex error bodies', async () => {
    const app = sb.webex.apps[0]!;
    const code = async (challenge?: string) => {
      const u = new URL(sb.webex.authorizationEndpoint);
      u.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'spark:all', state: 's1', ...(challenge ? { code_challenge: challenge, code_challenge_method: 'S256' } : {}) }).toString();
      const back = await completeSignIn(sb.fetch, u.toString(), { login: 'sam@initech.test' });
      assert.equal(back.searchParams.get('state'), 's1');
      return back.searchParams.get('code')!;
    };
    const redeem = async (c: string, extra: Record<string, string> = {}) => {
      const res = await sb.fetch(sb.webex.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'authorization_code', code: c, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, ...extra }) });
      return { status: res.status, body: (await res.json()) as { message: string; errors: { description: string }[]; trackingId: string } };
    };
    const check = (r: Awaited<ReturnType<typeof redeem>>, status: number, error: string) => {
      assert.equal(r.status, status);
      assert.match(r.body.message, new RegExp(`error: '${error}'`));
      assert.equal(r.body.errors[0]!.description, r.body.message);
      assert.match(r.body.trackingId, /^ROUTER_/);
    };
    check(await redeem(await code(pkcePair().challenge), { code_verifier: pkcePair().verifier }), 400, 'invalid_grant');
    const once = await code();
    assert.equal((await redeem(once)).status, 200);
    check(await redeem(once), 400, 'invalid_grant');
    check(await redeem(await code(), { redirect_uri: 'http://localhost:8080/x' }), 400, 'invalid_request');
    check(await redeem(await code(), { client_secret: 'nope' }), 401, 'invalid_client');
  });

  it('returns people/me with timezone and finds people by email', async () => {
    const me = await call('/people/me');
    assert.equal(me.body.timezone, 'America/Chicago');
    valid(me.body, PERSON);
    const found = await call('/people?email=sam@initech.test');
    assert.equal(found.body.items.length, 1);
    assert.equal(found.body.items[0].timezone, 'Africa/Lagos');
    valid(found.body, collection(PERSON));
  });

  it('pages the 10,000-message room through Link headers, newest first, every message once', async () => {
    const rooms = await call('/rooms?max=100');
    valid(rooms.body, collection(ROOM));
    const firehose = rooms.body.items.find((r: any) => r.title === 'Firehose');
    const seen = new Set<string>();
    let url: string | undefined = `${api}/messages?roomId=${encodeURIComponent(firehose.id)}&max=1000`;
    let pages = 0;
    let lastCreated = Infinity;
    while (url) {
      const res = await call(url);
      assert.equal(res.status, 200);
      for (const m of res.body.items) {
        assert.ok(!seen.has(m.id));
        seen.add(m.id);
        const t = Date.parse(m.created);
        assert.ok(t < lastCreated);
        lastCreated = t;
      }
      if (pages === 0) valid(res.body, collection(LIST_MESSAGE));
      const link = res.headers.get('link');
      url = link ? /<([^>]+)>;\s*rel="next"/.exec(link)![1] : undefined;
      pages++;
    }
    assert.equal(pages, 10);
    assert.equal(seen.size, 10_000);
  });

  it('posts messages to rooms and people, lists memberships, and signs webhook deliveries', async () => {
    const received: { body: string; signature: string | undefined }[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-spark-signature'] as string | undefined });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const target = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webex`;
    try {
      const hook = await post('/webhooks', { name: 'tether', targetUrl: target, resource: 'messages', event: 'created', secret: 's3cr3t' });
      assert.equal(hook.status, 200);
      valid(hook.body, WEBHOOK);
      assert.equal((await call('/webhooks')).body.items.length, 1);
      const rooms = (await call('/rooms')).body.items;
      const phoenix = rooms.find((r: any) => r.title === 'Project Phoenix');
      const inRoom = await post('/messages', { roomId: phoenix.id, text: 'hello room' });
      assert.equal(inRoom.status, 200);
      valid(inRoom.body, MESSAGE);
      const byEmail = await post('/messages', { toPersonEmail: 'yuki@initech.test', markdown: '**hi** Yuki' });
      valid(byEmail.body, MESSAGE);
      assert.equal(byEmail.body.roomType, 'direct');
      assert.equal(byEmail.body.toPersonEmail, 'yuki@initech.test');
      const sam = (await call('/people?email=sam@initech.test')).body.items[0];
      const byId = await post('/messages', { toPersonId: sam.id, text: 'hi Sam' });
      assert.equal(byId.body.roomId, rooms.find((r: any) => r.type === 'direct' && r.title === 'Sam Okafor').id);
      const direct = await call('/messages/direct?personEmail=yuki@initech.test');
      assert.deepEqual(direct.body.items.map((m: any) => [m.markdown, m.text]), [['**hi** Yuki', 'hi Yuki']]);
      valid(direct.body, collection(required('DirectMessage', ['id', 'roomId', 'roomType', 'personId', 'personEmail', 'created'])));
      const withSam = await call(`/messages/direct?personId=${encodeURIComponent(sam.id)}`);
      assert.deepEqual(withSam.body.items.map((m: any) => m.text), ['hi Sam', 'Got a minute?'], 'newest first, seeded history included');
      const members = await call(`/memberships?roomId=${encodeURIComponent(phoenix.id)}`);
      valid(members.body, collection(MEMBERSHIP));
      assert.equal(members.body.items.length, 3);
      const latest = await call(`/messages?roomId=${encodeURIComponent(phoenix.id)}&max=1`);
      assert.equal(latest.body.items[0].text, 'hello room');
      for (let i = 0; i < 500 && (received.length < 3 || sb.webex.deliveries.some((d) => d.status === undefined)); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(received.length, 3);
      for (const d of received) {
        assert.equal(d.signature, createHmac('sha1', 's3cr3t').update(d.body).digest('hex'));
        const env = JSON.parse(d.body);
        assert.equal(env.resource, 'messages');
        assert.equal(env.event, 'created');
      }
      assert.equal(JSON.parse(received[0]!.body).data.id, inRoom.body.id);
      assert.equal(sb.webex.deliveries.length, 3);
      assert.ok(sb.webex.deliveries.every((d) => d.status === 200));
      const upd = await getJson(sb, `${api}/webhooks/${hook.body.id}`, token, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'renamed', targetUrl: target, status: 'inactive' }) });
      assert.equal(upd.body.status, 'inactive');
      const del = await sb.fetch(`${api}/webhooks/${hook.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      assert.equal(del.status, 204);
      assert.equal((await call(`/webhooks/${hook.body.id}`)).status, 404);
    } finally {
      receiver.close();
    }
  });

  it('answers 401, 404 and 429 with trackingId, and Retry-After on 429', async () => {
    const none = await sb.fetch(`${api}/people/me`);
    assert.equal(none.status, 401);
    const body = (await none.json()) as any;
    assert.deepEqual(Object.keys(body).sort(), ['errors', 'message', 'trackingId']);
    assert.equal(none.headers.get('trackingid'), body.trackingId);
    assert.equal((await call('/rooms/bm9wZQ')).status, 404);
    sb.faults.failNext(1, { status: 429, retryAfter: 30 }, { provider: 'webex' });
    const limited = await call('/people/me');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '30');
    assert.equal(limited.body.message, 'Too Many Requests');
    assert.ok(limited.body.trackingId);
    const renamed = { ...(await call('/people/me')).body };
    renamed.timeZone = renamed.timezone;
    delete renamed.timezone;
    assert.ok(validate(renamed, PERSON).some((e) => e.includes('timeZone: not a property of Person')));
  });

  it('validates single-resource answers against the OpenAPI schemas', async () => {
    const room = (await call('/rooms?max=1')).body.items[0];
    valid((await call(`/rooms/${room.id}`)).body, ROOM);
    const me = (await call('/people/me')).body;
    valid((await call(`/people/${me.id}`)).body, PERSON);
    const created = await post('/rooms', { title: 'Fidelity room' });
    valid(created.body, ROOM);
    const added = await post('/memberships', { roomId: created.body.id, personEmail: 'sam@initech.test' });
    valid(added.body, MEMBERSHIP);
    const msg = await post('/messages', { roomId: created.body.id, text: 'x' });
    valid((await call(`/messages/${msg.body.id}`)).body, LIST_MESSAGE);
    const hook = await post('/webhooks', { name: 'h', targetUrl: 'http://127.0.0.1:9/none', resource: 'rooms', event: 'created' });
    valid((await call('/webhooks')).body, collection(WEBHOOK));
    await sb.fetch(`${api}/webhooks/${hook.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  });

  it('lists compliance events (GET /v1/events) only to a Compliance Officer with spark-compliance:events_read, newest first', async () => {
    const compliance = 'spark:all spark-compliance:events_read openid email';
    const officer = (await webexSignIn(sb, 'yuki@initech.test', compliance)).access_token;
    const adminOnly = (await webexSignIn(sb, 'morgan@initech.test', compliance)).access_token;
    const noScope = (await webexSignIn(sb, 'yuki@initech.test')).access_token;
    assert.equal((await getJson(sb, `${api}/events?max=1`, adminOnly)).status, 403, 'a full admin without the Compliance Officer role');
    assert.equal((await getJson(sb, `${api}/events?max=1`, noScope)).status, 403, 'spark:all does not include compliance scopes');
    const text = `compliance probe ${Date.now()}`;
    const room = (await call('/rooms?max=100')).body.items.find((r: any) => r.title === 'Project Phoenix');
    const sent = await post('/messages', { roomId: room.id, text });
    const first = await getJson(sb, `${api}/events?resource=messages&type=created&max=2`, officer);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    valid(first.body, collection(EVENT));
    assert.equal(first.body.items.length, 2);
    assert.equal(first.body.items[0].data.id, sent.body.id, 'newest first');
    assert.equal(first.body.items[0].data.text, text);
    assert.equal(first.body.items[0].actorId, (await call('/people/me')).body.id);
    assert.match(first.headers.get('link') ?? '', /rel="next"/);
    const seeded = await getJson(sb, `${api}/events?resource=rooms&to=2026-01-08T00:00:00.000Z`, officer);
    assert.deepEqual(seeded.body.items.map((e: any) => e.data.id).sort(), [...sb.webex.emulator.store.rooms.values()].filter((r) => r.created < Date.parse('2026-01-08')).map((r) => r.id).sort());
    assert.equal((await getJson(sb, `${api}/events?resource=nope`, officer)).status, 400);
    const renamed = { ...first.body.items[0], actor: first.body.items[0].actorId };
    delete renamed.actorId;
    assert.ok(validate(renamed, EVENT).length > 0, 'a renamed field is caught');
  });

  it('rejects expired and revoked access tokens with 401', async () => {
    const t = await webexSignIn(sb, 'sam@initech.test');
    assert.equal((await getJson(sb, `${api}/people/me`, t.access_token)).status, 200);
    sb.expireAccessTokens('webex', 'sam@initech.test');
    assert.equal((await getJson(sb, `${api}/people/me`, t.access_token)).status, 401);
    const fresh = await webexSignIn(sb, 'sam@initech.test');
    sb.faults.revokeGrant('webex', sb.webex.accounts.find((a) => a.email === 'sam@initech.test')!.id);
    assert.equal((await getJson(sb, `${api}/people/me`, fresh.access_token)).status, 401);
    const app = sb.webex.apps[0]!;
    const refresh = await sb.fetch(sb.webex.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: fresh.refresh_token, client_id: app.clientId, client_secret: app.clientSecret }) });
    assert.equal(refresh.status, 400);
    const again = await webexSignIn(sb, 'sam@initech.test');
    assert.equal((await getJson(sb, `${api}/people/me`, again.access_token)).status, 200);
  });
});
