import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { beginConnect, Browser, connect, count, deliverCallback, PROVIDERS, signInAtProvider, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

/**
 * `connect.redirectUris: per-app`: each provider app has its own redirect URI,
 * $publicUrl/oauth/callback/<providerAppId>. A mix-up — one app's authorization response delivered
 * with another app's state — is then refused before any token request, also for Microsoft and Webex,
 * which do not send RFC 9207 `iss`.
 */
describe('connect flow with a redirect URI per provider app', () => {
  let env: ConnectEnv;

  before(async () => {
    env = await startConnectEnv({ tetherEnv: { TETHER_CONNECT_REDIRECT_URIS: 'per-app' } });
  });
  after(() => env?.stop());

  it('shows each app its own redirect URI, and sends the provider exactly that one', async () => {
    for (const provider of PROVIDERS) {
      const app = await env.t.http.get(`/api/v1/provider-apps/${env.apps[provider].id}`, env.org.admin.session);
      assert.equal(app.body.redirectUri, `${env.t.config.publicUrl}/oauth/callback/${env.apps[provider].id}`);
      const { authorizeUrl } = await beginConnect(env, provider, new Browser(env));
      assert.equal(authorizeUrl.searchParams.get('redirect_uri'), app.body.redirectUri);
    }
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: connects through its own redirect URI`, async () => {
      const { callback, location } = await connect(env, provider);
      assert.equal(callback.pathname, `/oauth/callback/${env.apps[provider].id}`);
      assert.equal(location.searchParams.get('status'), 'created', location.href);
    });
  }

  it("refuses a mix-up without iss — Microsoft's response delivered with Webex's state — before any token request", async () => {
    const browser = new Browser(env);
    const a = await beginConnect(env, 'microsoft', browser);
    const b = await beginConnect(env, 'webex', browser);
    const fromA = await signInAtProvider(env, 'microsoft', a.authorizeUrl);
    assert.equal(fromA.searchParams.get('iss'), null, 'Microsoft sends no iss');
    const mixed = new URL(fromA);
    mixed.searchParams.set('state', b.authorizeUrl.searchParams.get('state')!);
    const connections = await count(env.db, 'connections');
    const mark = env.sb.requestLog.mark();
    const { location } = await deliverCallback(browser, mixed);
    assert.equal(location?.searchParams.get('status'), 'error');
    assert.equal(location!.searchParams.get('error'), 'invalid_callback');
    assert.equal(tokenCalls(env, mark).length, 0, 'the code went to no token endpoint');
    assert.equal(await count(env.db, 'connections'), connections);
    // B's state is spent: the genuine response for B cannot be delivered afterwards either.
    const again = await deliverCallback(browser, mixed);
    assert.equal(again.location?.searchParams.get('error'), 'connect_session_used');
  });

  it('refuses a response delivered at the shared /oauth/callback, before any token request', async () => {
    const browser = new Browser(env);
    const { authorizeUrl } = await beginConnect(env, 'google', browser);
    const callback = await signInAtProvider(env, 'google', authorizeUrl);
    const shared = new URL(`/oauth/callback${callback.search}`, callback);
    const mark = env.sb.requestLog.mark();
    const { location } = await deliverCallback(browser, shared);
    assert.equal(location?.searchParams.get('error'), 'invalid_callback');
    assert.equal(tokenCalls(env, mark).length, 0);
  });
});
