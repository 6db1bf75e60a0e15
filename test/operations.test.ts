import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createOrgFixture, startTestTether, type OrgFixture, type TestTether } from './support/tether.ts';

describe('operations', () => {
  let t: TestTether;
  let a: OrgFixture;
  before(async () => {
    t = await startTestTether({ TETHER_JOBS_ENABLED: 'true' });
    a = await createOrgFixture(t, 'ops');
  });
  after(() => t.stop());

  it('serves an OpenAPI 3.1 document generated from the route schemas, and rendered docs', async () => {
    const doc = await t.http.get('/api/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    // Every non-hidden API route is described, with its request schema.
    for (const route of t.routes.filter((r) => r.url.startsWith('/api/v1/') && r.url !== '/api/v1/openapi.json')) {
      const path = route.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}');
      assert.ok(doc.body.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} is in the OpenAPI document`);
    }
    const postUser = doc.body.paths['/api/v1/users'].post;
    const body = postUser.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false, 'request bodies are strict');
    assert.ok(body.properties.email && body.required.includes('email'));
    assert.ok(postUser.responses['201'] && postUser.responses['400']);
    const docs = await fetch(`${t.url}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui/i);
  });

  it('exports Prometheus metrics: requests and latency by route, and the job queue depth', async () => {
    await t.http.get('/api/v1/me', a.asAdmin);
    const res = await t.http.get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /tether_http_requests_total\{method="GET",route="\/api\/v1\/me",status="200"\} \d+/);
    assert.match(res.text, /tether_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v1\/me",status="200"\} \d+/);
    assert.match(res.text, /^tether_job_queue_depth \d+$/m);
  });

  it('echoes a sane X-Request-Id, records it in the audit log, and replaces an unsafe one', async () => {
    const res = await t.http.request('POST', '/api/v1/groups', { auth: a.admin.session, body: { name: 'traced' }, headers: { 'x-request-id': 'trace-123' } });
    assert.equal(res.headers.get('x-request-id'), 'trace-123');
    const events = await t.http.get('/api/v1/audit-events?action=group.create', a.admin.session);
    assert.equal(events.body.items.find((e: { targetId: string }) => e.targetId === res.body.id).requestId, 'trace-123');
    const bad = await t.http.request('GET', '/healthz', { headers: { 'x-request-id': 'evil id with spaces' } });
    assert.match(bad.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);

    // One access-log line per request, with the request id, and nothing of its headers.
    const lines = t.logs.flatMap((chunk) => chunk.split('\n')).filter((line) => line.includes('"reqId":"trace-123"'));
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = JSON.parse(lines[0]!);
    assert.deepEqual(
      { level: line.level, service: line.service, msg: line.msg, method: line.req.method, url: line.req.url, statusCode: line.res.statusCode },
      { level: 'info', service: 'tether', msg: 'request completed', method: 'POST', url: '/api/v1/groups', statusCode: 201 },
    );
    assert.equal(typeof line.responseTime, 'number');
    assert.ok(!/cookie|csrf|authorization/i.test(lines[0]!), 'no headers in the access log');
  });

  it('runs the session purge job from the queue', async () => {
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    try {
      await client.query(`update sessions set expires_at = now() - interval '1 minute' where user_id = $1`, [a.member.id]);
      const before = await client.query('select count(*)::int as n from sessions');
      await client.query(`select graphile_worker.add_job('purge_expired_sessions', '{}'::json)`);
      let remaining = -1;
      for (let i = 0; i < 100; i++) {
        remaining = (await client.query('select count(*)::int as n from sessions where user_id = $1', [a.member.id])).rows[0].n;
        if (remaining === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(remaining, 0, 'expired sessions are purged');
      const afterCount = (await client.query('select count(*)::int as n from sessions')).rows[0].n;
      assert.equal(afterCount, before.rows[0].n - 1, 'live sessions are kept');
      assert.equal((await t.http.get('/api/v1/me', a.member.session)).status, 401);
    } finally {
      await client.end();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests before closing', async () => {
    const t = await startTestTether();
    const a = await createOrgFixture(t, 'drain');
    const blocker = new pg.Client({ connectionString: t.config.databaseUrl });
    await blocker.connect();
    // Hold the member's row lock so that PATCH /users/:id is in flight when shutdown begins.
    await blocker.query('begin');
    await blocker.query('select * from users where id = $1 for update', [a.member.id]);
    const inFlight = t.http.patch(`/api/v1/users/${a.member.id}`, { displayName: 'Renamed during shutdown' }, a.admin.session);
    await new Promise((r) => setTimeout(r, 300));
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(closed, false, 'close waits for the in-flight request');
    await blocker.query('commit');
    await blocker.end();
    const res = await inFlight;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.displayName, 'Renamed during shutdown');
    // The drained response closes its keep-alive connection, so the socket cannot hold shutdown open.
    assert.equal(res.headers.get('connection'), 'close');
    await closing;
    await assert.rejects(fetch(`${t.url}/healthz`), 'no longer listening');
    await t.stop();
  });
});
