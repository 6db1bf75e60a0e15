/**
 * Bad input, table-driven: every row is a request Tether must refuse with a documented status and
 * stable code (docs/errors.md) in the one error body, writing nothing — every table of the database
 * is fingerprinted before and after each row. Then the two rejections that DO write by design (failed
 * and rate-limited sign-ins, which are audited), and the audit log's paging.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createOrgFixture, signIn, type Auth, type OrgFixture, type Response, type TestTether, startTestTether } from './support/tether.ts';

interface Case {
  name: string;
  method: string;
  path: string;
  auth?: Auth;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const ONE_MIB = 1024 * 1024;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Row count and a content hash of every table in the database (ignoring API keys' last-used time). */
async function fingerprint(db: pg.Client): Promise<Record<string, string>> {
  const tables = await db.query<{ name: string }>(
    `select format('%I.%I', table_schema, table_name) as name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`,
  );
  const result: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const row = await db.query<{ n: number; h: string }>(
      `select count(*)::int as n, md5(coalesce(string_agg(r, '|' order by r), '')) as h
       from (select (to_jsonb(x) - 'last_used_at')::text as r from ${name} x) rows`,
    );
    result[name] = `${row.rows[0]!.n} rows, ${row.rows[0]!.h}`;
  }
  return result;
}

async function count(db: pg.Client, table: string): Promise<number> {
  return (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
}

/** `code → status` from the table in docs/errors.md, the documented list clients rely on. */
function documentedCodes(): Map<string, number> {
  const text = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  return new Map([...text.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
}

/** `code → status` of every TetherError constructed in src/ (the provider emulators in src/sandbox are not Tether's API). */
function codesInSource(): Map<string, number> {
  const root = new URL('../src/', import.meta.url).pathname;
  const found = new Map<string, number>();
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.startsWith('sandbox')) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/new (?:TetherError|OAuthError)\(\s*(\d{3}),\s*'([a-z_]+)'/g)) found.set(m[2]!, Number(m[1]));
  }
  return found;
}

function assertError(res: Response, status: number, code: string, where: string): void {
  assert.equal(res.status, status, `${where}: expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${where}: error body must be JSON`);
  assert.equal(res.body?.error?.code, code, `${where}: ${res.text}`);
  assert.equal(typeof res.body.error.message, 'string', `${where}: error.message`);
  assert.deepEqual(Object.keys(res.body).sort(), ['error'], `${where}: nothing but "error" in the body`);
}

