import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, connect, count, PROVIDERS, RETURN_ORIGIN, beginConnect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/** The connect flow end to end over real HTTP, through the sandbox's sign-in page, for every provider. */
describe('connect flow (sandbox, all providers)', () => {
  let env: ConnectEnv;
  before(async () => {
    env = await startConnectEnv();
  });
  after(() => env?.stop());

  it('sends the browser to the provider with PKCE S256, state, nonce and the exact redirect URI, from a single-use link with auth-page headers', async () => {
    const browser = new Browser(env);
    const { authorizeUrl, opened, connectUrl } = await beginConnect(env, 'microsoft', browser);
    const p = authorizeUrl.searchParams;
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Buffer.from(p.get('state')!, 'base64url').length >= 16, 'state of at least 128 bits');
    assert.ok(p.get('nonce'));
    assert.equal(p.get('redirect_uri'), `${env.t.config.publicUrl}/oauth/callback`);
    assert.equal(p.get('client_id'), env.apps.microsoft.clientId);
    assert.equal(opened.headers.get('referrer-policy'), 'no-referrer');
    assert.match(opened.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const cookie = opened.headers.getSetCookie().find((c) => c.startsWith('tether_connect_'))!;
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.match(cookie, /Path=\/oauth\/callback/i);
    // Single use: the same link again, and a made-up one, get the same page.
    const again = await new Browser(env).get(connectUrl);
    const unknown = await new Browser(env).get(`${env.t.config.publicUrl}/connect/${'A'.repeat(43)}`);
    assert.equal(again.status, 404);
    assert.equal(again.body_, unknown.body_);
    assert.match(again.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(again.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: connects, shows the account without tokens, and a reconnect of the same account updates the connection`, async () => {
      const before = await count(env.db, 'connections');
      const first = await connect(env, provider);
      assert.equal(first.location.origin, RETURN_ORIGIN);
      assert.equal(first.location.pathname, '/integrations/done');
      assert.deepEqual([...first.location.searchParams.keys()].sort(), ['connectionId', 'status', 'tab']);
      assert.equal(first.location.searchParams.get('status'), 'created');
      const id = first.location.searchParams.get('connectionId')!;
      const got = await env.t.http.get(`/api/v1/connections/${id}`, env.org.member.session);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.status, 'active');
      assert.equal(got.body.providerAppId, env.apps[provider].id);
      assert.equal(got.body.ownerUserId, env.org.member.id);
      assert.equal(got.body.account.email, env.logins[provider]);
      assert.ok(got.body.account.subject && got.body.account.issuer);
      assert.ok(!/token"\s*:/i.test(got.text.replace(/accessTokenExpiresAt/g, '')), 'no token fields in the view');
      const row = (await env.db.query('select * from connections where id = $1', [id])).rows[0];
      assert.ok(Buffer.isBuffer(row.access_token) && row.access_token.length > 20, 'the access token is stored as ciphertext');
      if (provider === 'microsoft') assert.equal(got.body.account.tenantId, env.sb.microsoft.accounts[0]!.organization);

      const mark = env.sb.requestLog.mark();
      const second = await connect(env, provider);
      assert.equal(second.location.searchParams.get('status'), 'updated');
      assert.equal(second.location.searchParams.get('connectionId'), id);
      assert.equal(tokenCalls(env, mark).length, 1, 'one code exchange');
      assert.equal(await count(env.db, 'connections'), before + 1, 'a reconnect does not duplicate');
      const again = (await env.db.query('select * from connections where id = $1', [id])).rows[0];
      assert.ok(again.version > row.version);
      assert.ok(!again.access_token.equals(row.access_token), 'fresh tokens stored');
    });
  }

  it('keeps a second account of the same user apart (identity is issuer + subject, not the user)', async () => {
    const megan = env.sb.microsoft.accounts.find((u) => u.email.startsWith('megan@'))!;
    const first = await connect(env, 'microsoft');
    const second = await connect(env, 'microsoft', new Browser(env), { login: megan.email });
    assert.equal(second.location.searchParams.get('status'), 'created');
    assert.notEqual(second.location.searchParams.get('connectionId'), first.location.searchParams.get('connectionId'));
    const got = await env.t.http.get(`/api/v1/connections/${second.location.searchParams.get('connectionId')}`, env.org.member.session);
    assert.equal(got.body.account.email, megan.email);
  });

  it('audits connection.create and connection.update', async () => {
    const events = await env.db.query(`select action from audit_events where action in ('connection.create', 'connection.update') order by created_at`);
    assert.deepEqual(events.rows.map((r) => r.action), ['connection.create', 'connection.update', 'connection.create', 'connection.update', 'connection.create', 'connection.update', 'connection.update', 'connection.create']);
  });
});
