import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrgFixture, signIn, type Auth, type OrgFixture } from '../support/tether.ts';
import { connectionsRepository } from '../../src/repositories/connections.ts';
import { providerAppsRepository } from '../../src/repositories/providerApps.ts';
import { usersRepository } from '../../src/repositories/users.ts';
import { sha256 } from '../../src/security/tokens.ts';
import { storeConnection } from './fixtures.ts';
import { Browser, connect, count, startConnectEnv, type ConnectEnv } from './support.ts';

/** Who sees and changes which connection; deletion revokes at the provider where it can. */
describe('connections API', () => {
  let env: ConnectEnv;
  let other: { id: string; session: Auth };
  before(async () => {
    env = await startConnectEnv();
    // A second member of the same org, in no group.
    const password = 'another-member-password';
    const res = await env.t.http.post('/api/v1/users', { email: 'other@connect.test', displayName: 'Other', role: 'member', password }, env.org.admin.session);
    assert.equal(res.status, 201, res.text);
    other = { id: res.body.id, session: await signIn(env.t.http, env.org.slug, 'other@connect.test', password) };
  });
  after(() => env?.stop());

  const ids = async (auth: Auth) => {
    const res = await env.t.http.get('/api/v1/connections?limit=200', auth);
    assert.equal(res.status, 200, res.text);
    return res.body.items.map((c: { id: string }) => c.id) as string[];
  };

  it('lists own connections, shared ones of the caller’s groups, and everything to admins; group removal takes effect at once', async () => {
    const own = await storeConnection(env.t, env.db, env.org);
    const others = await storeConnection(env.t, env.db, env.org, { ownerId: other.id });
    const shared = await storeConnection(env.t, env.db, env.org, { ownerId: env.org.admin.id, shared: [env.org.group.id] });
    const member = await ids(env.org.member.session);
    assert.ok(member.includes(own) && member.includes(shared) && !member.includes(others));
    const viaKey = await ids(env.org.asMember);
    assert.deepEqual(viaKey.toSorted(), member.toSorted());
    const theOther = await ids(other.session);
    assert.ok(theOther.includes(others) && !theOther.includes(own) && !theOther.includes(shared));
    const admin = await ids(env.org.admin.session);
    for (const id of [own, others, shared]) assert.ok(admin.includes(id));
    // Not visible → 404, exactly like an id that does not exist.
    const hidden = await env.t.http.get(`/api/v1/connections/${own}`, other.session);
    const missing = await env.t.http.get(`/api/v1/connections/${crypto.randomUUID()}`, other.session);
    assert.equal(hidden.status, 404);
    assert.deepEqual(hidden.body, missing.body);
    const view = await env.t.http.get(`/api/v1/connections/${shared}`, env.org.member.session);
    assert.equal(view.status, 200);
    assert.equal(view.body.shared, true);
    assert.match(view.body.handle, /^tch_[A-Za-z0-9_-]{32}$/);
    // Seed 002: the host app resolves the opaque handle as whoever is viewing.
    const byHandle = await env.t.http.get(`/api/v1/connections/by-handle/${view.body.handle}`, env.org.asMember);
    assert.equal(byHandle.status, 200, byHandle.text);
    assert.equal(byHandle.body.id, shared);
    const notInGroup = await env.t.http.get(`/api/v1/connections/by-handle/${view.body.handle}`, other.session);
    assert.equal(notInGroup.status, 404);
    assert.deepEqual(notInGroup.body, (await env.t.http.get('/api/v1/connections/by-handle/tch_unknown', other.session)).body);
    // The member leaves the group: the shared connection disappears from their view at once.
    assert.equal((await env.t.http.patch(`/api/v1/users/${env.org.member.id}`, { groupIds: [] }, env.org.admin.session)).status, 200);
    assert.ok(!(await ids(env.org.member.session)).includes(shared));
    assert.equal((await env.t.http.get(`/api/v1/connections/${shared}`, env.org.member.session)).status, 404);
    assert.equal((await env.t.http.get(`/api/v1/connections/by-handle/${view.body.handle}`, env.org.asMember)).status, 404);
    assert.equal((await env.t.http.patch(`/api/v1/users/${env.org.member.id}`, { groupIds: [env.org.group.id] }, env.org.admin.session)).status, 200);
  });

  it('reads a visible connection with its provider app in one query, exactly as the two separate reads do', async () => {
    const db = env.t.database.db;
    const own = await storeConnection(env.t, env.db, env.org);
    const others = await storeConnection(env.t, env.db, env.org, { ownerId: other.id });
    const shared = await storeConnection(env.t, env.db, env.org, { ownerId: other.id, shared: [env.org.group.id] });
    // A verified app too, so that every column (timestamps, JSON, bytea) has a value to compare.
    await env.db.query(`update provider_apps set verified_at = now(), verification = '{"ok":true}' where id = $1`, [env.org.providerApp.id]);
    const member = { userId: env.org.member.id, admin: false };
    for (const id of [own, shared]) {
      const joined = await connectionsRepository.findVisibleWithApp(db, env.org.orgId, id, member);
      assert.ok(joined, 'visible to the member');
      assert.deepEqual(joined.connection, await connectionsRepository.findById(db, env.org.orgId, id));
      assert.deepEqual(joined.app, await providerAppsRepository.findById(db, env.org.orgId, env.org.providerApp.id));
      assert.ok(joined.app.verified_at instanceof Date && Buffer.isBuffer(joined.app.client_secret));
    }
    assert.equal(await connectionsRepository.findVisibleWithApp(db, env.org.orgId, others, member), undefined, "another member's own connection");
    assert.equal(await connectionsRepository.findVisibleWithApp(db, crypto.randomUUID(), own, member), undefined, 'another org');
    assert.ok(await connectionsRepository.findVisibleWithApp(db, env.org.orgId, others, { userId: env.org.admin.id, admin: true }), 'org admins see all');

    // The API-key fast path (key, user, connection and app in one prepared statement) reads the same rows.
    const pool = env.t.database.pool;
    const hash = sha256(env.org.apiKey.key);
    for (const id of [own, shared]) {
      const fast = await connectionsRepository.findVisibleWithAppForApiKey(pool, { hash, userRef: env.org.member.externalId, connectionId: id });
      assert.ok(fast, 'visible to the member');
      assert.deepEqual(fast.connection, await connectionsRepository.findById(db, env.org.orgId, id));
      assert.deepEqual(fast.app, await providerAppsRepository.findById(db, env.org.orgId, env.org.providerApp.id));
      assert.deepEqual(fast.user, await usersRepository.findById(db, env.org.orgId, env.org.member.id));
      assert.deepEqual(fast.apiKey, { id: env.org.apiKey.id, org_id: env.org.orgId });
    }
    assert.equal(await connectionsRepository.findVisibleWithAppForApiKey(pool, { hash, userRef: env.org.member.id, connectionId: others }), undefined, "another member's own connection");
    assert.ok(await connectionsRepository.findVisibleWithAppForApiKey(pool, { hash, userRef: env.org.admin.id, connectionId: others }), 'org admins see all');

    // A migration that adds a column while Tether runs must not break the statement its pooled
    // sessions have prepared (Postgres refuses a cached plan whose result columns changed).
    const fastRead = () => connectionsRepository.findVisibleWithAppForApiKey(pool, { hash, userRef: env.org.member.externalId, connectionId: own });
    await Promise.all(Array.from({ length: 8 }, fastRead));
    await env.db.query('alter table connections add column added_later integer');
    try {
      for (const found of await Promise.all(Array.from({ length: 8 }, fastRead))) assert.equal(found?.connection.id, own);
    } finally {
      await env.db.query('alter table connections drop column added_later');
    }
  });

  it("never shows another org's connections", async () => {
    const b: OrgFixture = await createOrgFixture(env.t, 'connect-b');
    const theirs = await storeConnection(env.t, env.db, b);
    for (const auth of [env.org.admin.session, env.org.asAdmin, env.org.member.session]) {
      assert.ok(!(await ids(auth)).includes(theirs));
      assert.equal((await env.t.http.get(`/api/v1/connections/${theirs}`, auth)).status, 404);
      assert.equal((await env.t.http.delete(`/api/v1/connections/${theirs}`, auth)).status, 404);
    }
    assert.equal((await env.db.query('select count(*)::int as n from connections where id = $1', [theirs])).rows[0].n, 1);
  });

  it('renames (owner or admin), changes groups (admins, shared only), and refuses others', async () => {
    const own = await storeConnection(env.t, env.db, env.org);
    const shared = await storeConnection(env.t, env.db, env.org, { ownerId: env.org.admin.id, shared: [env.org.group.id] });
    const renamed = await env.t.http.patch(`/api/v1/connections/${own}`, { name: 'Marketing OneDrive' }, env.org.member.session);
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'Marketing OneDrive');
    assert.equal((await env.t.http.patch(`/api/v1/connections/${shared}`, { name: 'x' }, env.org.member.session)).status, 403, 'a viewer of a shared connection cannot change it');
    assert.equal((await env.t.http.patch(`/api/v1/connections/${own}`, { groupIds: [] }, env.org.member.session)).status, 403);
    const notShared = await env.t.http.patch(`/api/v1/connections/${own}`, { groupIds: [env.org.group.id] }, env.org.admin.session);
    assert.equal(notShared.status, 422);
    const regrouped = await env.t.http.patch(`/api/v1/connections/${shared}`, { groupIds: [] }, env.org.admin.session);
    assert.equal(regrouped.status, 200, regrouped.text);
    assert.deepEqual(regrouped.body.groupIds, []);
    assert.ok(!(await ids(env.org.member.session)).includes(shared));
    const unknown = await env.t.http.patch(`/api/v1/connections/${shared}`, { groupIds: [crypto.randomUUID()] }, env.org.admin.session);
    assert.equal(unknown.body.error.code, 'unknown_group');
  });

  it('deletes a Google connection: revoked at Google (its /revoke endpoint called once, 200), tokens gone; webhooks for create and delete', async () => {
    const hook = await env.t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/tether', events: ['connection.created', 'connection.deleted'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
    const { location } = await connect(env, 'google', new Browser(env));
    const id = location.searchParams.get('connectionId')!;
    const row = (await env.db.query('select * from connections where id = $1', [id])).rows[0];
    const mark = env.sb.requestLog.mark();
    assert.equal((await env.t.http.delete(`/api/v1/connections/${id}`, other.session)).status, 404, 'not visible to another member');
    const res = await env.t.http.delete(`/api/v1/connections/${id}`, env.org.member.session);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.revocation.status, 'revoked');
    const revokes = env.sb.requestLog.since(mark).filter((e) => e.provider === 'google' && e.path === '/revoke');
    assert.equal(revokes.length, 1);
    assert.equal(revokes[0]!.status, 200);
    assert.equal(await count(env.db, `connections where id = '${id}'`), 0);
    assert.equal((await env.t.http.get(`/api/v1/connections/${id}`, env.org.member.session)).status, 404);
    const audit = await env.db.query(`select details from audit_events where action = 'connection.delete' and target_id = $1`, [id]);
    assert.equal(audit.rows[0].details.revocation, 'revoked');
    assert.ok(row.refresh_token, 'there was a refresh token to revoke');
    const events = await env.db.query(`select event_type, data from webhook_deliveries where data->>'connectionId' = $1 order by seq`, [id]);
    assert.deepEqual(events.rows.map((r) => r.event_type), ['connection.created', 'connection.deleted']);
    assert.equal(events.rows[1].data.revocation, 'revoked');
    assert.equal((await env.t.http.delete(`/api/v1/webhooks/${hook.body.webhook.id}`, env.org.admin.session)).status, 204);
  });

  it('deletes a Microsoft connection and says that Microsoft has no per-token revocation', async () => {
    const { location } = await connect(env, 'microsoft', new Browser(env));
    const id = location.searchParams.get('connectionId')!;
    const res = await env.t.http.delete(`/api/v1/connections/${id}`, env.org.admin.session);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.revocation.status, 'not_supported');
    assert.match(res.body.revocation.message, /Microsoft has no per-token revocation/);
    assert.equal(await count(env.db, `connections where id = '${id}'`), 0);
  });

  it('still deletes the tokens when the provider cannot be reached, and says so', async () => {
    const { location } = await connect(env, 'google', new Browser(env));
    const id = location.searchParams.get('connectionId')!;
    env.sb.faults.failNext(1, { status: 503 }, { provider: 'google', pathPrefix: '/revoke' });
    const res = await env.t.http.delete(`/api/v1/connections/${id}`, env.org.member.session);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.revocation.status, 'failed');
    assert.equal(await count(env.db, `connections where id = '${id}'`), 0);
    env.sb.faults.reset();
  });
});
