import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, beginConnect, connect, count, deliverCallback, RETURN_ORIGIN, RETURN_TO, signInAtProvider, startConnectEnv, tokenCalls, type ConnectEnv, type ProviderId } from './support.ts';

/**
 * The adversarial list for the connect flow: each callback is refused, nothing is stored, and
 * the sandbox's request log shows no call to any token endpoint.
 */
describe('connect flow: adversarial callbacks and returnTo values', () => {
  let env: ConnectEnv;
  before(async () => {
    env = await startConnectEnv();
  });
  after(() => env?.stop());

  /** Runs the flow up to the provider's redirect, without delivering it. */
  async function pendingCallback(provider: ProviderId = 'microsoft', browser = new Browser(env)) {
    const { authorizeUrl } = await beginConnect(env, provider, browser);
    const callback = await signInAtProvider(env, provider, authorizeUrl);
    return { browser, callback };
  }

  /** Delivers `callback` in `browser`; asserts it was refused as expected, with nothing stored and no token request. */
  async function assertRefused(browser: Browser, callback: URL | string, expected: { error: string } | { page: 400 }) {
    const connections = await count(env.db, 'connections');
    const mark = env.sb.requestLog.mark();
    const { res, location } = await deliverCallback(browser, callback);
    if ('page' in expected) {
      assert.equal(res.status, 400, res.body_);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    } else {
      assert.ok(location, `expected a redirect, got ${res.status} ${res.body_}`);
      assert.equal(location.origin, RETURN_ORIGIN);
      assert.equal(location.searchParams.get('status'), 'error');
      assert.equal(location.searchParams.get('error'), expected.error);
      assert.equal(location.searchParams.get('connectionId'), null);
      assert.ok(!location.searchParams.has('code') && !location.href.includes(new URL(callback).searchParams.get('code') ?? '\0'), 'the code is never passed on');
    }
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.deepEqual(tokenCalls(env, mark), [], 'no request to a token endpoint');
    assert.equal(await count(env.db, 'connections'), connections, 'nothing stored');
    return res;
  }

  it('refuses a missing or unknown state with an error page', async () => {
    const { browser, callback } = await pendingCallback();
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    await assertRefused(browser, missing, { page: 400 });
    const wrong = new URL(callback);
    wrong.searchParams.set('state', 'x'.repeat(43));
    await assertRefused(browser, wrong, { page: 400 });
    // The session was never claimed: the genuine callback still works.
    const { location } = await deliverCallback(browser, callback);
    assert.equal(location?.searchParams.get('status'), 'created');
  });

  it('refuses a reused state (replayed callback)', async () => {
    const { browser, callback } = await pendingCallback('google');
    const first = await deliverCallback(browser, callback);
    assert.ok(['created', 'updated'].includes(first.location!.searchParams.get('status')!));
    await assertRefused(browser, callback, { error: 'connect_session_used' });
  });

  it('lets exactly one of two concurrent deliveries of the same callback through (one code exchange)', async () => {
    const { browser, callback } = await pendingCallback('webex');
    const mark = env.sb.requestLog.mark();
    const results = await Promise.all([deliverCallback(browser, callback), deliverCallback(browser, callback)]);
    const statuses = results.map((r) => r.location?.searchParams.get('status') === 'error' ? r.location.searchParams.get('error') : 'ok').sort();
    assert.deepEqual(statuses, ['connect_session_used', 'ok']);
    assert.equal(tokenCalls(env, mark).length, 1);
  });

  it("refuses a callback from another browser (no binding cookie, or another session's cookie), and spends the state", async () => {
    const { browser, callback } = await pendingCallback();
    const otherBrowser = new Browser(env);
    await beginConnect(env, 'microsoft', otherBrowser); // has a cookie of its own session
    await assertRefused(otherBrowser, callback, { error: 'browser_mismatch' });
    await assertRefused(browser, callback, { error: 'connect_session_used' });
  });

  it("refuses an attacker's callback (their code, their state) delivered in the victim's browser", async () => {
    const attacker = await pendingCallback('google', new Browser(env));
    const victim = new Browser(env);
    await beginConnect(env, 'google', victim);
    await assertRefused(victim, attacker.callback, { error: 'browser_mismatch' });
  });

  it('refuses an expired session', async () => {
    const { browser, callback } = await pendingCallback();
    await env.db.query(`update connect_sessions set expires_at = now() - interval '1 second' where used_at is null and opened_at is not null`);
    await assertRefused(browser, callback, { error: 'connect_session_expired' });
    // Expired sessions are purged by the sessions job a day later.
    const before = await count(env.db, 'connect_sessions');
    await env.db.query(`update connect_sessions set expires_at = now() - interval '25 hours' where id = (select id from connect_sessions order by created_at desc limit 1)`);
    await env.t.services.auth.purgeExpiredSessions();
    assert.equal(await count(env.db, 'connect_sessions'), before - 1);
  });

  it("refuses a mix-up: app A's (Google's) response delivered with app B's (Microsoft's) state, by RFC 9207 iss", async () => {
    const browser = new Browser(env);
    const a = await beginConnect(env, 'google', browser);
    const b = await beginConnect(env, 'microsoft', browser);
    // Chloe's account is one for which the Google sandbox sends iss (as Google does for some accounts).
    const chloe = env.sb.google.accounts.find((u) => u.email.startsWith('chloe@'))!.email;
    const fromA = await signInAtProvider(env, 'google', a.authorizeUrl, chloe);
    assert.ok(fromA.searchParams.get('iss'), 'the Google sandbox sends iss for this account');
    const mixed = new URL(fromA);
    mixed.searchParams.set('state', b.authorizeUrl.searchParams.get('state')!);
    await assertRefused(browser, mixed, { error: 'invalid_callback' });
  });

  it('mix-up without iss (Microsoft and Webex do not send it): refused by the token endpoint, nothing stored — a token request IS made', async () => {
    const browser = new Browser(env);
    const a = await beginConnect(env, 'microsoft', browser);
    const b = await beginConnect(env, 'webex', browser);
    const fromA = await signInAtProvider(env, 'microsoft', a.authorizeUrl);
    assert.equal(fromA.searchParams.get('iss'), null);
    const mixed = new URL(fromA);
    mixed.searchParams.set('state', b.authorizeUrl.searchParams.get('state')!);
    const connections = await count(env.db, 'connections');
    const mark = env.sb.requestLog.mark();
    const { location } = await deliverCallback(browser, mixed);
    assert.equal(location?.searchParams.get('status'), 'error');
    assert.ok(['invalid_grant', 'provider_error'].includes(location!.searchParams.get('error')!), location!.href);
    assert.equal(await count(env.db, 'connections'), connections);
    // Known limit of the default (connect.redirectUris: shared): without iss and with one redirect URI
    // for all apps, only the provider's code binding (client id + PKCE) stops this, at its token
    // endpoint. With per-app redirect URIs it is refused before (perAppRedirect.test.ts).
    assert.equal(tokenCalls(env, mark).length, 1);
    assert.equal(tokenCalls(env, mark)[0]!.provider, 'webex');
  });

  it('refuses a wrong iss', async () => {
    const { browser, callback } = await pendingCallback('google');
    const wrong = new URL(callback);
    wrong.searchParams.set('iss', 'https://evil.example');
    await assertRefused(browser, wrong, { error: 'invalid_callback' });
  });

  for (const param of ['access_token', 'id_token']) {
    it(`refuses ${param} in the callback`, async () => {
      const { browser, callback } = await pendingCallback();
      const tampered = new URL(callback);
      tampered.searchParams.set(param, 'eyJhbGciOiJub25lIn0.e30.');
      await assertRefused(browser, tampered, { error: 'invalid_callback' });
    });
  }

  it('refuses duplicate parameters (code twice; state twice)', async () => {
    const { browser, callback } = await pendingCallback();
    await assertRefused(browser, `${callback.href}&code=attacker-code`, { error: 'invalid_callback' });
    const second = await pendingCallback();
    const state = second.callback.searchParams.get('state')!;
    await assertRefused(second.browser, `${second.callback.href}&state=${encodeURIComponent(state)}`, { page: 400 });
  });

  it("passes on the provider's error as a code only, and shows a hostile error_description escaped", async () => {
    const browser = new Browser(env);
    const { authorizeUrl } = await beginConnect(env, 'microsoft', browser);
    const state = authorizeUrl.searchParams.get('state')!;
    const hostile = '<script>alert(1)</script><a href="https://evil.example">call us</a>';
    const base = `${env.t.config.publicUrl}/oauth/callback`;
    const denied = `${base}?error=access_denied&error_description=${encodeURIComponent(hostile)}&state=${state}`;
    const res = await assertRefused(browser, denied, { error: 'provider_denied' });
    const location = res.headers.get('location')!;
    assert.equal(new URL(location).searchParams.get('providerError'), 'access_denied');
    assert.ok(!location.includes('script') && !location.includes('evil'), 'the description is not passed on');

    const odd = await pendingCallback();
    const weird = `${base}?error=${encodeURIComponent('<b>x</b>')}&state=${odd.callback.searchParams.get('state')}`;
    const weirdRes = await assertRefused(odd.browser, weird, { error: 'provider_denied' });
    assert.equal(new URL(weirdRes.headers.get('location')!).searchParams.get('providerError'), 'provider_error');

    const page = await assertRefused(new Browser(env), `${base}?error=access_denied&error_description=${encodeURIComponent(hostile)}&state=unknown`, { page: 400 });
    assert.ok(!page.body_.includes('<script>') && !page.body_.includes('<a href'), 'nothing from the callback is rendered as HTML');
    assert.ok(page.body_.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the description is shown escaped');
  });

  it('refuses hostile returnTo values with 422 return_to_not_allowed and stores no session', async () => {
    const sessions = await count(env.db, 'connect_sessions');
    const hostile = [
      'https://evil.example/',
      '//evil.example/',
      '/\\evil.example',
      '/%5Cevil.example',
      '/relative/path',
      'https:evil.example',
      'https:/evil.example',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)//https://host.example/',
      'data:text/html,<script>alert(1)</script>',
      'https://host.example.evil.example/',
      'https://evilhost.example/',
      'https://host.example@evil.example/',
      'https://user:pass@host.example/',
      'https://host.example\\@evil.example/',
      'https://host.example%2F@evil.example/',
      'https://hоst.example/', // Cyrillic о
      'https://host.example:444/',
      'http://host.example/',
      ' https://host.example/',
      'https://host.example/\nLocation: https://evil.example',
      `https://host.example/${'a'.repeat(2100)}`,
      'ftp://host.example/',
    ];
    for (const returnTo of hostile) {
      const res = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: env.apps.microsoft.id, returnTo }, env.org.member.session);
      assert.ok(res.status === 422 || res.status === 400, `${JSON.stringify(returnTo)}: ${res.status} ${res.text}`);
      assert.ok(['return_to_not_allowed', 'validation_failed'].includes(res.body.error.code), `${JSON.stringify(returnTo)}: ${res.text}`);
    }
    assert.equal(await count(env.db, 'connect_sessions'), sessions);
    for (const ok of [RETURN_TO, `${RETURN_ORIGIN}`, `${RETURN_ORIGIN}/`, `${env.t.config.publicUrl}/ui/connections`]) {
      const res = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: env.apps.microsoft.id, returnTo: ok }, env.org.member.session);
      assert.equal(res.status, 201, `${ok}: ${res.text}`);
    }
  });

  it('builds the connect URL and the redirect URI from TETHER_PUBLIC_URL, never from a spoofed Host or X-Forwarded-Host', async () => {
    const res = await env.t.http.request('POST', '/api/v1/connect-sessions', {
      auth: env.org.member.session,
      body: { providerAppId: env.apps.webex.id, returnTo: RETURN_TO },
      headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example' },
    });
    assert.equal(res.status, 201, res.text);
    assert.ok(res.body.url.startsWith(`${env.t.config.publicUrl}/connect/`), res.body.url);
    const browser = new Browser(env);
    const opened = await browser.get(res.body.url, { 'x-forwarded-host': 'evil.example' });
    assert.equal(new URL(opened.headers.get('location')!).searchParams.get('redirect_uri'), `${env.t.config.publicUrl}/oauth/callback`);
  });

  it('takes the owner from the credentials, never from the body', async () => {
    const res = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: env.apps.google.id, returnTo: RETURN_TO, userId: env.org.admin.id }, env.org.member.session);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'validation_failed');
    const { location } = await connect(env, 'webex', new Browser(env), { auth: env.org.asMember });
    const got = await env.t.http.get(`/api/v1/connections/${location.searchParams.get('connectionId')}`, env.org.member.session);
    assert.equal(got.body.ownerUserId, env.org.member.id);
  });

  it('lets only org admins create shared connections, with groups of their org', async () => {
    const shared = { providerAppId: env.apps.google.id, returnTo: RETURN_TO, shared: { groupIds: [env.org.group.id] } };
    const byMember = await env.t.http.post('/api/v1/connect-sessions', shared, env.org.member.session);
    assert.equal(byMember.status, 403, byMember.text);
    const unknownGroup = await env.t.http.post('/api/v1/connect-sessions', { ...shared, shared: { groupIds: [crypto.randomUUID()] } }, env.org.admin.session);
    assert.equal(unknownGroup.status, 422);
    assert.equal(unknownGroup.body.error.code, 'unknown_group');
    const byAdmin = await env.t.http.post('/api/v1/connect-sessions', shared, env.org.admin.session);
    assert.equal(byAdmin.status, 201, byAdmin.text);
  });
});
