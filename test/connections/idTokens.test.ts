import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
import { Browser, count, deliverCallback, RETURN_ORIGIN, RETURN_TO, startConnectEnv, type ConnectEnv } from './support.ts';

type Mode = 'valid' | 'bad-signature' | 'alg-none' | 'wrong-issuer' | 'wrong-audience' | 'wrong-nonce' | 'expired' | 'no-id-token';

/**
 * ID token validation through the whole connect flow, against a hostile "test authority" (an
 * operator profile on loopback http, as an operator may configure one): its token endpoint answers
 * the code exchange with a crafted ID token. Each must be refused with nothing stored.
 */
describe('connect flow: ID tokens from a hostile authority', () => {
  let env: ConnectEnv;
  let server: Server;
  let issuer: string;
  let mode: Mode = 'valid';
  let pendingNonce = '';
  let appId = '';
  const CLIENT_ID = 'test-authority-client';
  let jwk: JWK;
  let signingKey: SigningKey;
  let otherKey: SigningKey;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      if (path === '/token' && req.method === 'POST') {
        req.resume();
        req.on('end', async () => {
          const idToken = await craft(mode);
          const body = { access_token: `at-${mode}-0123456789`, token_type: 'Bearer', expires_in: 3600, scope: 'openid email', ...(idToken && { id_token: idToken }) };
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const endpoints = { issuer, authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token`, revocationEndpoint: null, jwksUri: `${issuer}/jwks`, apiBaseUrl: `${issuer}/api` };
    env = await startConnectEnv({ profiles: { 'test-authority': { google: endpoints } } });
    const app = await env.t.http.post('/api/v1/provider-apps', { provider: 'google', profile: 'test-authority', displayName: 'Test authority', clientId: CLIENT_ID, clientSecret: 'test-authority-secret' }, env.org.admin.session);
    assert.equal(app.status, 201, app.text);
    appId = app.body.id;
  });
  after(async () => {
    await env?.stop();
    server?.close();
  });

  async function craft(m: Mode): Promise<string | null> {
    if (m === 'no-id-token') return null;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: 'subject-1',
      email: 'someone@authority.test',
      nonce: m === 'wrong-nonce' ? 'not-the-nonce' : pendingNonce,
    };
    if (m === 'alg-none') {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ ...claims, iss: issuer, aud: CLIENT_ID, iat: now, exp: now + 3600 })}.`;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(m === 'wrong-issuer' ? 'https://evil.example' : issuer)
      .setAudience(m === 'wrong-audience' ? 'another-client' : CLIENT_ID)
      .setIssuedAt(m === 'expired' ? now - 7200 : now)
      .setExpirationTime(m === 'expired' ? now - 3600 : now + 3600)
      .sign(m === 'bad-signature' ? otherKey : signingKey);
  }

  async function run(m: Mode) {
    mode = m;
    const browser = new Browser(env);
    const created = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: appId, returnTo: RETURN_TO }, env.org.member.session);
    assert.equal(created.status, 201, created.text);
    const opened = await browser.get(created.body.url);
    const authorize = new URL(opened.headers.get('location')!);
    assert.equal(authorize.origin, issuer);
    pendingNonce = authorize.searchParams.get('nonce')!;
    const callback = `${env.t.config.publicUrl}/oauth/callback?code=code-${m}&state=${authorize.searchParams.get('state')}`;
    const { location, res } = await deliverCallback(browser, callback);
    assert.ok(location, `${res.status} ${res.body_}`);
    assert.equal(location.origin, RETURN_ORIGIN);
    return location.searchParams;
  }

  it('accepts a valid ID token (the harness works)', async () => {
    const params = await run('valid');
    assert.equal(params.get('status'), 'created', params.toString());
  });

  for (const m of ['bad-signature', 'alg-none', 'wrong-issuer', 'wrong-audience', 'wrong-nonce', 'expired', 'no-id-token'] as const) {
    it(`refuses an ID token with ${m}, storing nothing`, async () => {
      const before = await count(env.db, 'connections');
      const params = await run(m);
      assert.equal(params.get('status'), 'error');
      assert.equal(params.get('error'), 'invalid_id_token', params.toString());
      assert.equal(await count(env.db, 'connections'), before);
    });
  }
});
