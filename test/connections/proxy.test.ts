import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createOrgFixture, signIn, type Auth } from '../support/tether.ts';
import { connect, startConnectEnv, tokenCalls, type ConnectEnv } from './support.ts';

const LIMITS = { maxRequestBytes: 64 * 1024, maxResponseBytes: 200_000, timeoutMs: 8000 };

/**
 * A stand-in for a provider API that misbehaves where the sandbox does not: it relays everything to
 * the Webex sandbox (so tokens are checked there) and records the headers it receives; under
 * /v1/relay-test/ it answers with a cookie, redirects and an unannounced large body.
 */
class Relay {
  readonly seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
  private readonly server: http.Server;
  target = '';
  fetch: typeof fetch = fetch;

  constructor() {
    this.server = http.createServer((req, res) => {
      void this.answer(req, res).catch(() => res.destroy());
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url!, this.origin);
    switch (url.pathname) {
      case '/v1/relay-test/cookie':
        res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'lb=sticky; Path=/; HttpOnly', 'x-internal-node': 'api-7', 'www-authenticate': 'Bearer realm="x"', trackingid: 'RELAY_1' });
        res.end('{"ok":true}');
        return;
      case '/v1/relay-test/redirect-off':
        res.writeHead(302, { location: 'https://evil.example/collect' }).end();
        return;
      case '/v1/relay-test/redirect-on':
        res.writeHead(302, { location: `${this.origin}/v1/people/me` }).end();
        return;
      case '/v1/relay-test/stream': {
        // No Content-Length: the size shows only while streaming.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const total = Number(url.searchParams.get('bytes'));
        for (let sent = 0; sent < total; sent += 16 * 1024) {
          if (!res.write(Buffer.alloc(Math.min(16 * 1024, total - sent), 0x61))) await new Promise((r) => res.once('drain', r));
        }
        res.end();
        return;
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers.set(k, v);
    const upstream = await this.fetch(`${this.target}${req.url}`, { method: req.method!, headers, ...(chunks.length && { body: Buffer.concat(chunks) }), redirect: 'manual' });
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-encoding', 'transfer-encoding', 'connection', 'content-length'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out).end(Buffer.from(await upstream.arrayBuffer()));
  }
}

/**
 * The restricted proxy, /api/v1/connections/{id}/proxy/<path>, through the public HTTP API against
 * the sandbox: Webex (seed 001's compliance APIs), Graph and Drive pass through; hostile paths are
 * refused with no request to any provider; only allowlisted headers travel either way; the token
 * stays between Tether and the API host; refresh, throttling, size and time limits; visibility.
 */
describe('provider API proxy', () => {
  let env: ConnectEnv;
  const relay = new Relay();
  const conn = {} as Record<'microsoft' | 'google' | 'webex' | 'relay', string>;
  let member: Auth;

  before(async () => {
    await relay.start();
    env = await startConnectEnv({
      scopePresets: { microsoft: 'documents', google: 'documents', webex: 'webex-compliance' },
      tetherEnv: {
        TETHER_PROXY_MAX_REQUEST_BYTES: String(LIMITS.maxRequestBytes),
        TETHER_PROXY_MAX_RESPONSE_BYTES: String(LIMITS.maxResponseBytes),
        TETHER_PROXY_TIMEOUT_MS: String(LIMITS.timeoutMs),
      },
      // The relay as an operator profile: the sandbox's Webex sign-in, the relay as API base.
      profiles: (sb) => ({ relay: { webex: { ...sb.endpoints().webex, apiBaseUrl: `${relay.origin}/v1` } } }),
    });
    relay.target = new URL(env.sb.webex.apiBaseUrl).origin;
    relay.fetch = env.sb.fetch;
    member = env.org.member.session;
    for (const provider of ['microsoft', 'google'] as const) conn[provider] = (await connect(env, provider)).location!.searchParams.get('connectionId')!;
    // Seed 001: the compliance service account (Compliance Officer) with the compliance scopes.
    const compliance = 'yuki@initech.test';
    conn.webex = (await connect(env, 'webex', undefined, { login: compliance })).location!.searchParams.get('connectionId')!;
    const registered = env.sb.registerApp('webex', { redirectUris: [`${env.t.config.publicUrl}/oauth/callback`] });
    const app = await env.t.http.post('/api/v1/provider-apps', { provider: 'webex', profile: 'relay', displayName: 'Relay', clientId: registered.clientId, clientSecret: registered.clientSecret, scopePreset: 'webex-compliance' }, env.org.admin.session);
    assert.equal(app.status, 201, app.text);
    const viaRelay = { ...env, apps: { ...env.apps, webex: { id: app.body.id, clientId: registered.clientId } } };
    conn.relay = (await connect(viaRelay, 'webex', undefined, { login: compliance })).location!.searchParams.get('connectionId')!;
  });
  after(async () => {
    await env?.stop();
    await relay.close();
  });

  const proxy = (which: keyof typeof conn, rest: string) => `/api/v1/connections/${conn[which]}/proxy/${rest}`;

  /** A request exactly as given: no client-side normalisation of "..", "%2e" or "//". */
  function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${env.t.url}/`, { method, path, agent: false, headers: { ...headers, ...(body && { 'content-length': String(body.length) }) } }, (res) => {
        let text = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const sessionHeaders = (auth: Auth & { kind: 'session' }) => ({ cookie: auth.cookie, 'x-csrf-token': auth.csrf });

  it('Webex: people/me and the compliance events API (seed 001) pass through; Link paging becomes proxy URLs', async () => {
    const me = await env.t.http.get(proxy('webex', 'people/me'), member);
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body.emails, ['yuki@initech.test']);
    assert.equal(me.headers.get('tether-proxy'), 'upstream');
    assert.equal(me.headers.get('cache-control'), 'private, no-store');

    const mark = env.sb.requestLog.mark();
    const page = await env.t.http.get(proxy('webex', 'events?resource=messages&type=created&max=3'), member);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.body.items.length, 3);
    assert.ok(page.body.items.every((e: { resource: string }) => e.resource === 'messages'));
    assert.deepEqual(env.sb.requestLog.since(mark).map((e) => `${e.method} ${e.path}`), ['GET /v1/events?resource=messages&type=created&max=3'], 'path and query forwarded as given');
    const next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '');
    assert.ok(next, `a rewritten Link header: ${page.headers.get('link')}`);
    const nextUrl = new URL(next[1]!);
    assert.equal(nextUrl.origin, env.t.config.publicUrl);
    assert.equal(nextUrl.pathname, `/api/v1/connections/${conn.webex}/proxy/events`);
    const second = await env.t.http.get(`${nextUrl.pathname}${nextUrl.search}`, member);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.items.length, 3);
    assert.ok(!second.body.items.some((e: { id: string }) => page.body.items.some((p: { id: string }) => p.id === e.id)), 'the next page, not the same one');

    // The provider's own errors pass through, status and body.
    const missing = await env.t.http.get(proxy('webex', 'people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS9ub25l'), member);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('tether-proxy'), 'upstream');
    assert.equal(typeof missing.body.trackingId, 'string');
  });

  it('Webex: a POST with a JSON body passes through once', async () => {
    const mark = env.sb.requestLog.mark();
    const text = `Proxy ${Date.now()}`;
    const sent = await env.t.http.post(proxy('webex', 'messages'), { toPersonEmail: 'sam@initech.test', text }, member);
    assert.equal(sent.status, 200, sent.text);
    assert.equal(sent.body.text, text);
    const read = await env.t.http.get(proxy('webex', `messages/${encodeURIComponent(sent.body.id)}`), member);
    assert.equal(read.body.text, text);
    assert.equal(env.sb.requestLog.since(mark).filter((e) => e.method === 'POST').length, 1);
  });

  it('Microsoft Graph and Google Drive: reads pass through with their OData/Drive query syntax', async () => {
    const children = await env.t.http.get(proxy('microsoft', 'me/drive/root/children?$select=name,id&$top=50'), member);
    assert.equal(children.status, 200, children.text);
    assert.ok(children.body.value.some((i: { name: string }) => i.name === 'Documents'));
    assert.deepEqual(Object.keys(children.body.value[0]).filter((k) => !k.startsWith('@')).sort(), ['id', 'name']);
    const q = encodeURIComponent("name = 'Photos' and trashed = false");
    const files = await env.t.http.get(proxy('google', `drive/v3/files?q=${q}&fields=files(id,name,mimeType)`), member);
    assert.equal(files.status, 200, files.text);
    assert.deepEqual(files.body.files.map((f: { name: string }) => f.name), ['Photos']);
  });

  it('refuses hostile paths and queries (400 invalid_proxy_path) without any request to a provider', async () => {
    const mark = env.sb.requestLog.mark();
    const relayBefore = relay.seen.length;
    const hostile = [
      '..', '.', '../x', './people/me', 'people/../../x', 'people/./me', 'people/..',
      '%2e%2e/x', '%2E%2E/x', '%2e', '.%2e/x', '%2e./x', 'people/%2e%2e/%2e%2e/x', '%252e%252e/x', '%25252e%25252e/x',
      'people%2fme', 'people%2Fme', '%2f%2fevil.example/x', 'people%252fme', 'people%5cme', 'people\\me', '\\\\evil.example/x',
      '/evil.example/x', '//evil.example/x', 'people//me', 'https://evil.example/x', 'https:/evil.example', 'https:%2F%2Fevil.example',
      'http:evil.example', 'javascript:alert(1)', 'C:/x', 'user@evil.example/x', 'people/me@evil.example',
      'people%00me', 'people%0ame', 'people%0d%0aX-Injected:%201', 'people%09', 'people%7f', 'people%2500',
      'people/%zz', 'people/%2', 'people/<script>', 'people/\u00e9', 'people/a"b', 'people/a`b', 'people/a{b}',
      `${'a'.repeat(2100)}`, '',
      'people/me?x=<y>', 'people/me?x=%zz', 'people/me?x=1%', `people/me?${'x'.repeat(9000)}`, 'people/me?a=b#c',
    ];
    for (const path of hostile) {
      const res = await raw('GET', `/api/v1/connections/${conn.relay}/proxy/${path}`, sessionHeaders(env.org.member.session));
      assert.equal(res.status, 400, `${JSON.stringify(path.slice(0, 60))}: ${res.status} ${res.text.slice(0, 200)}`);
      // Node's HTTP parser refuses raw non-ASCII, and Fastify URLs it cannot decode (%zz), before
      // routing; everything else is refused by the proxy's own checks.
      if (!/%zz|%2$|\u00e9/.test(path.split('?')[0]!)) assert.equal(JSON.parse(res.text).error.code, 'invalid_proxy_path', `${path.slice(0, 60)}: ${res.text.slice(0, 200)}`);
    }
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await raw(method, `/api/v1/connections/${conn.webex}/proxy/people/%2e%2e/%2e%2e/x`, { ...sessionHeaders(env.org.member.session), 'content-type': 'application/json' }, Buffer.from('{}'));
      assert.equal(res.status, 400, `${method}: ${res.text}`);
    }
    assert.deepEqual(env.sb.requestLog.since(mark), [], 'no request reached the sandbox');
    assert.equal(relay.seen.length, relayBefore, 'no request reached the relay');
    // Percent-encoded "@" and ":" past the first segment are plain path characters, and allowed.
    const ok = await raw('GET', `/api/v1/connections/${conn.webex}/proxy/people/me%40x:y`, sessionHeaders(env.org.member.session));
    assert.equal(ok.status, 404, ok.text);
    assert.deepEqual(env.sb.requestLog.since(mark).map((e) => e.path), ['/v1/people/me%40x:y']);
  });

  it("sends only allowlisted headers upstream — never the caller's Authorization, cookies, Host or X-Forwarded-* — and the token never comes back", async () => {
    const key = await env.t.http.post('/api/v1/api-keys', { name: 'proxy test' }, env.org.admin.session);
    const callerKey: string = key.body.key;
    const before = relay.seen.length;
    const res = await raw('GET', proxy('relay', 'people/me?secretish=hunter2'), {
      authorization: `Bearer ${callerKey}`,
      'tether-user': env.org.member.externalId,
      cookie: 'tether_session=not-for-providers; other=1',
      host: 'tether.internal',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'http',
      forwarded: 'for=203.0.113.9',
      origin: 'https://evil.example',
      'x-custom-secret': 'do-not-forward',
      accept: 'application/json',
      'accept-language': 'de',
      'if-none-match': '"abc"',
      prefer: 'return=minimal',
    });
    assert.equal(res.status, 200, res.text);
    const seen = relay.seen.slice(before);
    assert.equal(seen.length, 1);
    const h = seen[0]!.headers;
    assert.equal(seen[0]!.url, '/v1/people/me?secretish=hunter2');
    assert.match(String(h.authorization), /^Bearer \S+$/);
    const token = String(h.authorization).slice('Bearer '.length);
    assert.notEqual(token, callerKey);
    assert.ok(!String(h.authorization).includes(callerKey));
    for (const name of ['cookie', 'tether-user', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'origin', 'x-custom-secret', 'x-csrf-token']) {
      assert.equal(h[name], undefined, `${name} must not be forwarded`);
    }
    assert.equal(h.host, new URL(relay.origin).host);
    assert.equal(h['accept-language'], 'de');
    assert.equal(h['if-none-match'], '"abc"');
    assert.equal(h.prefer, 'return=minimal');
    // The token the provider saw is the connection's, and it is in no answer or log line of Tether.
    assert.deepEqual(JSON.parse(res.text).emails, ['yuki@initech.test']);
    assert.ok(!res.text.includes(token) && !JSON.stringify(res.headers).includes(token));
    assert.ok(!env.t.logs.some((line) => line.includes(token)), 'the token is in no log line');
    assert.ok(!env.t.logs.some((line) => line.includes('hunter2')), 'proxied query strings are not logged');
    assert.ok(env.t.logs.some((line) => line.includes(`/api/v1/connections/${conn.relay}/proxy/people/me?[redacted]`)));
  });

  it('strips Set-Cookie and unlisted response headers; redirects are not followed, and only on-base Locations are kept (rewritten)', async () => {
    const cookie = await env.t.http.get(proxy('relay', 'relay-test/cookie'), member);
    assert.equal(cookie.status, 200);
    assert.deepEqual(cookie.body, { ok: true });
    assert.deepEqual(cookie.headers.getSetCookie(), []);
    assert.equal(cookie.headers.get('x-internal-node'), null);
    assert.equal(cookie.headers.get('www-authenticate'), null);
    assert.equal(cookie.headers.get('trackingid'), 'RELAY_1');

    const before = relay.seen.length;
    const off = await env.t.http.get(proxy('relay', 'relay-test/redirect-off'), member);
    assert.equal(off.status, 302);
    assert.equal(off.headers.get('location'), null, 'a Location off the API base is dropped');
    const on = await env.t.http.get(proxy('relay', 'relay-test/redirect-on'), member);
    assert.equal(on.status, 302);
    assert.equal(on.headers.get('location'), `${env.t.config.publicUrl}/api/v1/connections/${conn.relay}/proxy/people/me`);
    assert.deepEqual(relay.seen.slice(before).map((s) => s.url), ['/v1/relay-test/redirect-off', '/v1/relay-test/redirect-on'], 'neither redirect was followed');
  });

  it('refuses answers over the size limit: 502 upstream_too_large when announced, cut off when streamed', async () => {
    const rooms = await env.t.http.get(proxy('webex', 'rooms?max=100'), member);
    const firehose = rooms.body.items.find((r: { title: string }) => r.title === 'Firehose');
    const big = await env.t.http.get(proxy('webex', `messages?roomId=${encodeURIComponent(firehose.id)}&max=1000`), member);
    assert.equal(big.status, 502, big.text.slice(0, 200));
    assert.equal(big.body.error.code, 'upstream_too_large');
    const small = await env.t.http.get(proxy('webex', `messages?roomId=${encodeURIComponent(firehose.id)}&max=10`), member);
    assert.equal(small.status, 200);

    const within = await fetch(`${env.t.url}${proxy('relay', `relay-test/stream?bytes=${LIMITS.maxResponseBytes}`)}`, { headers: { cookie: env.org.member.session.cookie } });
    assert.equal((await within.arrayBuffer()).byteLength, LIMITS.maxResponseBytes);
    const over = await fetch(`${env.t.url}${proxy('relay', `relay-test/stream?bytes=${LIMITS.maxResponseBytes + 50_000}`)}`, { headers: { cookie: env.org.member.session.cookie } });
    assert.equal(over.status, 200, 'the status line was sent before the size was known');
    let received = 0;
    await assert.rejects(async () => {
      for await (const chunk of over.body!) received += chunk.byteLength;
    }, 'the response is cut off');
    assert.ok(received <= LIMITS.maxResponseBytes, `received ${received} bytes`);
  });

  it('refuses request bodies over the limit (413) without calling the provider', async () => {
    const mark = env.sb.requestLog.mark();
    const body = Buffer.from(JSON.stringify({ toPersonEmail: 'sam@initech.test', text: 'x'.repeat(LIMITS.maxRequestBytes) }));
    const res = await raw('POST', proxy('webex', 'messages'), { ...sessionHeaders(env.org.member.session), 'content-type': 'application/json' }, body);
    assert.equal(res.status, 413, res.text);
    assert.equal(JSON.parse(res.text).error.code, 'payload_too_large');
    assert.deepEqual(env.sb.requestLog.since(mark), []);
  });

  it('a provider 401 triggers one refresh and one retry', async () => {
    env.sb.faults.failNext(1, { status: 401 }, { provider: 'google', pathPrefix: '/drive/v3/files' });
    const mark = env.sb.requestLog.mark();
    const res = await env.t.http.get(proxy('google', 'drive/v3/files?pageSize=5'), member);
    assert.equal(res.status, 200, res.text);
    assert.equal(tokenCalls(env, mark).length, 1, 'one refresh');
    assert.deepEqual(env.sb.requestLog.since(mark).filter((e) => e.path.startsWith('/drive/v3/files')).map((e) => e.status), [401, 200]);
  });

  it('honours 429 Retry-After for idempotent requests only; a long wait answers 503 throttled', async () => {
    const scope = { provider: 'webex' as const, pathPrefix: '/v1/people/me' };
    env.sb.faults.failNext(1, { status: 429, retryAfter: 1 }, scope);
    let mark = env.sb.requestLog.mark();
    const retried = await env.t.http.get(proxy('webex', 'people/me'), member);
    assert.equal(retried.status, 200, retried.text);
    assert.deepEqual(env.sb.requestLog.since(mark).map((e) => e.status), [429, 200]);

    env.sb.faults.failNext(1, { status: 429, retryAfter: 120 }, scope);
    mark = env.sb.requestLog.mark();
    const long = await env.t.http.get(proxy('webex', 'people/me'), member);
    assert.equal(long.status, 503, long.text);
    assert.equal(long.body.error.code, 'throttled');
    assert.equal(long.headers.get('retry-after'), '120');
    assert.equal(env.sb.requestLog.since(mark).length, 1);

    env.sb.faults.failNext(1, { status: 429, retryAfter: 1 }, { provider: 'webex', method: 'POST', pathPrefix: '/v1/messages' });
    mark = env.sb.requestLog.mark();
    const post = await env.t.http.post(proxy('webex', 'messages'), { toPersonEmail: 'sam@initech.test', text: 'not twice' }, member);
    assert.equal(post.status, 429, 'passed through, not retried');
    assert.equal(post.headers.get('retry-after'), '1');
    assert.equal(post.headers.get('tether-proxy'), 'upstream');
    assert.equal(env.sb.requestLog.since(mark).length, 1);
  });

  it('gives up at the total time limit: 504 upstream_timeout', async () => {
    env.sb.faults.setLatency(LIMITS.timeoutMs + 5000, { provider: 'webex', pathPrefix: '/v1/rooms' });
    try {
      const res = await env.t.http.get(proxy('webex', 'rooms'), member);
      assert.equal(res.status, 504, res.text);
      assert.equal(res.body.error.code, 'upstream_timeout');
    } finally {
      env.sb.faults.setLatency(0);
    }
  });

  it("answers 404 with no upstream call to another org and to a member who cannot see the connection; admins see it", async () => {
    const other = await createOrgFixture(env.t, 'proxy-other');
    const password = 'pw-outsider-123456';
    const outsider = await env.t.http.post('/api/v1/users', { email: 'outsider@connect.test', displayName: 'Outsider', role: 'member', password }, env.org.admin.session);
    assert.equal(outsider.status, 201, outsider.text);
    const outsiderSession = await signIn(env.t.http, env.org.slug, 'outsider@connect.test', password);
    const mark = env.sb.requestLog.mark();
    for (const auth of [other.admin.session, other.asMember, other.asAdmin, outsiderSession] as Auth[]) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await env.t.http.request(method, proxy('webex', 'people/me'), { auth, ...(method === 'POST' && { body: {} }) });
        assert.equal(res.status, 404, res.text);
        assert.equal(res.body.error.code, 'not_found');
      }
    }
    // Only this test's path: the previous test's deliberately slow /v1/rooms request may still be logged meanwhile.
    assert.deepEqual(env.sb.requestLog.since(mark).filter((e) => !e.path.startsWith('/v1/rooms')), []);
    const admin = await env.t.http.get(proxy('webex', 'people/me'), env.org.admin.session);
    assert.equal(admin.status, 200, admin.text);
  });

  it('counts proxied requests in /metrics by provider, method and status — never the path', async () => {
    const metrics = await fetch(`${env.t.url}/metrics`).then((r) => r.text());
    const lines = metrics.split('\n').filter((l) => l.startsWith('tether_proxy_requests_total{'));
    assert.ok(lines.some((l) => /provider="webex",method="GET",status="200"\} [1-9]/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /provider="webex",method="POST",status="429"\}/.test(l)));
    assert.ok(lines.some((l) => /provider="webex",method="GET",status="504"\}/.test(l)));
    for (const l of lines) assert.doesNotMatch(l, /people|events|drive|proxy\/|[0-9a-f]{8}-[0-9a-f]{4}/);
  });

  it('a revoked grant: 409 needs_reauth, and no more upstream calls on that connection', async () => {
    env.sb.faults.revokeGrant('microsoft', env.sb.microsoft.accounts.find((a) => a.email === env.logins.microsoft)!.id);
    const first = await env.t.http.get(proxy('microsoft', 'me'), member);
    assert.equal(first.status, 409, first.text);
    assert.equal(first.body.error.code, 'needs_reauth');
    const mark = env.sb.requestLog.mark();
    const again = await env.t.http.get(proxy('microsoft', 'me'), member);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'needs_reauth');
    assert.deepEqual(env.sb.requestLog.since(mark), []);
    assert.equal((await env.t.http.get(`/api/v1/connections/${conn.microsoft}`, member)).body.status, 'needs-reauth');
  });
});
