import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createOrgFixture, type OrgFixture } from '../support/tether.ts';
import { Browser, connect, count, deliverCallback, RETURN_TO, startConnectEnv, type ConnectEnv } from './support.ts';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const OWN_TENANT = '0a1b2c3d-0000-4000-8000-00000000000a';
const OTHER_TENANT = '0a1b2c3d-0000-4000-8000-00000000000b';
const DOMAIN = 'contoso.example';

/**
 * A Microsoft provider app may name its tenant by domain (contoso.onmicrosoft.com) instead of by id.
 * ID tokens carry the tenant id (`tid`), so Tether looks the domain's id up in the tenant's OpenID
 * discovery document before it requests a token, and refuses ID tokens of any other tenant.
 */
describe('connect flow: a Microsoft tenant given by its domain', () => {
  let env: ConnectEnv;
  let server: Server;
  let base = '';
  let tokenTenant = OWN_TENANT;
  let pendingNonce = '';
  let jwk: JWK;
  let signingKey: SigningKey;
  let org: OrgFixture;
  const CLIENT_ID = 'authority-client';
  const discoveryRequests: string[] = [];
  let tokenRequests = 0;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    // A Microsoft-shaped authority on loopback: per-tenant discovery, token endpoint and keys.
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const [, tenant, ...rest] = path.split('/');
      const tail = rest.join('/');
      if (tail === 'v2.0/.well-known/openid-configuration') {
        discoveryRequests.push(tenant!);
        if (tenant === DOMAIN || tenant === OWN_TENANT) return send(200, { issuer: `${base}/${OWN_TENANT}/v2.0`, token_endpoint: `${base}/${tenant}/oauth2/v2.0/token` });
        return send(400, { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      }
      if (tail === 'discovery/v2.0/keys') return send(200, { keys: [jwk] });
      if (tail === 'oauth2/v2.0/token' && req.method === 'POST') {
        tokenRequests++;
        req.resume();
        req.on('end', async () => {
          const now = Math.floor(Date.now() / 1000);
          const idToken = await new SignJWT({ oid: 'object-1', tid: tokenTenant, nonce: pendingNonce, preferred_username: 'someone@contoso.example' })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setSubject('pairwise-subject-1')
            .setIssuer(`${base}/${tokenTenant}/v2.0`)
            .setAudience(CLIENT_ID)
            .setIssuedAt(now)
            .setExpirationTime(now + 3600)
            .sign(signingKey);
          send(200, { access_token: 'authority-access-token-0123456789', refresh_token: 'authority-refresh-token-0123456789', token_type: 'Bearer', expires_in: 3600, scope: 'openid profile offline_access Files.Read', id_token: idToken });
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const endpoints = {
      issuer: `${base}/{tenantid}/v2.0`,
      authorizationEndpoint: `${base}/{tenant}/oauth2/v2.0/authorize`,
      tokenEndpoint: `${base}/{tenant}/oauth2/v2.0/token`,
      revocationEndpoint: null,
      jwksUri: `${base}/{tenant}/discovery/v2.0/keys`,
      apiBaseUrl: `${base}/v1.0`,
    };
    env = await startConnectEnv({ profiles: { authority: { microsoft: endpoints } } });
    // An org of its own: the shared fixture org already uses the sandbox's tenant.
    org = await createOrgFixture(env.t, 'bydomain');
  });
  after(async () => {
    await env?.stop();
    server?.close();
  });

  async function createApp(tenant: string, owner = org): Promise<string> {
    const res = await env.t.http.post('/api/v1/provider-apps', { provider: 'microsoft', profile: 'authority', displayName: 'By domain', clientId: CLIENT_ID, clientSecret: 'authority-secret-0123', tenant, scopes: ['Files.Read'] }, owner.admin.session);
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  }

  async function run(appId: string, owner = org) {
    const browser = new Browser(env);
    const created = await env.t.http.post('/api/v1/connect-sessions', { providerAppId: appId, returnTo: RETURN_TO }, owner.member.session);
    assert.equal(created.status, 201, created.text);
    const opened = await browser.get(created.body.url);
    const authorize = new URL(opened.headers.get('location')!);
    pendingNonce = authorize.searchParams.get('nonce')!;
    const { location, res } = await deliverCallback(browser, `${env.t.config.publicUrl}/oauth/callback?code=the-code&state=${authorize.searchParams.get('state')}`);
    assert.ok(location, `${res.status} ${res.body_}`);
    return location.searchParams;
  }

  it("looks the domain's tenant id up and accepts ID tokens of that tenant", async () => {
    const appId = await createApp(DOMAIN);
    tokenTenant = OWN_TENANT;
    const params = await run(appId);
    assert.equal(params.get('status'), 'created', params.toString());
    assert.ok(discoveryRequests.includes(DOMAIN), 'the tenant discovery document was read');
    const connection = await env.t.http.get(`/api/v1/connections/${params.get('connectionId')}`, org.member.session);
    assert.equal(connection.body.account.tenantId, OWN_TENANT);
  });

  it('refuses an ID token from another tenant (tid), storing nothing', async () => {
    const appId = (await env.t.http.get('/api/v1/provider-apps', org.admin.session)).body.items.find((a: { tenant: string }) => a.tenant === DOMAIN).id;
    tokenTenant = OTHER_TENANT;
    const before = await count(env.db, 'connections');
    const params = await run(appId);
    assert.equal(params.get('status'), 'error');
    assert.equal(params.get('error'), 'invalid_id_token', params.toString());
    assert.equal(await count(env.db, 'connections'), before);
  });

  it('asks for no token when the domain is not a tenant the authority knows', async () => {
    const unknown = await createOrgFixture(env.t, 'unknowndomain');
    const appId = await createApp('unknown.example', unknown);
    const tokensBefore = tokenRequests;
    const params = await run(appId, unknown);
    assert.equal(params.get('status'), 'error');
    assert.equal(params.get('error'), 'provider_error', params.toString());
    assert.equal(tokenRequests, tokensBefore, 'no code was sent to the token endpoint');
  });

  it('works the same against the sandbox, whose tenant is given by its onmicrosoft.com domain', async () => {
    const other = await createOrgFixture(env.t, 'sbdomain');
    const account = env.sb.microsoft.accounts[0]!;
    const domain = account.email.split('@')[1]!;
    const registered = env.sb.registerApp('microsoft', { redirectUris: [`${env.t.config.publicUrl}/oauth/callback`], name: 'By domain' });
    const app = await env.t.http.post(
      '/api/v1/provider-apps',
      { provider: 'microsoft', profile: 'sandbox', displayName: 'Sandbox by domain', clientId: registered.clientId, clientSecret: registered.clientSecret, tenant: domain },
      other.admin.session,
    );
    assert.equal(app.status, 201, app.text);
    const mark = env.sb.requestLog.mark();
    const { location } = await connect(env, 'microsoft', new Browser(env), { auth: other.member.session, body: { providerAppId: app.body.id } });
    assert.equal(location.searchParams.get('status'), 'created', location.href);
    assert.ok(env.sb.requestLog.since(mark).some((e) => e.path.endsWith(`${domain}/v2.0/.well-known/openid-configuration`)), 'the sandbox was asked for the tenant id');
    const connection = await env.t.http.get(`/api/v1/connections/${location.searchParams.get('connectionId')}`, other.member.session);
    assert.equal(connection.body.account.tenantId, account.organization);
  });
});