describe('bad input', () => {
  let t: TestTether;
  let db: pg.Client;
  let a: OrgFixture;
  let b: OrgFixture;
  let operator: Auth;
  let revokedKey: string;

  before(async () => {
    t = await startTestTether();
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    a = await createOrgFixture(t, 'org-a');
    b = await createOrgFixture(t, 'org-b');
    operator = { kind: 'operator', token: t.config.operatorToken! };
    const created = await t.http.post('/api/v1/api-keys', { name: 'to revoke' }, a.admin.session);
    assert.equal(created.status, 201, created.text);
    revokedKey = created.body.key;
    assert.equal((await t.http.delete(`/api/v1/api-keys/${created.body.apiKey.id}`, a.admin.session)).status, 200);
  });
  after(async () => {
    await db?.end();
    await t?.stop();
  });

  function cases(): Case[] {
    const admin = a.admin.session;
    const key = a.asAdmin;
    const json = { 'content-type': 'application/json' };
    const oversized = `{"name":"${'a'.repeat(ONE_MIB)}"}`;
    const login = { org: a.slug, email: a.admin.email, password: a.admin.password };
    const noCsrf = (session: Auth & { kind: 'session' }): Pick<Case, 'auth' | 'headers'> => ({ headers: { cookie: session.cookie } });
    return [
      // Malformed JSON
      { name: 'truncated JSON (session)', method: 'POST', path: '/api/v1/groups', auth: admin, rawBody: '{"name":', headers: json, status: 400, code: 'invalid_json' },
      { name: 'truncated JSON (API key)', method: 'POST', path: '/api/v1/groups', auth: key, rawBody: '{"name": "x",}', headers: json, status: 400, code: 'invalid_json' },
      { name: 'not JSON at all (login)', method: 'POST', path: '/api/v1/auth/login', rawBody: 'org=a&email=b', headers: json, status: 400, code: 'invalid_json' },
      { name: 'empty JSON body', method: 'POST', path: '/api/v1/groups', auth: key, rawBody: '', headers: json, status: 400, code: 'invalid_json' },
      { name: 'prototype pollution', method: 'POST', path: '/api/v1/groups', auth: key, rawBody: '{"__proto__":{"role":"admin"},"name":"x"}', headers: json, status: 400, code: 'invalid_json' },
      { name: 'malformed JSON on an operator route', method: 'POST', path: '/api/v1/operator/orgs', auth: operator, rawBody: '{slug:"x"}', headers: json, status: 400, code: 'invalid_json' },
      // Wrong types and values
      { name: 'a JSON array for an object', method: 'POST', path: '/api/v1/groups', auth: key, body: [{ name: 'x' }], status: 400, code: 'validation_failed' },
      { name: 'a JSON string for an object', method: 'POST', path: '/api/v1/groups', auth: key, body: 'x', status: 400, code: 'validation_failed' },
      { name: 'number for a name', method: 'POST', path: '/api/v1/groups', auth: key, body: { name: 42 }, status: 400, code: 'validation_failed' },
      { name: 'blank name', method: 'POST', path: '/api/v1/groups', auth: admin, body: { name: '   ' }, status: 400, code: 'validation_failed' },
      { name: 'missing required field', method: 'POST', path: '/api/v1/users', auth: key, body: { email: 'new@org-a.test' }, status: 400, code: 'validation_failed' },
      { name: 'invalid email', method: 'POST', path: '/api/v1/users', auth: key, body: { email: 'not-an-email', displayName: 'X' }, status: 400, code: 'validation_failed' },
      { name: 'unknown role', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, auth: key, body: { role: 'owner' }, status: 400, code: 'validation_failed' },
      { name: 'short password', method: 'POST', path: '/api/v1/users', auth: key, body: { email: 'new@org-a.test', displayName: 'X', password: 'short' }, status: 400, code: 'validation_failed' },
      { name: 'groupIds not an array', method: 'POST', path: '/api/v1/users', auth: key, body: { email: 'new@org-a.test', displayName: 'X', groupIds: a.group.id }, status: 400, code: 'validation_failed' },
      { name: 'groupIds with a non-UUID', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, auth: key, body: { groupIds: ['nope'] }, status: 400, code: 'validation_failed' },
      { name: 'empty change', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, auth: key, body: {}, status: 400, code: 'validation_failed' },
      { name: 'bad slug (operator)', method: 'POST', path: '/api/v1/operator/orgs', auth: operator, body: { slug: 'Not A Slug', name: 'X' }, status: 400, code: 'validation_failed' },
      { name: 'number for a password (login)', method: 'POST', path: '/api/v1/auth/login', body: { ...login, password: 12345678901234 }, status: 400, code: 'validation_failed' },
      // Unknown fields
      { name: 'unknown field (group)', method: 'POST', path: '/api/v1/groups', auth: admin, body: { name: 'x', orgId: b.orgId }, status: 400, code: 'validation_failed' },
      { name: 'unknown field (user patch)', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, auth: key, body: { displayName: 'x', isAdmin: true }, status: 400, code: 'validation_failed' },
      { name: 'unknown field (login)', method: 'POST', path: '/api/v1/auth/login', body: { ...login, remember: true }, status: 400, code: 'validation_failed' },
      { name: 'unknown field (operator org)', method: 'POST', path: '/api/v1/operator/orgs', auth: operator, body: { slug: 'new-org', name: 'X', plan: 'pro' }, status: 400, code: 'validation_failed' },
      { name: 'unknown field (operator admin)', method: 'POST', path: `/api/v1/operator/orgs/${a.orgId}/admins`, auth: operator, body: { email: 'x@org-a.test', displayName: 'X', role: 'member' }, status: 400, code: 'validation_failed' },
      // Oversized bodies (limit: 1 MiB)
      { name: 'body over 1 MiB (session)', method: 'POST', path: '/api/v1/groups', auth: admin, rawBody: oversized, headers: json, status: 413, code: 'payload_too_large' },
      { name: 'body over 1 MiB (API key)', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, auth: key, rawBody: oversized, headers: json, status: 413, code: 'payload_too_large' },
      { name: 'body over 1 MiB (login)', method: 'POST', path: '/api/v1/auth/login', rawBody: oversized, headers: json, status: 413, code: 'payload_too_large' },
      // Bad ids in path parameters
      { name: 'user id not a UUID', method: 'GET', path: '/api/v1/users/not-a-uuid', auth: key, status: 400, code: 'validation_failed' },
      { name: 'user id with SQL', method: 'DELETE', path: `/api/v1/users/${encodeURIComponent("1' or '1'='1")}`, auth: key, status: 400, code: 'validation_failed' },
      { name: 'nil UUID', method: 'PATCH', path: '/api/v1/users/00000000-0000-0000-0000-000000000000', auth: key, body: { displayName: 'x' }, status: 400, code: 'validation_failed' },
      { name: 'group id a number', method: 'DELETE', path: '/api/v1/groups/123', auth: key, status: 400, code: 'validation_failed' },
      { name: 'member ids not UUIDs', method: 'PUT', path: '/api/v1/groups/x/members/y', auth: key, status: 400, code: 'validation_failed' },
      { name: 'key id not a UUID', method: 'DELETE', path: '/api/v1/api-keys/abc', auth: key, status: 400, code: 'validation_failed' },
      { name: 'org id not a UUID (operator)', method: 'GET', path: '/api/v1/operator/orgs/org-a', auth: operator, status: 400, code: 'validation_failed' },
      { name: 'key id not a UUID (operator revoke)', method: 'DELETE', path: `/api/v1/operator/orgs/${a.orgId}/api-keys/nope`, auth: operator, status: 400, code: 'validation_failed' },
      // Bad query values
      { name: 'limit 0', method: 'GET', path: '/api/v1/users?limit=0', auth: key, status: 400, code: 'validation_failed' },
      { name: 'limit too large', method: 'GET', path: '/api/v1/groups?limit=201', auth: key, status: 400, code: 'validation_failed' },
      { name: 'limit not a number', method: 'GET', path: '/api/v1/users?limit=ten', auth: key, status: 400, code: 'validation_failed' },
      { name: 'limit a fraction', method: 'GET', path: '/api/v1/audit-events?limit=1.5', auth: key, status: 400, code: 'validation_failed' },
      { name: 'limit given twice', method: 'GET', path: '/api/v1/users?limit=1&limit=2', auth: key, status: 400, code: 'validation_failed' },
      { name: 'unknown query parameter', method: 'GET', path: '/api/v1/users?orgId=x', auth: key, status: 400, code: 'validation_failed' },
      { name: 'bad audit action filter', method: 'GET', path: `/api/v1/audit-events?action=${encodeURIComponent("x'; drop table users")}`, auth: key, status: 400, code: 'validation_failed' },
      { name: 'forged users cursor', method: 'GET', path: '/api/v1/users?cursor=garbage', auth: key, status: 400, code: 'invalid_cursor' },
      { name: 'forged groups cursor', method: 'GET', path: `/api/v1/groups?cursor=${b64("' or 1=1")}`, auth: key, status: 400, code: 'invalid_cursor' },
      { name: 'forged audit cursor', method: 'GET', path: `/api/v1/audit-events?cursor=${b64('-1')}`, auth: key, status: 400, code: 'invalid_cursor' },
      { name: 'audit cursor beyond bigint', method: 'GET', path: `/api/v1/audit-events?cursor=${b64('9999999999999999999')}`, auth: key, status: 400, code: 'invalid_cursor' },
      { name: 'overlong cursor', method: 'GET', path: `/api/v1/audit-events?cursor=${'a'.repeat(201)}`, auth: key, status: 400, code: 'validation_failed' },
      // Content types other than JSON
      { name: 'text/plain body', method: 'POST', path: '/api/v1/groups', auth: admin, rawBody: '{"name":"x"}', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
      { name: 'form body', method: 'POST', path: '/api/v1/groups', auth: key, rawBody: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
      { name: 'text/plain login (a cross-site form can send it)', method: 'POST', path: '/api/v1/auth/login', rawBody: JSON.stringify(login), headers: { 'content-type': 'text/plain;charset=UTF-8' }, status: 415, code: 'unsupported_media_type' },
      { name: 'XML body (operator)', method: 'POST', path: '/api/v1/operator/orgs', auth: operator, rawBody: '<org/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'unsupported_media_type' },
      // API keys and the Tether-User header
      { name: 'API key without Tether-User', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key }, status: 400, code: 'tether_user_required' },
      { name: 'API key without Tether-User (write)', method: 'POST', path: '/api/v1/groups', auth: { kind: 'apiKey', key: a.apiKey.key }, body: { name: 'x' }, status: 400, code: 'tether_user_required' },
      { name: 'API key with an empty Tether-User', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key, user: '' }, status: 400, code: 'tether_user_required' },
      { name: 'unknown external id', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key, user: 'nobody' }, status: 401, code: 'unknown_user' },
      { name: 'unknown user id', method: 'POST', path: '/api/v1/groups', auth: { kind: 'apiKey', key: a.apiKey.key, user: randomUUID() }, body: { name: 'x' }, status: 401, code: 'unknown_user' },
      { name: "another org's user id", method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key, user: b.admin.id }, status: 401, code: 'unknown_user' },
      { name: "another org's external id", method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key, user: b.member.externalId }, status: 401, code: 'unknown_user' },
      { name: 'overlong Tether-User', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: a.apiKey.key, user: 'u'.repeat(300) }, status: 401, code: 'unknown_user' },
      { name: 'revoked API key', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: revokedKey, user: a.admin.id }, status: 401, code: 'unauthenticated' },
      { name: 'revoked API key (write)', method: 'POST', path: '/api/v1/groups', auth: { kind: 'apiKey', key: revokedKey, user: a.admin.id }, body: { name: 'x' }, status: 401, code: 'unauthenticated' },
      { name: 'unknown API key', method: 'GET', path: '/api/v1/me', auth: { kind: 'apiKey', key: `${a.apiKey.key.slice(0, -4)}AAAA`, user: a.admin.id }, status: 401, code: 'unauthenticated' },
      { name: 'not a Bearer authorization', method: 'GET', path: '/api/v1/me', headers: { authorization: `Basic ${b64('admin:pw')}` }, status: 401, code: 'unauthenticated' },
      { name: 'operator token on a user route', method: 'GET', path: '/api/v1/users', auth: operator, status: 401, code: 'unauthenticated' },
      { name: 'API key on an operator route', method: 'GET', path: '/api/v1/operator/orgs', auth: key, status: 401, code: 'unauthenticated' },
      // CSRF on cookie sessions
      { name: 'session POST without X-CSRF-Token', method: 'POST', path: '/api/v1/groups', ...noCsrf(admin), body: { name: 'x' }, status: 403, code: 'csrf_failed' },
      { name: 'session POST with a wrong X-CSRF-Token', method: 'POST', path: '/api/v1/groups', auth: admin, headers: { 'x-csrf-token': 'wrong' }, body: { name: 'x' }, status: 403, code: 'csrf_failed' },
      { name: "session POST with another session's token", method: 'POST', path: '/api/v1/groups', auth: admin, headers: { 'x-csrf-token': a.member.session.csrf }, body: { name: 'x' }, status: 403, code: 'csrf_failed' },
      { name: 'session POST from a foreign Origin', method: 'POST', path: '/api/v1/groups', auth: admin, headers: { origin: 'https://evil.example' }, body: { name: 'x' }, status: 403, code: 'csrf_failed' },
      { name: 'session POST from an opaque Origin', method: 'POST', path: '/api/v1/groups', auth: admin, headers: { origin: 'null' }, body: { name: 'x' }, status: 403, code: 'csrf_failed' },
      { name: 'session PATCH without X-CSRF-Token', method: 'PATCH', path: `/api/v1/users/${a.member.id}`, ...noCsrf(admin), body: { role: 'admin' }, status: 403, code: 'csrf_failed' },
      { name: 'session DELETE without X-CSRF-Token', method: 'DELETE', path: `/api/v1/groups/${a.group.id}`, ...noCsrf(admin), status: 403, code: 'csrf_failed' },
      { name: 'session PUT without X-CSRF-Token', method: 'PUT', path: `/api/v1/groups/${a.group.id}/members/${a.admin.id}`, ...noCsrf(admin), status: 403, code: 'csrf_failed' },
      { name: 'session logout without X-CSRF-Token', method: 'POST', path: '/api/v1/auth/logout', ...noCsrf(a.member.session), status: 403, code: 'csrf_failed' },
      { name: 'login from a foreign Origin', method: 'POST', path: '/api/v1/auth/login', headers: { origin: 'https://evil.example' }, body: login, status: 403, code: 'csrf_failed' },
    ];
  }

  it('refuses each bad request with its documented status and code, writing nothing', async () => {
    const problems: string[] = [];
    const all = cases();
    const names = new Set<string>();
    for (const c of all) {
      assert.ok(!names.has(c.name), `duplicate case name ${c.name}`);
      names.add(c.name);
      const beforeRows = await fingerprint(db);
      const res = await t.http.request(c.method, c.path, {
        ...(c.auth && { auth: c.auth }),
        ...(c.body !== undefined && { body: c.body }),
        ...(c.rawBody !== undefined && { rawBody: c.rawBody }),
        ...(c.headers && { headers: c.headers }),
      });
      try {
        assertError(res, c.status, c.code, c.name);
      } catch (err) {
        problems.push((err as Error).message.split('\n')[0]!);
      }
      const afterRows = await fingerprint(db);
      const changed = Object.keys(afterRows).filter((table) => afterRows[table] !== beforeRows[table]);
      if (changed.length > 0) problems.push(`${c.name}: wrote to ${changed.join(', ')}`);
    }
    assert.deepEqual(problems, [], `${problems.length} problems in ${all.length} cases`);
  });

  it('refuses an oversized body sent in chunks, without Content-Length (413, nothing written)', async () => {
    const before = await fingerprint(db);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(Buffer.from('{"name":"'));
        if (sent > ONE_MIB + chunk.length) {
          controller.enqueue(Buffer.from('"}'));
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        sent += chunk.length;
      },
    });
    const res = await fetch(`${t.http.base}/api/v1/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${a.apiKey.key}`, 'tether-user': a.admin.id },
      body,
      duplex: 'half',
    } as RequestInit);
    const text = await res.text();
    assertError({ status: res.status, headers: res.headers, body: JSON.parse(text), text }, 413, 'payload_too_large', 'chunked body');
    assert.deepEqual(await fingerprint(db), before);
  });

  it('uses only documented codes, with their documented status (docs/errors.md)', () => {
    const documented = documentedCodes();
    const inSource = codesInSource();
    assert.ok(inSource.size >= 15, `expected Tether's error codes in src/, found ${[...inSource.keys()]}`);
    for (const [code, status] of inSource) assert.equal(documented.get(code), status, `docs/errors.md must list ${code} with status ${status}`);
    for (const code of documented.keys()) assert.ok(inSource.has(code), `docs/errors.md lists ${code}, which src/ never returns`);
    for (const c of cases()) assert.equal(documented.get(c.code), c.status, `${c.name}: ${c.code} ${c.status} is not documented`);
  });

  it('names the failing part of the request and field in validation details', async () => {
    const key = a.asAdmin;
    const body = await t.http.patch(`/api/v1/users/${a.member.id}`, { groupIds: [a.group.id, 'nope'] }, key);
    assertError(body, 400, 'validation_failed', 'body');
    assert.deepEqual(body.body.error.details.map((d: any) => [d.in, d.path]), [['body', 'groupIds.1']]);
    const unknownField = await t.http.post('/api/v1/groups', { name: 'x', extra: 1 }, key);
    assert.deepEqual(unknownField.body.error.details.map((d: any) => d.in), ['body']);
    assert.match(JSON.stringify(unknownField.body.error.details), /extra/);
    const query = await t.http.get('/api/v1/users?limit=0', key);
    assert.deepEqual(query.body.error.details.map((d: any) => [d.in, d.path]), [['querystring', 'limit']]);
    const params = await t.http.get('/api/v1/users/nope', key);
    assert.deepEqual(params.body.error.details.map((d: any) => [d.in, d.path]), [['params', 'userId']]);
    assert.equal(typeof params.body.error.details[0].message, 'string');
  });

  it('accepts the same requests when they are well formed (the table is not refusing for another reason)', async () => {
    const admin = a.admin.session;
    const sameOrigin = await t.http.request('POST', '/api/v1/groups', { auth: admin, headers: { origin: 'http://tether.test' }, body: { name: 'Well formed' } });
    assert.equal(sameOrigin.status, 201, sameOrigin.text);
    const charset = await t.http.request('POST', '/api/v1/groups', {
      auth: a.asAdmin,
      rawBody: JSON.stringify({ name: 'With charset' }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    assert.equal(charset.status, 201, charset.text);
    const justUnder = await t.http.request('PATCH', `/api/v1/users/${a.member.id}`, {
      auth: a.asAdmin,
      rawBody: `{"displayName":"Member"${' '.repeat(ONE_MIB - 40)}}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(justUnder.status, 200, justUnder.text.slice(0, 200));
    const paged = await t.http.get('/api/v1/users?limit=1', a.asAdmin);
    assert.equal(paged.status, 200);
    const next = await t.http.get(`/api/v1/users?limit=1&cursor=${paged.body.nextCursor}`, a.asAdmin);
    assert.equal(next.status, 200, next.text);
    assert.notEqual(next.body.items[0].id, paged.body.items[0].id);
    assert.equal((await t.http.get('/api/v1/me', { kind: 'apiKey', key: a.apiKey.key, user: a.member.externalId })).status, 200);
  });

  it('audits a failed sign-in (by design the one rejection that writes)', async () => {
    const before = { audit: await count(db, 'audit_events'), sessions: await count(db, 'sessions') };
    const res = await t.http.post('/api/v1/auth/login', { org: b.slug, email: b.admin.email, password: 'wrong-password-1' });
    assertError(res, 401, 'invalid_credentials', 'wrong password');
    assert.equal(await count(db, 'audit_events'), before.audit + 1);
    assert.equal(await count(db, 'sessions'), before.sessions);
    const unknownOrg = await t.http.post('/api/v1/auth/login', { org: 'no-such-org', email: b.admin.email, password: b.admin.password });
    assert.deepEqual(unknownOrg.body, res.body, 'an unknown org answers like a wrong password');
  });
});

describe('login rate limiting', () => {
  let t: TestTether;
  let db: pg.Client;
  let org: OrgFixture;
  before(async () => {
    t = await startTestTether({ TETHER_LOGIN_MAX_FAILURES: '3' });
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    org = await createOrgFixture(t, 'limited');
  });
  after(async () => {
    await db?.end();
    await t?.stop();
  });

  it('refuses sign-in after loginMaxFailures failures, even with the right password, and audits it', async () => {
    const max = t.config.auth.loginMaxFailures;
    assert.equal(max, 3);
    const attempt = (password: string) => t.http.post('/api/v1/auth/login', { org: org.slug, email: org.member.email, password });
    for (let i = 0; i < max; i++) assertError(await attempt(`wrong-password-${i}`), 401, 'invalid_credentials', `failure ${i + 1}`);
    const sessionsBefore = await count(db, 'sessions');
    const limited = await attempt(org.member.password);
    assertError(limited, 429, 'rate_limited', 'right password after the limit');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= t.config.auth.loginWindowMinutes * 60, `Retry-After: ${retryAfter}`);
    assert.equal(await count(db, 'sessions'), sessionsBefore, 'no session for a refused sign-in');
    // The email is case-insensitive for the limit too.
    assertError(
      await t.http.post('/api/v1/auth/login', { org: org.slug, email: org.member.email.toUpperCase(), password: org.member.password }),
      429,
      'rate_limited',
      'same account, other case',
    );
    // The limit is per account: the org's admin still signs in from the same address.
    await signIn(t.http, org.slug, org.admin.email, org.admin.password);

    const events = await t.http.get('/api/v1/audit-events?action=auth.login&limit=200', org.admin.session);
    assert.equal(events.status, 200, events.text);
    const forMember = events.body.items.filter((e: any) => e.details.email?.toLowerCase() === org.member.email || e.targetId === org.member.id);
    const outcomes = forMember.map((e: any) => e.outcome);
    assert.equal(outcomes.filter((o: string) => o === 'failure').length, max, JSON.stringify(outcomes));
    assert.equal(outcomes.filter((o: string) => o === 'denied').length, 2, JSON.stringify(outcomes));
    const denied = forMember.find((e: any) => e.outcome === 'denied');
    assert.equal(denied.details.reason, 'rate_limited');
    assert.equal(denied.actorType, 'anonymous');
    assert.ok(denied.requestId, 'a denied sign-in carries the request id');
  });

  it('allows no more than loginMaxFailures guesses when they arrive all at once', async () => {
    const max = t.config.auth.loginMaxFailures;
    const email = 'burst@limited.test';
    const created = await t.http.post('/api/v1/users', { email, displayName: 'Burst', password: 'burst-password-123' }, org.asAdmin);
    assert.equal(created.status, 201, created.text);
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) => t.http.post('/api/v1/auth/login', { org: org.slug, email, password: `guess-${i}-wrong` })),
    );
    const statuses = burst.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, max, `only ${max} guesses may be checked: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, burst.length - max, `${statuses}`);
    assertError(await t.http.post('/api/v1/auth/login', { org: org.slug, email, password: 'burst-password-123' }), 429, 'rate_limited', 'right password after the burst');
  });
});

describe('audit log', () => {
  let t: TestTether;
  let db: pg.Client;
  let org: OrgFixture;
  before(async () => {
    t = await startTestTether();
    db = new pg.Client({ connectionString: t.config.databaseUrl });
    await db.connect();
    org = await createOrgFixture(t, 'audited');
    await createOrgFixture(t, 'other-org');
  });
  after(async () => {
    await db?.end();
    await t?.stop();
  });

  it('records sign-ins and admin actions, pages through them newest first, and hides them from members', async () => {
    const admin = org.admin.session;
    const key = org.asAdmin;
    const ok = (res: Response, status: number) => assert.equal(res.status, status, res.text);
    assertError(await t.http.post('/api/v1/auth/login', { org: org.slug, email: org.admin.email, password: 'wrong-password!' }), 401, 'invalid_credentials', 'failed sign-in');
    const user = await t.http.post('/api/v1/users', { email: 'temp@audited.test', displayName: 'Temp' }, key);
    ok(user, 201);
    const patched = await t.http.patch(`/api/v1/users/${user.body.id}`, { displayName: 'Temporary' }, admin);
    ok(patched, 200);
    const group = await t.http.post('/api/v1/groups', { name: 'Sales' }, admin);
    ok(group, 201);
    ok(await t.http.patch(`/api/v1/groups/${group.body.id}`, { name: 'Sales EMEA' }, key), 200);
    ok(await t.http.put(`/api/v1/groups/${group.body.id}/members/${user.body.id}`, admin), 204);
    ok(await t.http.delete(`/api/v1/groups/${group.body.id}/members/${user.body.id}`, key), 204);
    ok(await t.http.delete(`/api/v1/groups/${group.body.id}`, admin), 204);
    ok(await t.http.delete(`/api/v1/users/${user.body.id}`, key), 204);
    const apiKey = await t.http.post('/api/v1/api-keys', { name: 'ci' }, admin);
    ok(apiKey, 201);
    ok(await t.http.delete(`/api/v1/api-keys/${apiKey.body.apiKey.id}`, key), 200);

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Response = await t.http.get(`/api/v1/audit-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      ok(res, 200);
      assert.ok(res.body.items.length <= 2);
      assert.ok(res.body.items.length > 0 || pages === 0, 'no empty page in the middle');
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
      assert.ok(pages < 100, 'paging does not end');
    } while (cursor);

    const expected = await db.query<{ id: string }>('select e.id::text as id from audit_events e where e.org_id = $1 order by e.id desc', [org.orgId]);
    assert.deepEqual(seen.map((e) => e.id), expected.rows.map((r) => r.id), 'every event of the org exactly once, newest first');
    assert.equal(new Set(seen.map((e) => e.id)).size, seen.length);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1].createdAt >= seen[i].createdAt, 'newest first');

    const find = (action: string, outcome = 'success', targetId?: string) =>
      seen.find((e) => e.action === action && e.outcome === outcome && (targetId === undefined || e.targetId === targetId));
    assert.ok(find('auth.login', 'success', org.admin.id), 'successful sign-in');
    assert.ok(find('auth.login', 'failure', org.admin.id), 'failed sign-in');
    for (const action of ['user.create', 'user.update', 'user.delete']) assert.ok(find(action, 'success', user.body.id), action);
    for (const action of ['group.create', 'group.update', 'group.member.add', 'group.member.remove', 'group.delete']) {
      assert.ok(find(action, 'success', group.body.id), action);
    }
    for (const action of ['api_key.create', 'api_key.revoke']) assert.ok(find(action, 'success', apiKey.body.apiKey.id), action);
    const byKey = find('user.delete')!;
    assert.equal(byKey.actorId, org.admin.id);
    assert.deepEqual(byKey.details, { via: 'api_key', apiKeyId: org.apiKey.id });
    const bySession = find('user.update')!;
    assert.equal(bySession.requestId, patched.headers.get('x-request-id'));
    assert.equal(bySession.details.via, 'session');

    // The action filter pages the same way.
    const logins = await t.http.get('/api/v1/audit-events?action=auth.login&limit=1', admin);
    ok(logins, 200);
    assert.equal(logins.body.items[0].action, 'auth.login');
    assert.ok(logins.body.nextCursor);

    for (const member of [org.member.session, org.asMember]) assertError(await t.http.get('/api/v1/audit-events', member), 403, 'forbidden', 'member');
  });
});

describe('unknown query parameters', () => {
  it('are refused on routes that take no query, like unknown body fields', async () => {
    const t = await startTestTether();
    try {
      const a = await createOrgFixture(t, 'query');
      const res = await t.http.get('/api/v1/me?include=everything', a.asAdmin);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.code, 'validation_failed');
      assert.equal((await t.http.get('/api/v1/me', a.asAdmin)).status, 200);
    } finally {
      await t.stop();
    }
  });
});
