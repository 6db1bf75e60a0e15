import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { completeSignIn, pkcePair } from '../../src/sandbox/index.ts';
import { form, getJson, googleSignIn, REDIRECT, startTestSandbox } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

describe('Google OAuth emulator', () => {
  let sb: Sb;
  before(async () => {
    sb = await startTestSandbox();
  });
  after(() => sb.close());

  const authorizeUrl = (opts: { challenge?: string; redirectUri?: string; extra?: Record<string, string> } = {}) => {
    const app = sb.google.apps[0]!;
    const u = new URL(sb.google.authorizationEndpoint);
    u.search = form({ client_id: app.clientId, response_type: 'code', redirect_uri: opts.redirectUri ?? REDIRECT, scope: 'openid email https://www.googleapis.com/auth/drive.readonly', state: 'xyz', access_type: 'offline', ...(opts.challenge ? { code_challenge: opts.challenge, code_challenge_method: 'S256' } : {}), ...opts.extra }).toString();
    return u.toString();
  };
  const codeFor = async (challenge?: string) => {
    const back = await completeSignIn(sb.fetch, authorizeUrl(challenge ? { challenge } : {}), { login: 'alice@globex.test' });
    assert.equal(back.searchParams.get('state'), 'xyz');
    return back.searchParams.get('code')!;
  };
  const redeem = async (code: string, fields: Record<string, string> = {}) => {
    const app = sb.google.apps[0]!;
    const res = await sb.fetch(sb.google.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: app.clientId, client_secret: app.clientSecret, ...fields }) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('completes a PKCE S256 round trip with a verifiable ID token, and refreshes without a new refresh token', async () => {
    const { verifier, challenge } = pkcePair();
    const back = await completeSignIn(sb.fetch, authorizeUrl({ challenge, extra: { nonce: 'gn' } }), { login: 'alice@globex.test' });
    assert.equal(back.searchParams.get('state'), 'xyz');
    assert.match(back.searchParams.get('code')!, /^4\/0A/);
    const { status, body } = await redeem(back.searchParams.get('code')!, { code_verifier: verifier });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type']);
    assert.match(body.access_token, /^ya29\./);
    assert.match(body.refresh_token, /^1\/\/0g/);
    assert.equal(body.expires_in, 3599);
    assert.equal(body.scope, 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/drive.readonly');
    const discovery = (await (await sb.fetch(sb.google.discoveryUrl)).json()) as Record<string, string>;
    const jwks = (await (await sb.fetch(discovery.jwks_uri!)).json()) as { keys: never[] };
    const { payload } = await jwtVerify(body.id_token, createLocalJWKSet(jwks), { issuer: discovery.issuer, audience: sb.google.apps[0]!.clientId });
    assert.equal(payload.email, 'alice@globex.test');
    assert.equal(payload.hd, 'globex.test');
    assert.equal(payload.nonce, 'gn');
    assert.equal(payload.sub, sb.google.accounts.find((a) => a.email === 'alice@globex.test')!.id);
    const app = sb.google.apps[0]!;
    const refreshed = await sb.fetch(sb.google.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: app.clientId, client_secret: app.clientSecret }) });
    const rb = (await refreshed.json()) as Record<string, unknown>;
    assert.equal(refreshed.status, 200);
    assert.equal(rb.refresh_token, undefined, 'Google returns no refresh token on refresh');
    const info = await getJson(sb, discovery.userinfo_endpoint!, rb.access_token as string);
    assert.equal(info.body.email, 'alice@globex.test');
  });

  it('answers wrong and missing verifiers, reused codes, wrong redirect URIs and wrong secrets as Google does', async () => {
    const { challenge } = pkcePair();
    assert.deepEqual(await redeem(await codeFor(challenge), { code_verifier: pkcePair().verifier }), { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid code verifier.' } });
    assert.deepEqual(await redeem(await codeFor(challenge)), { status: 400, body: { error: 'invalid_grant', error_description: 'Missing code verifier.' } });
    const code = await codeFor();
    assert.equal((await redeem(code)).status, 200);
    assert.deepEqual(await redeem(code), { status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } });
    assert.deepEqual(await redeem(await codeFor(), { redirect_uri: 'http://localhost:8080/elsewhere' }), { status: 400, body: { error: 'redirect_uri_mismatch', error_description: 'Bad Request' } });
    assert.deepEqual(await redeem(await codeFor(), { client_secret: 'wrong' }), { status: 401, body: { error: 'invalid_client', error_description: 'Unauthorized' } });
    assert.deepEqual(await redeem('4/0Agarbage'), { status: 400, body: { error: 'invalid_grant', error_description: 'Malformed auth code.' } });
    const page = await sb.fetch(authorizeUrl({ redirectUri: 'http://localhost:9999/cb' }));
    assert.equal(page.status, 400);
    assert.match(await page.text(), /Error 400: redirect_uri_mismatch/);
  });

  it('revokes tokens at /revoke', async () => {
    const t = await googleSignIn(sb, 'bruno@globex.test');
    const drive = () => getJson(sb, `${sb.google.driveApiBaseUrl}/files?pageSize=1`, t.access_token);
    assert.equal((await drive()).status, 200);
    const res = await sb.fetch(`${sb.google.revocationEndpoint}?token=${encodeURIComponent(t.refresh_token!)}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 200);
    const after = await drive();
    assert.equal(after.status, 401);
    assert.equal(after.body.error.errors[0].reason, 'authError');
    const again = await sb.fetch(sb.google.revocationEndpoint!, { method: 'POST', body: form({ token: t.access_token }) });
    assert.deepEqual(await again.json(), { error: 'invalid_token', error_description: 'Token expired or revoked' });
  });

  it('adds iss to the authorization response for one account without advertising it (observed Google behaviour)', async () => {
    const disc = (await (await sb.fetch(sb.google.discoveryUrl)).json()) as Record<string, unknown>;
    assert.equal(disc.authorization_response_iss_parameter_supported, undefined);
    const alice = await completeSignIn(sb.fetch, authorizeUrl(), { login: 'alice@globex.test' });
    assert.equal(alice.searchParams.get('iss'), null);
    assert.deepEqual([...alice.searchParams.keys()], ['state', 'code', 'scope', 'authuser', 'hd', 'prompt']);
    const chloe = await completeSignIn(sb.fetch, authorizeUrl(), { login: 'chloe@globex.test' });
    assert.equal(chloe.searchParams.get('iss'), disc.issuer);
  });

  it('accepts PKCE plain and client credentials via HTTP Basic', async () => {
    const app = sb.google.apps[0]!;
    const verifier = pkcePair().verifier;
    const u = new URL(authorizeUrl({ extra: { code_challenge: verifier, code_challenge_method: 'plain' } }));
    const back = await completeSignIn(sb.fetch, u.toString(), { login: 'bruno@globex.test' });
    const res = await sb.fetch(sb.google.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}` },
      body: form({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier }),
    });
    assert.equal(res.status, 200);
    assert.match(((await res.json()) as { access_token: string }).access_token, /^ya29\./);
  });
});
