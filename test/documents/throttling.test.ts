import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { completeAuthorization, createAuthorizationRequest } from '../../src/oauth/flow.ts';
import { createOutboundFetch } from '../../src/outbound/fetch.ts';
import { createProviderContext } from '../../src/providers/apiClient.ts';
import { EndpointProfiles } from '../../src/providers/profiles.ts';
import { providerDefinition } from '../../src/providers/registry.ts';
import { completeSignIn, startSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { TetherError } from '../../src/errors.ts';

const REDIRECT = 'http://localhost:8080/oauth/callback';

/** Throttling and retries, driven by the sandbox's fault knobs (Google Drive endpoints). */
describe('provider throttling and retries', () => {
  let sandbox: Sandbox;
  let dataDir: string;
  let outbound: ReturnType<typeof createOutboundFetch>;
  let token: string;
  let refreshes = 0;
  let google: Sandbox['microsoft'];

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tether-throttle-'));
    sandbox = await startSandbox({ dataDir });
    outbound = createOutboundFetch({ extraCaPem: [sandbox.caCertPem!] });
    google = (sandbox as unknown as { google: Sandbox['microsoft'] }).google;
    const app = sandbox.registerApp('google', { redirectUris: [REDIRECT] });
    const profiles = new EndpointProfiles();
    profiles.useSandbox({ google: { issuer: google.issuer, authorizationEndpoint: google.authorizationEndpoint, tokenEndpoint: google.tokenEndpoint, revocationEndpoint: google.revocationEndpoint, jwksUri: google.jwksUri, apiBaseUrl: google.apiBaseUrl } });
    const client = { provider: providerDefinition('google'), endpoints: profiles.resolve('google', 'sandbox'), clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT, scopes: ['https://www.googleapis.com/auth/drive'], fetch: outbound.fetch };
    const { url, pending } = await createAuthorizationRequest(client);
    const back = await completeSignIn(sandbox.fetch, url.toString(), { login: google.accounts[0]!.email });
    token = (await completeAuthorization(client, back, pending)).tokens.accessToken;
  });
  after(async () => {
    await outbound.close();
    await sandbox.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const context = (signal?: AbortSignal) =>
    createProviderContext({
      apiBaseUrl: google.apiBaseUrl,
      ...(signal && { signal }),
      fetch: outbound.fetch,
      request: outbound.request,
      accessToken: async () => token,
      onUnauthorized: async () => {
        refreshes++;
        return true;
      },
    });
  const about = { query: { fields: 'user(emailAddress)' } };
  const scope = { provider: 'google' as const, pathPrefix: '/drive/v3/about' };

  it('waits out a 429 with Retry-After: 2 and succeeds after at least 2 s', async () => {
    sandbox.faults.failNext(1, { status: 429, retryAfter: 2 }, scope);
    const mark = sandbox.requestLog.mark();
    const started = Date.now();
    const res = await context().api('/drive/v3/about', about);
    assert.equal(res.status, 200);
    assert.ok(Date.now() - started >= 2000, `waited ${Date.now() - started} ms`);
    assert.deepEqual(sandbox.requestLog.since(mark).map((e) => e.status), [429, 200]);
  });

  it('answers 503 throttled with Retry-After at once when the provider asks for more than the cap', async () => {
    sandbox.faults.failNext(1, { status: 429, retryAfter: 120 }, scope);
    const mark = sandbox.requestLog.mark();
    await assert.rejects(context().api('/drive/v3/about', about), (e: unknown) => e instanceof TetherError && e.status === 503 && e.code === 'throttled' && e.headers['retry-after'] === '120');
    assert.equal(sandbox.requestLog.since(mark).length, 1, 'no retry');
    sandbox.faults.failNext(1, { status: 503, retryAfter: new Date(Date.now() + 600_000) }, scope);
    await assert.rejects(context().api('/drive/v3/about', about), (e: unknown) => e instanceof TetherError && e.code === 'throttled' && Number(e.headers['retry-after']) > 500);
  });

  it("retries Google's 403 userRateLimitExceeded", async () => {
    sandbox.faults.failNext(2, { status: 403, reason: 'userRateLimitExceeded' }, scope);
    const mark = sandbox.requestLog.mark();
    const res = await context().api('/drive/v3/about', about);
    assert.equal(res.status, 200);
    assert.deepEqual(sandbox.requestLog.since(mark).map((e) => e.status), [403, 403, 200]);
  });

  it('retries a reset connection for an idempotent request', async () => {
    sandbox.faults.resetNext(1, scope);
    const res = await context().api('/drive/v3/about', about);
    assert.equal(res.status, 200);
  });

  it('never retries a POST', async () => {
    sandbox.faults.failNext(1, { status: 503 }, { provider: 'google', method: 'POST' });
    const mark = sandbox.requestLog.mark();
    const res = await context().api('/drive/v3/files', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'once' }) });
    assert.equal(res.status, 503);
    assert.equal(sandbox.requestLog.since(mark).filter((e) => e.method === 'POST').length, 1);
    sandbox.faults.resetNext(1, { provider: 'google', method: 'POST' });
    await assert.rejects(context().api('/drive/v3/files', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'once' }) }), (e: unknown) => e instanceof TetherError && e.code === 'upstream_unavailable');
  });

  it('refreshes once on a 401 and retries once', async () => {
    sandbox.faults.failNext(2, { status: 401 }, scope);
    refreshes = 0;
    const res = await context().api('/drive/v3/about', about);
    assert.equal(res.status, 401, 'a second 401 is returned, not looped on');
    assert.equal(refreshes, 1);
  });
  // apiJson: the same loop on the lean client (every documents read goes through it).
  const isCode = (code: string, status?: number) => (e: unknown) => e instanceof TetherError && e.code === code && (status === undefined || e.status === status);

  it('apiJson waits out a 429 with Retry-After: 2, and answers 503 + Retry-After above the cap', async () => {
    sandbox.faults.failNext(1, { status: 429, retryAfter: 2 }, scope);
    let mark = sandbox.requestLog.mark();
    const started = Date.now();
    const body = await context().apiJson<{ user?: { emailAddress?: string } }>('/drive/v3/about', about);
    assert.ok(body.user?.emailAddress, 'the parsed answer');
    assert.ok(Date.now() - started >= 2000, `waited ${Date.now() - started} ms`);
    assert.deepEqual(sandbox.requestLog.since(mark).map((e) => e.status), [429, 200]);
    sandbox.faults.failNext(1, { status: 429, retryAfter: 120 }, scope);
    mark = sandbox.requestLog.mark();
    await assert.rejects(context().apiJson('/drive/v3/about', about), (e: unknown) => isCode('throttled', 503)(e) && (e as TetherError).headers['retry-after'] === '120');
    assert.equal(sandbox.requestLog.since(mark).length, 1, 'no retry');
  });

  it("apiJson retries Google's 403 userRateLimitExceeded, and not another 403", async () => {
    sandbox.faults.failNext(2, { status: 403, reason: 'userRateLimitExceeded' }, scope);
    let mark = sandbox.requestLog.mark();
    await context().apiJson('/drive/v3/about', about);
    assert.deepEqual(sandbox.requestLog.since(mark).map((e) => e.status), [403, 403, 200]);
    sandbox.faults.failNext(1, { status: 403, reason: 'insufficientFilePermissions' }, scope);
    mark = sandbox.requestLog.mark();
    await assert.rejects(context().apiJson('/drive/v3/about', about), isCode('forbidden', 403));
    assert.deepEqual(sandbox.requestLog.since(mark).map((e) => e.status), [403]);
  });

  it('apiJson retries a reset GET, never a POST, and refreshes once on a 401', async () => {
    sandbox.faults.resetNext(1, scope);
    await context().apiJson('/drive/v3/about', about);
    sandbox.faults.failNext(1, { status: 503 }, { provider: 'google', method: 'POST' });
    const mark = sandbox.requestLog.mark();
    await assert.rejects(context().apiJson('/drive/v3/files', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'once' }) }), isCode('upstream_unavailable', 502));
    assert.equal(sandbox.requestLog.since(mark).filter((e) => e.method === 'POST').length, 1);
    sandbox.faults.failNext(2, { status: 401 }, scope);
    refreshes = 0;
    await assert.rejects(context().apiJson('/drive/v3/about', about), isCode('needs_reauth'));
    assert.equal(refreshes, 1);
  });
  it('apiJson gives up at once, without retrying, when its caller goes away', async () => {
    sandbox.faults.setLatency(5000, scope);
    try {
      const caller = new AbortController();
      const started = Date.now();
      const pending = context(caller.signal).apiJson('/drive/v3/about', about);
      setTimeout(() => caller.abort(), 200);
      await assert.rejects(pending, isCode('upstream_unavailable', 502));
      // The provider holds its answer for 5 s; the call ends with its caller.
      assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
    } finally {
      sandbox.faults.setLatency(0);
    }
  });
});
