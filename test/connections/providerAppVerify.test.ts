import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOrgFixture, type OrgFixture } from '../support/tether.ts';
import { Receiver, verifyTetherWebhook, waitFor } from '../webhooks/receiver.ts';
import { Browser, connect, count, deliverCallback, PROVIDERS, RETURN_ORIGIN, RETURN_TO, signInAtProvider, startConnectEnv, tokenCalls, type ConnectEnv, type ProviderId } from './support.ts';

/**
 * Seed 001's admin set-up, end to end against the sandbox: verify (authorize once as the app's
 * service account through the sandbox's sign-in page, then real API calls with its token, reported
 * step by step) and reconfigure (new secret and/or scopes: the org's tokens are reset, every
 * connection of the app is flagged needs-reauth with webhook and audit, nothing else is lost).
 */
describe('provider app verify and reconfigure (sandbox)', () => {
  let env: ConnectEnv;
  let other: OrgFixture;
  const receiver = new Receiver();
  /** The service account per provider: Webex compliance needs a Compliance Officer (Yuki), not the admin (Morgan). */
  const serviceLogin = (p: ProviderId) => (p === 'webex' ? 'yuki@initech.test' : env.logins[p]);
  const appPath = (p: ProviderId, suffix = '') => `/api/v1/provider-apps/${env.apps[p].id}${suffix}`;

  before(async () => {
    await receiver.start();
    env = await startConnectEnv({
      scopePresets: { webex: 'webex-compliance', google: 'documents', microsoft: 'documents' },
      tetherEnv: { TETHER_JOBS_ENABLED: 'true', TETHER_WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', TETHER_WEBHOOKS_RETRY_BASE_MS: '50', TETHER_WEBHOOKS_RETRY_MAX_MS: '200' },
    });
    other = await createOrgFixture(env.t, 'verify-other');
  });
  after(async () => {
    await env?.stop();
    await receiver.stop();
  });

  /** POST verify → 202, then the admin's browser: open the URL, sign in at the sandbox, follow the callback. */
  async function authorizeAndVerify(provider: ProviderId, login = serviceLogin(provider), body: Record<string, unknown> = {}) {
    const started = await env.t.http.post(appPath(provider, '/verify'), { returnTo: RETURN_TO, ...body }, env.org.admin.session);
    assert.equal(started.status, 202, started.text);
    assert.equal(started.body.status, 'authorization_required');
    assert.ok(Date.parse(started.body.expiresAt) > Date.now());
    const browser = new Browser(env);
    const opened = await browser.get(started.body.url);
    assert.equal(opened.status, 303, opened.body_);
    const callback = await signInAtProvider(env, provider, new URL(opened.headers.get('location')!), login);
    const { location, res } = await deliverCallback(browser, callback);
    assert.ok(location, `callback answered ${res.status}: ${res.body_}`);
    return location;
  }

  async function appRow(provider: ProviderId) {
    return (await env.db.query('select * from provider_apps where id = $1', [env.apps[provider].id])).rows[0];
  }

  for (const provider of PROVIDERS) {
    it(`${provider}: authorizes the service account through the sign-in page, checks it with real API calls, and re-verifies at once`, async () => {
      const location = await authorizeAndVerify(provider);
      assert.equal(location.origin, RETURN_ORIGIN);
      assert.deepEqual([...location.searchParams.keys()].sort(), ['providerAppId', 'tab', 'verification']);
      assert.equal(location.searchParams.get('providerAppId'), env.apps[provider].id);
      assert.equal(location.searchParams.get('verification'), 'passed');

      const got = await env.t.http.get(appPath(provider), env.org.admin.session);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.status, 'verified');
      assert.ok(got.body.verifiedAt);
      const v = got.body.verification;
      assert.equal(v.status, 'passed');
      assert.deepEqual(v.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`), ['token:passed', 'scopes:passed', 'identity:passed', 'capability:passed'], JSON.stringify(v.steps));
      assert.equal(v.account.email, serviceLogin(provider));
      const capability = { microsoft: 'GET /me/drive', google: 'GET /drive/v3/files?pageSize=1&fields=files%28id%29', webex: 'GET /events?max=1' }[provider];
      assert.equal(v.steps[3].request, capability);
      assert.equal(got.body.serviceConnectionId, v.connectionId);
      const service = (await env.db.query('select owner_user_id, status, refresh_token from connections where id = $1', [v.connectionId])).rows[0];
      assert.equal(service.owner_user_id, env.org.admin.id, 'the admin who authorized owns the service account connection');
      assert.equal(service.status, 'active');
      assert.ok(Buffer.isBuffer(service.refresh_token));

      // A working service account: the checks run now, with real calls and no new authorization.
      const mark = env.sb.requestLog.mark();
      const again = await env.t.http.post(appPath(provider, '/verify'), {}, env.org.admin.session);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.status, 'passed');
      assert.equal(again.body.providerApp.verification.checkedAt, again.body.verification.checkedAt);
      assert.ok(Date.parse(again.body.verification.checkedAt) > Date.parse(v.checkedAt));
      const calls = env.sb.requestLog.since(mark).filter((e) => e.provider === provider).map((e) => e.path.split('?')[0]);
      const expected = { microsoft: ['/v1.0/me', '/v1.0/me/drive'], google: ['/drive/v3/about', '/drive/v3/files'], webex: ['/v1/people/me', '/v1/events'] }[provider];
      assert.deepEqual(calls, expected);
      assert.equal(tokenCalls(env, mark).length, 0);
    });
  }

  it('reports a failing check with its step and code: a Webex full admin who is not a Compliance Officer, and a Graph 403', async () => {
    const location = await authorizeAndVerify('webex', 'morgan@initech.test', { reauthorize: true });
    assert.equal(location.searchParams.get('verification'), 'failed');
    const got = await env.t.http.get(appPath('webex'), env.org.admin.session);
    assert.equal(got.body.status, 'verification_failed');
    const [token, scopes, identity, capability] = got.body.verification.steps;
    assert.deepEqual([token.status, scopes.status, identity.status], ['passed', 'passed', 'passed']);
    assert.equal(capability.status, 'failed');
    assert.equal(capability.code, 'provider_forbidden');
    assert.equal(capability.request, 'GET /events?max=1');
    assert.match(capability.message, /HTTP 403.*Compliance Officer/);
    assert.ok(!/trackingId|refused or access is not allowed/i.test(got.text), 'no upstream body in the report');
    assert.equal(got.body.verification.account.email, 'morgan@initech.test');
    // The right account again.
    assert.equal((await authorizeAndVerify('webex', 'yuki@initech.test', { reauthorize: true })).searchParams.get('verification'), 'passed');

    env.sb.faults.failNext(1, { status: 403 }, { provider: 'microsoft', pathPrefix: '/v1.0/me/drive' });
    const failed = await env.t.http.post(appPath('microsoft', '/verify'), {}, env.org.admin.session);
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.body.status, 'failed');
    assert.deepEqual(failed.body.verification.steps.map((s: { status: string }) => s.status), ['passed', 'passed', 'passed', 'failed']);
    assert.equal(failed.body.verification.steps[3].code, 'provider_forbidden');
    assert.equal(failed.body.providerApp.status, 'verification_failed');
    assert.ok(failed.body.providerApp.verifiedAt, 'the last passing verification is still dated');
    const audit = await env.db.query(`select outcome, details from audit_events where action = 'provider_app.verify' and target_id = $1 order by created_at desc limit 1`, [env.apps.microsoft.id]);
    assert.equal(audit.rows[0].outcome, 'failure');
    assert.equal(audit.rows[0].details.step, 'capability');
    assert.equal(audit.rows[0].details.code, 'provider_forbidden');
  });

  it('a revoked service account grant fails with needs_reauth, flags the connection, and the next verify asks to authorize again', async () => {
    const alice = env.sb.google.accounts.find((a) => a.email === env.logins.google)!;
    env.sb.faults.revokeGrant('google', alice.id);
    const failed = await env.t.http.post(appPath('google', '/verify'), {}, env.org.admin.session);
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.body.status, 'failed');
    const identity = failed.body.verification.steps.find((s: { id: string }) => s.id === 'identity');
    assert.equal(identity.code, 'needs_reauth', JSON.stringify(failed.body.verification.steps));
    const service = (await env.db.query('select status from connections where id = $1', [failed.body.verification.connectionId])).rows[0];
    assert.equal(service.status, 'needs-reauth');
    const noReturn = await env.t.http.post(appPath('google', '/verify'), {}, env.org.admin.session);
    assert.equal(noReturn.status, 422, noReturn.text);
    assert.equal(noReturn.body.error.code, 'return_to_required');
    const location = await authorizeAndVerify('google');
    assert.equal(location.searchParams.get('verification'), 'passed');
    assert.equal((await appRow('google')).service_connection_id, failed.body.verification.connectionId, 'the same account reconnected: the same connection');
  });

  it('reconfigure with a new secret: the service tokens are deleted, every connection needs-reauth with the reason, webhook and audit; a reconnect restores the same connection', async () => {
    const hook = await env.t.http.post('/api/v1/webhooks', { url: `${receiver.url}/reauth`, events: ['connection.needs_reauth'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
    const member = await connect(env, 'google');
    const memberId = member.location.searchParams.get('connectionId')!;
    const shared = await connect(env, 'google', new Browser(env), { auth: env.org.admin.session, login: 'bruno@globex.test', body: { name: 'Team drive', shared: { groupIds: [env.org.group.id] } } });
    const sharedId = shared.location.searchParams.get('connectionId')!;
    const sharedBefore = (await env.t.http.get(`/api/v1/connections/${sharedId}`, env.org.admin.session)).body;
    const before = await appRow('google');
    const serviceId = before.service_connection_id as string;
    assert.ok(serviceId);

    // The admin regenerates the secret at the provider (the old one stops working there), then gives it to Tether.
    const since = (await env.db.query('select clock_timestamp() as t')).rows[0].t;
    const regenerated = env.sb.registerApp('google', { clientId: env.apps.google.clientId, redirectUris: [`${env.t.config.publicUrl}/oauth/callback`] });
    const res = await env.t.http.post(appPath('google', '/reconfigure'), { clientSecret: regenerated.clientSecret }, env.org.admin.session);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.connectionsFlagged, 3, 'member, shared and service account connections');
    assert.equal(res.body.providerApp.status, 'unverified');
    assert.equal(res.body.providerApp.verification, null);
    assert.equal(res.body.providerApp.verifiedAt, null);
    assert.ok(!res.text.includes(regenerated.clientSecret));

    const after = await appRow('google');
    assert.equal(after.configuration_version, before.configuration_version + 1);
    assert.ok(!after.client_secret.equals(before.client_secret));
    assert.ok(!after.client_secret.toString('latin1').includes(regenerated.clientSecret));
    const rows = (await env.db.query('select id, status, status_reason, access_token, refresh_token from connections where id = any($1)', [[memberId, sharedId, serviceId]])).rows;
    for (const row of rows) {
      assert.equal(row.status, 'needs-reauth');
      assert.equal(row.status_reason, 'provider_app_reconfigured');
      assert.equal(row.access_token, null);
    }
    const service = rows.find((r) => r.id === serviceId)!;
    assert.equal(service.refresh_token, null, "the org's own tokens are gone, not only unusable");
    const use = await env.t.http.get(`/api/v1/connections/${memberId}/items?limit=1`, env.org.member.session);
    assert.equal(use.status, 409, use.text);
    assert.equal(use.body.error.code, 'needs_reauth');

    // The webhook, delivered and signed, once per connection, with the reason.
    const deliveries = await waitFor('three needs_reauth deliveries', async () => (receiver.received.filter((r) => r.path === '/reauth').length >= 3 ? receiver.received.filter((r) => r.path === '/reauth') : undefined));
    assert.deepEqual(deliveries.map((d) => JSON.parse(d.body).data.connectionId).sort(), [memberId, sharedId, serviceId].sort());
    for (const d of deliveries) {
      assert.equal(JSON.parse(d.body).data.reason, 'provider_app_reconfigured');
      assert.ok(verifyTetherWebhook(hook.body.signingSecret, d.headers, d.body));
    }
    const audits = await env.db.query(`select action, actor_id, details from audit_events where ((action = 'provider_app.reconfigure' and target_id = $1) or (action = 'connection.needs_reauth' and target_id = any($2))) and created_at > $3 order by action`, [env.apps.google.id, [memberId, sharedId, serviceId], since]);
    assert.deepEqual(audits.rows.map((r) => r.action), ['connection.needs_reauth', 'connection.needs_reauth', 'connection.needs_reauth', 'provider_app.reconfigure']);
    assert.ok(audits.rows.every((r) => r.actor_id === env.org.admin.id), 'audited as the admin who reconfigured');
    const reconfigure = audits.rows.at(-1)!.details;
    assert.equal(reconfigure.clientSecretChanged, true);
    assert.equal(reconfigure.connectionsFlagged, 3);
    assert.ok(!JSON.stringify(audits.rows).includes(regenerated.clientSecret));

    // Nothing else lost: reconnecting the same accounts brings the same connections back (the new secret is used).
    const mark = env.sb.requestLog.mark();
    const again = await connect(env, 'google');
    assert.equal(again.location.searchParams.get('status'), 'updated');
    assert.equal(again.location.searchParams.get('connectionId'), memberId);
    assert.equal(tokenCalls(env, mark).length, 1);
    assert.equal((await env.t.http.get(`/api/v1/connections/${memberId}`, env.org.member.session)).body.status, 'active');
    const sharedAgain = await connect(env, 'google', new Browser(env), { auth: env.org.admin.session, login: 'bruno@globex.test' });
    assert.equal(sharedAgain.location.searchParams.get('connectionId'), sharedId);
    const sharedAfter = (await env.t.http.get(`/api/v1/connections/${sharedId}`, env.org.admin.session)).body;
    assert.equal(sharedAfter.status, 'active');
    for (const field of ['name', 'shared', 'groupIds', 'handle', 'ownerUserId', 'createdAt']) assert.deepEqual(sharedAfter[field], sharedBefore[field], field);
    assert.equal((await authorizeAndVerify('google')).searchParams.get('verification'), 'passed');
    assert.equal((await appRow('google')).service_connection_id, serviceId);
    assert.ok(!env.t.logs.join('').includes(regenerated.clientSecret), 'the new secret is never logged');
  });

  it('reconfigure scopes: a preset or catalog scopes are stored, unknown scopes are refused and change nothing', async () => {
    const snapshot = async () => ({
      app: await appRow('webex'),
      connections: (await env.db.query(`select id, status, status_reason, version from connections where provider_app_id = $1 order by id`, [env.apps.webex.id])).rows,
      sessions: await count(env.db, 'connect_sessions'),
      audit: await count(env.db, 'audit_events'),
    });
    const before = await snapshot();
    const refused = [
      [{ scopes: ['spark:all', 'spark-compliance:everything'] }, 422, 'unknown_scope'],
      [{ scopePreset: 'nope' }, 422, 'unknown_scope'],
      [{}, 400, 'validation_failed'],
      [{ clientSecret: '' }, 400, 'validation_failed'],
      [{ clientSecret: 'x', tenant: 'contoso.onmicrosoft.com' }, 400, 'validation_failed'],
    ] as const;
    for (const [body, status, code] of refused) {
      const res = await env.t.http.post(appPath('webex', '/reconfigure'), body, env.org.admin.session);
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code);
    }
    assert.deepEqual(await snapshot(), before, 'nothing changed');

    const res = await env.t.http.post(appPath('webex', '/reconfigure'), { scopePreset: 'webex-compliance-meetings' }, env.org.admin.session);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.providerApp.scopes.length, 33);
    assert.ok(res.body.providerApp.scopes.includes('meeting:admin_recordings_read'));
    assert.equal(res.body.connectionsFlagged, before.connections.filter((c: { status: string }) => c.status === 'active').length);
    const audit = await env.db.query(`select details from audit_events where action = 'provider_app.reconfigure' and target_id = $1`, [env.apps.webex.id]);
    assert.deepEqual(audit.rows[0].details.scopesAdded, ['meeting:recordings_read', 'meeting:admin_recordings_read']);
    assert.equal(audit.rows[0].details.clientSecretChanged, false);
    // The service account authorizes the new scopes and the checks pass again.
    const location = await authorizeAndVerify('webex');
    assert.equal(location.searchParams.get('verification'), 'passed');
  });

  it('refuses a returnTo off the allowlist before anything is stored', async () => {
    const sessions = await count(env.db, 'connect_sessions');
    for (const returnTo of ['https://evil.example/x', '//evil.example', 'javascript:alert(1)']) {
      const res = await env.t.http.post(appPath('microsoft', '/verify'), { returnTo, reauthorize: true }, env.org.admin.session);
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error.code, 'return_to_not_allowed');
    }
    assert.equal(await count(env.db, 'connect_sessions'), sessions);
  });

  it('members get 403, another org’s admin 404, and nothing changes', async () => {
    const snapshot = async () => (await env.db.query('select * from provider_apps where org_id = $1 order by id', [env.org.orgId])).rows;
    const before = await snapshot();
    const sessions = await count(env.db, 'connect_sessions');
    for (const provider of PROVIDERS) {
      for (const [path, body] of [[appPath(provider, '/verify'), { returnTo: RETURN_TO }], [appPath(provider, '/reconfigure'), { clientSecret: 'not-the-secret' }]] as const) {
        const asMember = await env.t.http.post(path, body, env.org.member.session);
        assert.equal(asMember.status, 403, asMember.text);
        assert.equal(asMember.body.error.code, 'forbidden');
        const asOther = await env.t.http.post(path, body, other.admin.session);
        assert.equal(asOther.status, 404, asOther.text);
        assert.equal(asOther.body.error.code, 'not_found');
      }
    }
    assert.deepEqual(await snapshot(), before);
    assert.equal(await count(env.db, 'connect_sessions'), sessions);
  });

  it('deleting the service account connection unlinks it; deleting the app deletes its connections', async () => {
    const serviceId = (await appRow('microsoft')).service_connection_id as string;
    assert.ok(serviceId);
    const deleted = await env.t.http.delete(`/api/v1/connections/${serviceId}`, env.org.admin.session);
    assert.equal(deleted.status, 200, deleted.text);
    const got = await env.t.http.get(appPath('microsoft'), env.org.admin.session);
    assert.equal(got.body.serviceConnectionId, null);
    assert.equal((await env.t.http.post(appPath('microsoft', '/verify'), { returnTo: RETURN_TO }, env.org.admin.session)).status, 202);
    await authorizeAndVerify('microsoft');
    assert.ok((await appRow('microsoft')).service_connection_id);
    assert.equal((await env.t.http.delete(appPath('microsoft'), env.org.admin.session)).status, 204);
    assert.equal((await env.db.query('select count(*)::int as n from connections where provider_app_id = $1', [env.apps.microsoft.id])).rows[0].n, 0);
  });
});
