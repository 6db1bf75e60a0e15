import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { completeSignIn, pkcePair } from '../../src/sandbox/index.ts';
import { form, microsoftSignIn, REDIRECT, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

describe('Microsoft identity platform v2 emulator', () => {
  let sb: Sb;
  before(async () => {
    sb = await startTestSandbox();
  });
  after(() => sb.close());

  async function authorize(opts: { login?: string; challenge?: string; method?: string; redirectUri?: string; clientId?: string; tenant?: string; extra?: Record<string, string> } = {}) {
    const app = sb.microsoft.apps[0]!;
    const u = new URL(sb.microsoft.authorizationEndpointFor(opts.tenant ?? 'common'));
    u.search = form({
      client_id: opts.clientId ?? app.clientId,
      response_type: 'code',
      redirect_uri: opts.redirectUri ?? REDIRECT,
      scope: 'openid profile email offline_access User.Read Files.Read',
      state: 'state-123',
      ...(opts.challenge ? { code_challenge: opts.challenge, code_challenge_method: opts.method ?? 'S256' } : {}),
      ...opts.extra,
    }).toString();
    return u.toString();
  }

  async function redeem(code: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const app = sb.microsoft.apps[0]!;
    const res = await sb.fetch(sb.microsoft.tokenEndpointFor('common'), {
      method: 'POST',
      headers,
      body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, ...fields }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  async function codeFor(login: string, challenge?: string) {
    const back = await completeSignIn(sb.fetch, await authorize({ login, ...(challenge ? { challenge } : {}) }), { login });
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('state'), 'state-123');
    return back.searchParams.get('code')!;
  }

  function assertAad(body: Record<string, any>, error: string, code: number) {
    assert.equal(body.error, error);
    assert.match(body.error_description, new RegExp(`^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
    assert.deepEqual(body.error_codes, [code]);
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.match(body.trace_id, /^[0-9a-f-]{36}$/);
    assert.match(body.correlation_id, /^[0-9a-f-]{36}$/);
  }

  it('completes a PKCE S256 round trip over HTTPS and signs a verifiable ID token with tid/oid and the tenant issuer', async () => {
    const megan = sb.microsoft.accounts.find((a) => a.email.startsWith('megan@'))!;
    const { verifier, challenge } = pkcePair();
    const authorizeUrl = await authorize({ challenge, extra: { nonce: 'n-1', login_hint: megan.email } });
    const page = await sb.fetch(authorizeUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), new RegExp(`<input type="radio" name="login" value="${megan.email}" checked>`));
    const back = await completeSignIn(sb.fetch, authorizeUrl, { login: megan.email });
    assert.equal(back.searchParams.get('state'), 'state-123');
    const code = back.searchParams.get('code')!;
    const { status, body } = await redeem(code, { code_verifier: verifier });
    assert.equal(status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3599);
    assert.equal(body.ext_expires_in, 3599);
    assert.equal(typeof body.access_token, 'string');
    assert.equal(typeof body.refresh_token, 'string');
    assert.equal(body.scope, 'openid profile email User.Read Files.Read');
    const discovery = (await (await sb.fetch(`${sb.microsoft.baseUrl}/${megan.organization}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    assert.equal(discovery.issuer, sb.microsoft.issuerFor(megan.organization));
    assert.equal(discovery.token_endpoint, `${sb.microsoft.baseUrl}/${megan.organization}/oauth2/v2.0/token`);
    const common = (await (await sb.fetch(sb.microsoft.discoveryUrlFor('common'))).json()) as Record<string, string>;
    assert.equal(common.issuer, `${sb.microsoft.baseUrl}/{tenantid}/v2.0`);
    const jwks = (await (await sb.fetch(discovery.jwks_uri!)).json()) as { keys: never[] };
    const { payload, protectedHeader } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), { issuer: discovery.issuer, audience: sb.microsoft.apps[0]!.clientId });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.tid, megan.organization);
    assert.equal(payload.oid, megan.id);
    assert.equal(payload.preferred_username, megan.email);
    assert.equal(payload.email, megan.email);
    assert.equal(payload.nonce, 'n-1');
    assert.equal(payload.ver, '2.0');
  });

  it('gives users of the second tenant an ID token with that tenant as issuer', async () => {
    const priya = sb.microsoft.accounts.find((a) => a.email.startsWith('priya@'))!;
    assert.notEqual(priya.organization, sb.microsoft.accounts[0]!.organization);
    const tokens = await microsoftSignIn(sb, priya.email, 'openid profile offline_access Files.Read', priya.organization);
    const [, payload] = tokens.id_token!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
    assert.equal(claims.iss, sb.microsoft.issuerFor(priya.organization));
    assert.equal(claims.tid, priya.organization);
  });

  it('rejects a wrong PKCE verifier with AADSTS501481 and a missing one with AADSTS50148', async () => {
    const { challenge } = pkcePair();
    const wrong = await redeem(await codeFor(sb.microsoft.accounts[0]!.email, challenge), { code_verifier: pkcePair().verifier });
    assert.equal(wrong.status, 400);
    assertAad(wrong.body, 'invalid_grant', 501481);
    const missing = await redeem(await codeFor(sb.microsoft.accounts[0]!.email, challenge));
    assert.equal(missing.status, 400);
    assertAad(missing.body, 'invalid_grant', 50148);
  });

  it('answers a reused code with AADSTS54005', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await codeFor(sb.microsoft.accounts[0]!.email, challenge);
    assert.equal((await redeem(code, { code_verifier: verifier })).status, 200);
    const again = await redeem(code, { code_verifier: verifier });
    assert.equal(again.status, 400);
    assertAad(again.body, 'invalid_grant', 54005);
  });

  it('checks the redirect URI exactly, at authorize (AADSTS50011 page) and at the token endpoint (AADSTS500112)', async () => {
    const page = await sb.fetch(await authorize({ redirectUri: `${REDIRECT}/` }), { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /AADSTS50011: The redirect URI &#39;http:\/\/localhost:8080\/oauth\/callback\/&#39; specified in the request does not match/);
    const res = await redeem(await codeFor(sb.microsoft.accounts[0]!.email), { redirect_uri: 'http://localhost:8080/other' });
    assert.equal(res.status, 400);
    assertAad(res.body, 'invalid_grant', 500112);
  });

  it('rejects a wrong client secret with 401 invalid_client AADSTS7000215, in the body or via HTTP Basic', async () => {
    const app = sb.microsoft.apps[0]!;
    const inBody = await redeem(await codeFor(sb.microsoft.accounts[0]!.email), { client_secret: 'nope' });
    assert.equal(inBody.status, 401);
    assertAad(inBody.body, 'invalid_client', 7000215);
    const code = await codeFor(sb.microsoft.accounts[0]!.email);
    const basicBad = await sb.fetch(sb.microsoft.tokenEndpointFor('common'), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:wrong`).toString('base64')}` },
      body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
    });
    assert.equal(basicBad.status, 401);
    assertAad((await basicBad.json()) as Record<string, any>, 'invalid_client', 7000215);
    const basicGood = await sb.fetch(sb.microsoft.tokenEndpointFor('common'), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.clientId}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}` },
      body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
    });
    assert.equal(basicGood.status, 200);
  });

  it('redirects with access_denied when the user cancels, echoing state', async () => {
    const back = await completeSignIn(sb.fetch, await authorize(), { login: sb.microsoft.accounts[0]!.email, decision: 'cancel' });
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.match(back.searchParams.get('error_description')!, /^AADSTS65004: /);
    assert.equal(back.searchParams.get('state'), 'state-123');
    assert.equal(back.searchParams.get('code'), null);
  });

  it('answers prompt=none with login_required (no browser session in the sandbox)', async () => {
    const res = await sb.fetch(await authorize({ extra: { prompt: 'none' } }), { redirect: 'manual' });
    assert.equal(res.status, 302);
    const back = new URL(res.headers.get('location')!);
    assert.equal(back.searchParams.get('error'), 'login_required');
    assert.match(back.searchParams.get('error_description')!, /^AADSTS50058: /);
    assert.equal(back.searchParams.get('state'), 'state-123');
  });

  it('rotates the refresh token on every use and retires the used one', async () => {
    const app = sb.microsoft.apps[0]!;
    const first = await microsoftSignIn(sb, sb.microsoft.accounts[0]!.email);
    const refresh = (rt: string) => sb.fetch(sb.microsoft.tokenEndpointFor('common'), { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: rt, client_id: app.clientId, client_secret: app.clientSecret }) });
    const r1 = await refresh(first.refresh_token!);
    assert.equal(r1.status, 200);
    const b1 = (await r1.json()) as Record<string, string>;
    assert.ok(b1.refresh_token);
    assert.notEqual(b1.refresh_token, first.refresh_token);
    const reused = await refresh(first.refresh_token!);
    assert.equal(reused.status, 400);
    assertAad((await reused.json()) as Record<string, any>, 'invalid_grant', 9002313);
    assert.equal((await refresh(b1.refresh_token!)).status, 200);
  });

  it('registers an app at run time through the admin endpoint and accepts its redirect URI', async () => {
    const res = await sb.fetch(`${sb.adminUrl}/sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'microsoft', redirectUris: ['https://app.example.test/cb'], name: 'Runtime' }) });
    assert.equal(res.status, 201);
    const app = (await res.json()) as { clientId: string; clientSecret: string; redirectUris: string[] };
    assert.deepEqual(app.redirectUris, ['https://app.example.test/cb']);
    const back = await completeSignIn(sb.fetch, await authorize({ clientId: app.clientId, redirectUri: 'https://app.example.test/cb' }), { login: sb.microsoft.accounts[0]!.email });
    assert.equal(back.origin, 'https://app.example.test');
    const tok = await sb.fetch(sb.microsoft.tokenEndpointFor('common'), { method: 'POST', body: form({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: 'https://app.example.test/cb', client_id: app.clientId, client_secret: app.clientSecret }) });
    assert.equal(tok.status, 200);
    const unknown = await sb.fetch(await authorize({ clientId: '00000000-0000-0000-0000-000000000000' }));
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /AADSTS700016/);
  });
});
