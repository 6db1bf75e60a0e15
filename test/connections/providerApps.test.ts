import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createOrgFixture, startTestTether, type OrgFixture, type TestTether } from '../support/tether.ts';

const SECRET = 'prov-app-secret-Zq81vNw0pXe4';

describe('provider apps (org admin API)', () => {
  let t: TestTether;
  let a: OrgFixture;
  before(async () => {
    t = await startTestTether();
    a = await createOrgFixture(t, 'apps');
  });
  after(() => t.stop());

  const microsoft = (extra: Record<string, unknown> = {}) => ({
    provider: 'microsoft',
    displayName: 'Contoso OneDrive',
    clientId: '11111111-2222-4333-8444-555555555555',
    clientSecret: SECRET,
    tenant: 'contoso.onmicrosoft.com',
    scopePreset: 'documents',
    ...extra,
  });

  it('creates an app whose secret is write-only, and shows the redirect URI to register', async () => {
    const res = await t.http.post('/api/v1/provider-apps', microsoft(), a.admin.session);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.redirectUri, 'http://tether.test/oauth/callback');
    assert.equal(res.body.hasClientSecret, true);
    assert.equal(res.body.profile, 'worldwide');
    assert.deepEqual(res.body.scopes, ['User.Read', 'Files.ReadWrite.All', 'Sites.ReadWrite.All']);
    assert.ok(!res.text.includes(SECRET));
    for (const path of ['/api/v1/provider-apps', `/api/v1/provider-apps/${res.body.id}`]) {
      const read = await t.http.get(path, a.member.session);
      assert.equal(read.status, 200, 'members can see the apps they may connect with');
      assert.ok(!read.text.includes(SECRET), `${path} never returns the secret`);
    }
    const db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    const row = await db.query('select client_secret from provider_apps where id = $1', [res.body.id]);
    await db.end();
    assert.ok(!row.rows[0].client_secret.toString('latin1').includes(SECRET), 'stored only encrypted');
    assert.ok(!t.logs.join('').includes(SECRET), 'never logged');
  });

  it('expands named scope presets, e.g. Webex compliance, so nobody ticks thirty boxes', async () => {
    const res = await t.http.post(
      '/api/v1/provider-apps',
      { provider: 'webex', displayName: 'Compliance', clientId: 'Cabc123', clientSecret: 'x', webexIntegrationId: 'Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OLzEyMw', scopePreset: 'webex-compliance-meetings' },
      a.admin.session,
    );
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.scopes.length, 33);
    assert.ok(res.body.scopes.includes('spark-compliance:messages_read') && res.body.scopes.includes('meeting:admin_recordings_read'));
    const catalog = await t.http.get('/api/v1/providers', a.member.session);
    const webex = catalog.body.items.find((p: { id: string }) => p.id === 'webex');
    assert.deepEqual(webex.scopePresets.map((p: { id: string }) => p.id), ['message-scheduler', 'webex-compliance', 'webex-compliance-meetings']);
  });

  it('refuses unsupported clouds by name, unknown scopes, multi-tenant aliases and a second Microsoft tenant', async () => {
    const cases: [Record<string, unknown>, number, string, RegExp?][] = [
      [microsoft({ profile: 'china' }), 422, 'unsupported_cloud', /China/],
      [microsoft({ profile: 'dod' }), 422, 'unsupported_cloud', /DoD/],
      [microsoft({ profile: 'gcc-high' }), 422, 'unsupported_cloud', /GCC High/],
      [microsoft({ profile: 'germany' }), 422, 'unsupported_cloud', /Germany/],
      [microsoft({ profile: 'nowhere' }), 422, 'unknown_profile'],
      [microsoft({ scopePreset: undefined, scopes: ['Mail.ReadWrite'] }), 422, 'unknown_scope', /Mail\.ReadWrite/],
      [microsoft({ tenant: 'common' }), 422, 'tenant_required'],
      [microsoft({ tenant: undefined }), 422, 'tenant_required'],
      [microsoft({ tenant: 'fabrikam.onmicrosoft.com' }), 409, 'tenant_conflict'],
      [{ provider: 'google', displayName: 'G', clientId: 'g', clientSecret: 's', tenant: 'x.com' }, 422, 'not_applicable'],
      [{ provider: 'google', displayName: 'G', clientId: 'g', clientSecret: 's', webexIntegrationId: 'x' }, 422, 'not_applicable'],
    ];
    const before = (await t.http.get('/api/v1/provider-apps?limit=200', a.admin.session)).body.items.length;
    for (const [body, status, code, message] of cases) {
      const res = await t.http.post('/api/v1/provider-apps', body, a.admin.session);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code);
      if (message) assert.match(res.body.error.message, message);
    }
    const usgov = await t.http.post('/api/v1/provider-apps', microsoft({ profile: 'usgov' }), a.admin.session);
    assert.equal(usgov.status, 201, 'US Government (moderate) works, on the same tenant');
    assert.equal((await t.http.get('/api/v1/provider-apps?limit=200', a.admin.session)).body.items.length, before + 1, 'nothing else was written');
  });

  it('renames, deletes and audits; members cannot change apps', async () => {
    const created = await t.http.post('/api/v1/provider-apps', { provider: 'google', displayName: 'Drive', clientId: 'g.apps.googleusercontent.com', clientSecret: 's3cr3t-value' }, a.admin.session);
    assert.equal((await t.http.patch(`/api/v1/provider-apps/${created.body.id}`, { displayName: 'Marketing Drive' }, a.member.session)).status, 403);
    const renamed = await t.http.patch(`/api/v1/provider-apps/${created.body.id}`, { displayName: 'Marketing Drive' }, a.admin.session);
    assert.equal(renamed.body.displayName, 'Marketing Drive');
    assert.equal((await t.http.delete(`/api/v1/provider-apps/${created.body.id}`, a.admin.session)).status, 204);
    assert.equal((await t.http.get(`/api/v1/provider-apps/${created.body.id}`, a.admin.session)).status, 404);
    const events = await t.http.get('/api/v1/audit-events?limit=200', a.admin.session);
    const actions = events.body.items.filter((e: { targetId: string }) => e.targetId === created.body.id).map((e: { action: string }) => e.action);
    assert.deepEqual(actions, ['provider_app.delete', 'provider_app.update', 'provider_app.create']);
  });
});
