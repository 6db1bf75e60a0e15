import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/**
 * Refresh reliability beyond a single API call: transient token-endpoint failures are retried with
 * backoff (and are not a reason to give up on the grant), and the background task keeps the tokens
 * fresh that long-running work needs, and renews refresh tokens near their expiry.
 */
describe('token refresh: backoff and the background task', () => {
  let env: ConnectEnv;
  const ids: Record<'google' | 'webex' | 'spare', string> = { google: '', webex: '', spare: '' };

  before(async () => {
    env = await startConnectEnv();
    for (const provider of ['google', 'webex'] as const) {
      const { location } = await connect(env, provider);
      ids[provider] = location.searchParams.get('connectionId')!;
    }
    const second = env.sb.google.accounts.find((a) => a.email !== env.logins.google)!.email;
    ids.spare = (await connect(env, 'google', new Browser(env), { login: second })).location.searchParams.get('connectionId')!;
  });
  after(() => env?.stop());

  const row = async (id: string) => (await env.db.query('select status, access_token_expires_at, refresh_token_expires_at, keep_fresh_until from connections where id = $1', [id])).rows[0];
  const expireIn = (id: string, interval: string) => env.db.query(`update connections set access_token_expires_at = now() + interval '${interval}' where id = $1`, [id]);

  it('retries a refresh that meets 503s from the token endpoint, and the call succeeds', async () => {
    await expireIn(ids.google, '-1 minute');
    env.sb.faults.failNext(2, { status: 503 }, { provider: 'google', pathPrefix: '/token' });
    const mark = env.sb.requestLog.mark();
    const res = await env.t.http.get(`/api/v1/connections/${ids.google}/drives`, env.org.member.session);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(tokenCalls(env, mark).map((c) => c.status), [503, 503, 200]);
    assert.equal((await row(ids.google)).status, 'active');
  });

  it('gives up after three attempts with 503 provider_unreachable, keeps the grant, and works once the provider is back', async () => {
    await expireIn(ids.google, '-1 minute');
    env.t.services.custody.forget(ids.google);
    env.sb.faults.failNext(3, { status: 503 }, { provider: 'google', pathPrefix: '/token' });
    const mark = env.sb.requestLog.mark();
    const res = await env.t.http.get(`/api/v1/connections/${ids.google}/drives`, env.org.member.session);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, 'provider_unreachable');
    assert.equal(tokenCalls(env, mark).length, 3, 'three attempts, then the caller gets the error');
    assert.equal((await row(ids.google)).status, 'active', 'a transient failure is no reason to ask the user again');
    const later = await env.t.http.get(`/api/v1/connections/${ids.google}/drives`, env.org.member.session);
    assert.equal(later.status, 200, later.text);
  });

  it('refreshes, in the background, connections that work needs and whose token expires soon — and only those', async () => {
    await expireIn(ids.google, '10 minutes');
    await expireIn(ids.spare, '10 minutes');
    await env.t.services.custody.keepFresh(env.org.orgId, ids.google, new Date(Date.now() + 3_600_000));
    await env.t.services.custody.keepFresh(env.org.orgId, ids.google, new Date(Date.now() + 60_000)); // never shortens
    assert.ok((await row(ids.google)).keep_fresh_until > new Date(Date.now() + 3_500_000));
    const mark = env.sb.requestLog.mark();
    const run = await env.t.services.custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 100 });
    assert.deepEqual(run, { due: 1, refreshed: 1, needsReauth: 0, failed: 0 });
    assert.equal(tokenCalls(env, mark).length, 1);
    assert.ok((await row(ids.google)).access_token_expires_at > new Date(Date.now() + 50 * 60_000), 'a new hour-long token');
    assert.ok((await row(ids.spare)).access_token_expires_at < new Date(Date.now() + 11 * 60_000), 'no work needs the other one: left alone');
    // A second run finds nothing to do.
    assert.deepEqual(await env.t.services.custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 100 }), { due: 0, refreshed: 0, needsReauth: 0, failed: 0 });
  });

  it('renews a Webex refresh token that expires within the horizon, even while its access token is fresh', async () => {
    await env.db.query(`update connections set refresh_token_expires_at = now() + interval '3 days', updated_at = now() - interval '2 hours' where id = $1`, [ids.webex]);
    const mark = env.sb.requestLog.mark();
    const run = await env.t.services.custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 100 });
    assert.equal(run.refreshed, 1, JSON.stringify(run));
    assert.equal(tokenCalls(env, mark).filter((c) => c.provider === 'webex').length, 1);
    assert.ok((await row(ids.webex)).refresh_token_expires_at > new Date(Date.now() + 80 * 24 * 3_600_000), 'Webex gave the refresh token a new 90 days');
  });

  it('marks a revoked grant needs-reauth in the background (webhook, no retry) and skips it afterwards', async () => {
    const hook = await env.t.http.post('/api/v1/webhooks', { url: 'https://hooks.example.com/background', events: ['connection.needs_reauth'] }, env.org.admin.session);
    assert.equal(hook.status, 201, hook.text);
    env.sb.faults.revokeGrant('google', env.sb.google.accounts.find((a) => a.email === env.logins.google)!.id);
    await expireIn(ids.google, '10 minutes');
    const mark = env.sb.requestLog.mark();
    const run = await env.t.services.custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 100 });
    assert.deepEqual(run, { due: 1, refreshed: 0, needsReauth: 1, failed: 0 });
    assert.equal(tokenCalls(env, mark).length, 1, 'invalid_grant is not retried');
    assert.equal((await row(ids.google)).status, 'needs-reauth');
    const deliveries = await env.db.query(`select count(*)::int as n from webhook_deliveries where event_type = 'connection.needs_reauth'`);
    assert.equal(deliveries.rows[0].n, 1);
    const again = await env.t.services.custody.refreshDue({ horizonMs: 15 * 60_000, refreshTokenHorizonMs: 7 * 24 * 3_600_000, limit: 100 });
    assert.equal(again.due, 0);
  });
});
