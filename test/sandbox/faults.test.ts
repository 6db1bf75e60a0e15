// Every fault knob, set in-process and through the admin endpoint.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { form, getJson, googleSignIn, microsoftSignIn, startTestSandbox, webexSignIn } from './helpers.ts';

type Sb = Awaited<ReturnType<typeof startTestSandbox>>;

describe('sandbox fault knobs', () => {
  let sb: Sb;
  let token: string;
  let refresh: string;
  before(async () => {
    sb = await startTestSandbox();
    const t = await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com');
    token = t.access_token;
    refresh = t.refresh_token!;
  });
  afterEach(() => sb.faults.reset());
  after(() => sb.close());
  const drive = () => getJson(sb, `${sb.microsoft.apiBaseUrl}/me/drive`, token);
  const admin = async (body: unknown) => {
    const res = await sb.fetch(`${sb.adminUrl}/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200, await res.clone().text());
    return res.json();
  };
  const refreshWith = (rt: string) => {
    const app = sb.microsoft.apps[0]!;
    return sb.fetch(sb.microsoft.tokenEndpointFor('common'), { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: rt, client_id: app.clientId, client_secret: app.clientSecret }) });
  };

  it('adds latency', async () => {
    sb.faults.setLatency(150, { provider: 'microsoft' });
    const t0 = performance.now();
    assert.equal((await drive()).status, 200);
    assert.ok(performance.now() - t0 >= 145);
    const snap = (await admin({ action: 'latency', ms: 0 })) as { latency: unknown };
    assert.equal(snap.latency, null, 'latency 0 removes the knob');
  });

  it('answers the next N requests 429 with Retry-After in seconds or as an HTTP-date, in Graph format', async () => {
    sb.faults.failNext(2, { status: 429, retryAfter: 7 }, { provider: 'microsoft', pathPrefix: '/v1.0/' });
    for (let i = 0; i < 2; i++) {
      const r = await drive();
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '7');
      assert.equal(r.body.error.code, 'activityLimitReached');
    }
    assert.equal((await drive()).status, 200);
    const when = new Date(Date.UTC(2030, 0, 1, 0, 0, 0));
    await admin({ action: 'failNext', count: 1, status: 429, retryAfter: when.toUTCString(), provider: 'microsoft' });
    const dated = await drive();
    assert.equal(dated.status, 429);
    assert.equal(dated.headers.get('retry-after'), 'Tue, 01 Jan 2030 00:00:00 GMT');
  });

  it('answers 500 and 503', async () => {
    sb.faults.failNext(1, { status: 500 });
    sb.faults.failNext(1, { status: 503, retryAfter: 3 });
    const a = await drive();
    assert.equal(a.status, 500);
    assert.equal(a.body.error.code, 'generalException');
    const b = await drive();
    assert.equal(b.status, 503);
    assert.equal(b.body.error.code, 'serviceNotAvailable');
    assert.equal(b.headers.get('retry-after'), '3');
    const log = sb.requestLog.entries({ provider: 'microsoft' }).slice(-2);
    assert.deepEqual(log.map((e) => [e.status, e.fault]), [[500, 'status-500'], [503, 'status-503']]);
  });

  it('resets the connection', async () => {
    await admin({ action: 'resetNext', count: 1, provider: 'microsoft' });
    await assert.rejects(drive(), (err: Error) => err instanceof TypeError && /fetch failed/.test(err.message));
    assert.equal(sb.requestLog.entries().at(-1)!.fault, 'reset');
    assert.equal((await drive()).status, 200);
  });

  it('sends malformed JSON', async () => {
    sb.faults.malformedNext(1, { pathPrefix: '/v1.0/me/drive' });
    const res = await sb.fetch(`${sb.microsoft.apiBaseUrl}/me/drive`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.throws(() => JSON.parse(text), SyntaxError);
    assert.equal((await drive()).status, 200);
  });

  it('takes the token endpoint down and slows it', async () => {
    await admin({ action: 'tokenEndpoint', provider: 'microsoft', down: true });
    const down = await refreshWith(refresh);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'temporarily_unavailable');
    assert.equal((await drive()).status, 200, 'Graph itself stays up');
    sb.faults.setTokenEndpoint('microsoft', { down: false, delayMs: 200 });
    const t0 = performance.now();
    const slow = await refreshWith(refresh);
    assert.ok(performance.now() - t0 >= 195);
    assert.equal(slow.status, 200);
    refresh = ((await slow.json()) as { refresh_token: string }).refresh_token;
  });

  it("revokes a user's grant: API calls 401 and refresh fails with AADSTS50173 until the user signs in again", async () => {
    await admin({ action: 'revokeGrant', provider: 'microsoft', user: 'adele@contoso.onmicrosoft.com' });
    const api = await drive();
    assert.equal(api.status, 401);
    assert.match(api.body.error.message, /TokenIssuedBeforeRevocationTimestamp/);
    const r = await refreshWith(refresh);
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: string; error_codes: number[] };
    assert.equal(body.error, 'invalid_grant');
    assert.deepEqual(body.error_codes, [50173]);
    const fresh = await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com');
    token = fresh.access_token;
    refresh = fresh.refresh_token!;
    assert.equal((await drive()).status, 200);
  });

  it('turns refresh-token rotation off and on', async () => {
    await admin({ action: 'refreshRotation', provider: 'microsoft', enabled: false });
    const r1 = (await (await refreshWith(refresh)).json()) as Record<string, string>;
    assert.equal(r1.refresh_token, undefined);
    assert.equal((await refreshWith(refresh)).status, 200, 'the same refresh token keeps working');
    sb.faults.setRefreshRotation('microsoft', true);
    const r2 = (await (await refreshWith(refresh)).json()) as Record<string, string>;
    assert.ok(r2.refresh_token);
    refresh = r2.refresh_token!;
  });

  it('holds a produced token answer until released (the refresh token it replaces is already spent), in-process and through the admin endpoint', async () => {
    const hold = sb.faults.holdNextTokenResponse('microsoft');
    const pending = refreshWith(refresh);
    await hold.issued;
    const reused = await refreshWith(refresh);
    assert.equal(reused.status, 400, 'the used refresh token was retired when the held answer was produced');
    hold.release();
    const answered = await pending;
    assert.equal(answered.status, 200);
    refresh = ((await answered.json()) as Record<string, string>).refresh_token!;

    await admin({ action: 'holdTokenResponse', provider: 'microsoft' });
    const held = refreshWith(refresh);
    const state = async () => ((await (await sb.fetch(`${sb.adminUrl}/sandbox/faults`)).json()) as { heldTokenResponses: Array<{ state: string }> }).heldTokenResponses;
    // An out-of-process test sees the answer held in the snapshot.
    while ((await state())[0]?.state !== 'holding') continue;
    await admin({ action: 'releaseTokenResponses' });
    const res = await held;
    assert.equal(res.status, 200);
    refresh = ((await res.json()) as Record<string, string>).refresh_token!;
    assert.deepEqual(await state(), []);
  });

  it('shifts the sandbox clock (Date header, token lifetimes, ID token iat)', async () => {
    await admin({ action: 'clockOffset', seconds: 7200 });
    const res = await drive();
    const date = Date.parse(res.headers.get('date')!);
    assert.ok(Math.abs(date - (Date.now() + 7_200_000)) < 5_000);
    assert.equal(res.status, 401, 'a token issued two hours "earlier" has expired');
    const t = await microsoftSignIn(sb, 'adele@contoso.onmicrosoft.com');
    const claims = JSON.parse(Buffer.from(t.id_token!.split('.')[1]!, 'base64url').toString('utf8'));
    assert.ok(Math.abs(claims.iat * 1000 - (Date.now() + 7_200_000)) < 5_000);
    sb.faults.setClockOffset(0);
    token = t.access_token;
  });

  it('records requests in the log, readable in-process and through the admin endpoint', async () => {
    const mark = sb.requestLog.mark();
    await drive();
    await getJson(sb, `${sb.microsoft.apiBaseUrl}/me/drive/root:/Nope:`, token);
    const mine = sb.requestLog.since(mark);
    assert.deepEqual(mine.map((e) => [e.method, e.path, e.status, e.provider]), [
      ['GET', '/v1.0/me/drive', 200, 'microsoft'],
      ['GET', '/v1.0/me/drive/root:/Nope:', 404, 'microsoft'],
    ]);
    assert.ok(mine.every((e) => typeof e.durationMs === 'number' && !Number.isNaN(Date.parse(e.time))));
    const viaAdmin = (await (await sb.fetch(`${sb.adminUrl}/sandbox/requests?provider=microsoft&since=${mark}`)).json()) as { requests: unknown[] };
    assert.deepEqual(viaAdmin.requests, mine);
    const bad = await sb.fetch(`${sb.adminUrl}/sandbox/faults`, { method: 'POST', body: JSON.stringify({ action: 'explode' }) });
    assert.equal(bad.status, 400);
  });

  it('issues grants through the admin endpoint: expired access tokens, refresh tokens the token endpoint accepts', async () => {
    const app = sb.microsoft.apps[0]!;
    const post = (body: unknown) => sb.fetch(`${sb.adminUrl}/sandbox/grants`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const res = await post({ provider: 'microsoft', clientId: app.clientId, user: 'adele@contoso.onmicrosoft.com', scopes: ['openid', 'offline_access', 'Files.Read'], count: 3, accessTokenSeconds: 0 });
    assert.equal(res.status, 201, await res.clone().text());
    const { grants } = (await res.json()) as { grants: { accessToken: string; refreshToken: string; accessTokenExpiresAt: string }[] };
    assert.equal(grants.length, 3);
    assert.equal(new Set(grants.map((g) => g.refreshToken)).size, 3);
    assert.ok(Date.parse(grants[0]!.accessTokenExpiresAt) <= Date.now());
    assert.equal((await getJson(sb, `${sb.microsoft.apiBaseUrl}/me/drive`, grants[0]!.accessToken)).status, 401, 'issued already expired');
    const refreshed = await refreshWith(grants[1]!.refreshToken);
    assert.equal(refreshed.status, 200);
    const body = (await refreshed.json()) as { access_token: string; refresh_token: string; id_token: string };
    assert.ok(body.refresh_token && body.id_token);
    assert.equal((await getJson(sb, `${sb.microsoft.apiBaseUrl}/me/drive`, body.access_token)).status, 200);
    for (const bad of [
      { provider: 'microsoft', clientId: 'nope', user: 'adele@contoso.onmicrosoft.com', scopes: [], count: 1 },
      { provider: 'microsoft', clientId: app.clientId, user: 'nobody@contoso.onmicrosoft.com', scopes: [], count: 1 },
      { provider: 'microsoft', clientId: app.clientId, user: 'adele@contoso.onmicrosoft.com', scopes: [], count: 0 },
    ]) assert.equal((await post(bad)).status, 400, JSON.stringify(bad));
  });

  it('answers faults in each provider\'s own format (Google, Webex) and scopes knobs by provider', async () => {
    const g = await googleSignIn(sb, 'alice@globex.test');
    const w = await webexSignIn(sb, 'morgan@initech.test');
    sb.faults.failNext(1, { status: 500 }, { provider: 'google' });
    const g500 = await getJson(sb, `${sb.google.driveApiBaseUrl}/files`, g.access_token);
    assert.equal(g500.status, 500);
    assert.equal(g500.body.error.errors[0].reason, 'backendError');
    assert.equal((await drive()).status, 200, 'a Google-scoped fault leaves Microsoft alone');
    sb.faults.failNext(1, { status: 503, retryAfter: 4 }, { provider: 'webex' });
    const w503 = await getJson(sb, `${sb.webex.apiBaseUrl}/people/me`, w.access_token);
    assert.equal(w503.status, 503);
    assert.equal(w503.headers.get('retry-after'), '4');
    assert.ok(w503.body.trackingId);
    sb.faults.setTokenEndpoint('google', { down: true });
    sb.faults.setTokenEndpoint('webex', { down: true });
    const gApp = sb.google.apps[0]!;
    const gDown = await sb.fetch(sb.google.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: g.refresh_token!, client_id: gApp.clientId, client_secret: gApp.clientSecret }) });
    assert.equal(gDown.status, 503);
    assert.equal(((await gDown.json()) as { error: string }).error, 'temporarily_unavailable');
    const wApp = sb.webex.apps[0]!;
    const wDown = await sb.fetch(sb.webex.tokenEndpoint, { method: 'POST', body: form({ grant_type: 'refresh_token', refresh_token: w.refresh_token, client_id: wApp.clientId, client_secret: wApp.clientSecret }) });
    assert.equal(wDown.status, 503);
    assert.match(((await wDown.json()) as { message: string }).message, /temporarily_unavailable/);
    assert.equal((await getJson(sb, `${sb.webex.apiBaseUrl}/people/me`, w.access_token)).status, 200, 'the API stays up while the token endpoint is down');
  });
});
