import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OAuthError } from '../../src/oauth/errors.ts';
import { completeAuthorization, createAuthorizationRequest, refreshTokens, type OAuthClient } from '../../src/oauth/flow.ts';
import { createOutboundFetch } from '../../src/outbound/fetch.ts';
import { EndpointProfiles } from '../../src/providers/profiles.ts';
import { providerDefinition } from '../../src/providers/registry.ts';
import { completeSignIn, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';

const REDIRECT = 'http://localhost:8080/oauth/callback';

/** The generic OAuth flow against the Microsoft identity platform emulator, over HTTPS with its CA. */
describe('OAuth flow: Microsoft (sandbox)', () => {
  let sandbox: Sandbox;
  let dataDir: string;
  let outbound: ReturnType<typeof createOutboundFetch>;
  let client: OAuthClient;
  let user: { email: string; tenantId: string };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tether-oauth-'));
    sandbox = await startSandbox({ dataDir });
    // Tether's own outbound client, trusting the sandbox CA through configuration: never by turning verification off.
    outbound = createOutboundFetch({ extraCaPem: [sandbox.caCertPem!] });
    const ms = sandbox.microsoft;
    const app = sandbox.registerApp('microsoft', { redirectUris: [REDIRECT], name: 'Tether test' });
    const profiles = new EndpointProfiles();
    profiles.useSandbox({
      microsoft: {
        issuer: ms.issuer,
        authorizationEndpoint: ms.authorizationEndpointFor('{tenant}'),
        tokenEndpoint: ms.tokenEndpointFor('{tenant}'),
        revocationEndpoint: null,
        jwksUri: ms.jwksUri,
        apiBaseUrl: ms.apiBaseUrl,
      },
    });
    const account = ms.accounts[0]!;
    user = { email: account.email, tenantId: account.organization };
    client = {
      provider: providerDefinition('microsoft'),
      endpoints: profiles.resolve('microsoft', 'sandbox', user.tenantId),
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: REDIRECT,
      scopes: ['User.Read', 'Files.ReadWrite.All'],
      tenantId: user.tenantId,
      fetch: outbound.fetch,
    };
  });
  after(async () => {
    await outbound.close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function authorize(c: OAuthClient = client) {
    const { url, pending } = await createAuthorizationRequest(c);
    const callback = await completeSignIn(sandbox.fetch, url.toString(), { login: user.email });
    return { url, pending, callback };
  }

  it('sends PKCE S256, a 256-bit state, a nonce, offline_access and the exact redirect URI', async () => {
    const { url, pending } = await createAuthorizationRequest(client);
    const p = url.searchParams;
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Buffer.from(pending.state, 'base64url').length >= 16, 'state has at least 128 bits');
    assert.equal(p.get('nonce'), pending.nonce);
    assert.deepEqual(p.get('scope')!.split(' ').sort(), ['Files.ReadWrite.All', 'User.Read', 'offline_access', 'openid', 'profile']);
    assert.equal(p.get('redirect_uri'), REDIRECT);
    assert.ok(url.pathname.startsWith(`/${user.tenantId}/`), 'the tenant-specific endpoint');
    assert.ok(!url.toString().includes(pending.codeVerifier), 'the verifier never leaves the server');
  });

  it('completes the round trip: tokens, and the account as (tenant issuer, oid) from a verified ID token', async () => {
    const { pending, callback } = await authorize();
    const { tokens, account } = await completeAuthorization(client, callback, pending);
    assert.ok(tokens.accessToken && tokens.refreshToken);
    assert.ok(tokens.expiresAt && tokens.expiresAt.getTime() > Date.now());
    assert.equal(account.tenantId, user.tenantId);
    assert.equal(account.issuer, sandbox.microsoft.issuerFor(user.tenantId));
    assert.match(account.subject, /^[0-9a-f-]{36}$/);
    assert.equal(account.email, user.email);
    const refreshed = await refreshTokens(client, tokens.refreshToken!);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken, 'Microsoft rotates the refresh token');
    assert.ok(refreshed.accessToken);
  });

  it('refuses a callback with a wrong or missing state, and a provider error, before any token request', async () => {
    const { pending, callback } = await authorize();
    const before = sandbox.requestLog.entries().filter((e) => e.path.includes('/token')).length;
    const wrong = new URL(callback);
    wrong.searchParams.set('state', 'attacker-state');
    await assert.rejects(completeAuthorization(client, wrong, pending), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_callback');
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    await assert.rejects(completeAuthorization(client, missing, pending), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_callback');
    const denied = new URL(`${REDIRECT}?error=access_denied&error_description=%3Cscript%3E&state=${pending.state}`);
    await assert.rejects(completeAuthorization(client, denied, pending), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_callback' && (e.details as { error: string }).error === 'access_denied');
    assert.equal(sandbox.requestLog.entries().filter((e) => e.path.includes('/token')).length, before, 'no token request was made');
  });

  it('maps a reused code to invalid_grant, and refuses ID tokens of another tenant or with a wrong nonce', async () => {
    const { pending, callback } = await authorize();
    await completeAuthorization(client, callback, pending);
    await assert.rejects(completeAuthorization(client, callback, pending), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_grant');

    const otherTenant = { ...client, tenantId: '00000000-0000-4000-8000-000000000000' };
    const second = await authorize();
    await assert.rejects(completeAuthorization(otherTenant, second.callback, second.pending), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_id_token');

    const third = await authorize();
    await assert.rejects(completeAuthorization(client, third.callback, { ...third.pending, nonce: 'another-nonce' }), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_id_token');
  });

  it('refuses a wrong client secret with the provider error mapped, and a dead refresh token as invalid_grant', async () => {
    const { pending, callback } = await authorize();
    await assert.rejects(completeAuthorization({ ...client, clientSecret: 'wrong' }, callback, pending), (e: unknown) => e instanceof OAuthError && e.failure === 'provider_error');
    await assert.rejects(refreshTokens(client, 'not-a-refresh-token'), (e: unknown) => e instanceof OAuthError && e.failure === 'invalid_grant');
  });
});
